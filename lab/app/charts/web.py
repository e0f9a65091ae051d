"""The web lab's figures, as pure functions: a run in, a DataFrame or a Plotly figure out.

Throughput and latency percentiles read only the per-endpoint summaries, so
they draw imported runs too; the series over time need the request samples
of a fresh `WebResult`. The page composes these; nothing here talks to
Streamlit.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lab.web.csvio import WebRun
from lab.web.results import WebResult

COLORS = {
    "def_wait": "#4C78A8",
    "async_wait": "#54A24B",
    "async_blocking": "#E45756",
    "def_cpu": "#72B7B2",
    "async_cpu": "#F58518",
}
CEILING_COLOR = "rgba(120, 120, 120, 0.35)"
PERCENTILE_COLUMNS = {"p50": "p50_ms", "p95": "p95_ms", "p99": "p99_ms", "max": "max_ms"}


def summary_frame(run: WebRun) -> pd.DataFrame:
    """One row per endpoint with every summary figure (the table under the charts)."""
    return pd.DataFrame([summary.to_dict() for summary in run.summaries()])


def throughput_figure(run: WebRun) -> go.Figure:
    """Measured requests/s per endpoint, with the theoretical ceiling drawn beside each bar."""
    frame = summary_frame(run)
    figure = go.Figure()
    if frame.empty:
        return figure
    figure.add_bar(
        name="ceiling",
        x=frame["endpoint"],
        y=frame["ceiling"],
        marker_color=CEILING_COLOR,
        text=[f"{value:,.0f}" if pd.notna(value) else "" for value in frame["ceiling"]],
        textposition="outside",
        hovertemplate="%{x}: ceiling %{y:,.1f} req/s<extra></extra>",
    )
    figure.add_bar(
        name="measured",
        x=frame["endpoint"],
        y=frame["throughput"],
        marker_color=[COLORS[name] for name in frame["endpoint"]],
        text=[f"{value:,.1f}" if value < 10 else f"{value:,.0f}" for value in frame["throughput"]],
        textposition="outside",
        hovertemplate="%{x}: %{y:,.1f} req/s measured<extra></extra>",
    )
    figure.update_layout(
        barmode="group",
        title="Throughput per endpoint, beside its ceiling",
        yaxis_title="requests per second",
        legend_title_text="",
    )
    return figure


def latency_figure(run: WebRun) -> go.Figure:
    """Latency percentiles per endpoint, on a log axis: 200 ms and 20 s on one chart."""
    frame = summary_frame(run)
    figure = go.Figure()
    if frame.empty:
        return figure
    for label, column in PERCENTILE_COLUMNS.items():
        figure.add_bar(
            name=label,
            x=frame["endpoint"],
            y=frame[column],
            hovertemplate=f"%{{x}} {label}: %{{y:,.0f}} ms<extra></extra>",
        )
    figure.update_layout(
        barmode="group",
        title="Request latency per endpoint (answered requests)",
        yaxis_title="milliseconds (log)",
        yaxis_type="log",
        legend_title_text="percentile",
    )
    return figure


def ping_frame(result: WebResult) -> pd.DataFrame:
    """Every ping the probe sent beside a load: when it was sent and how long it waited."""
    rows = [
        {"endpoint": run.endpoint, "sent_at": at, "latency_ms": latency}
        for run in result.endpoints
        if run.probe is not None
        for at, latency in zip(run.probe.samples.at, run.probe.samples.latency_ms, strict=True)
    ]
    return pd.DataFrame(rows, columns=["endpoint", "sent_at", "latency_ms"])


def ping_figure(result: WebResult) -> go.Figure | None:
    """The ping probe's latency over time per loaded endpoint; None when no probe ran.

    A blocked event loop shows as tall points and long gaps (the probe sends
    one ping at a time); a loop merely contending for the GIL as a low band.
    """
    probed = [(run, run.probe) for run in result.endpoints if run.probe is not None]
    if not probed:
        return None
    figure = go.Figure()
    for run, probe in probed:
        samples = probe.samples
        figure.add_scatter(
            name=run.endpoint,
            x=samples.at,
            y=samples.latency_ms,
            mode="lines+markers",
            line_color=COLORS[run.endpoint],
            hovertemplate=f"{run.endpoint}: ping sent at %{{x:.2f}} s waited %{{y:,.0f}} ms<extra></extra>",
        )
        if probe.unanswered_ms is not None:
            figure.add_scatter(
                name=f"{run.endpoint}: unanswered",
                x=[run.seconds - probe.unanswered_ms / 1000],
                y=[probe.unanswered_ms],
                mode="markers",
                marker={"symbol": "triangle-up", "size": 12, "color": COLORS[run.endpoint]},
                hovertemplate="still waiting when the window closed: at least %{y:,.0f} ms<extra></extra>",
            )
    figure.update_layout(
        title="Ping probe beside the load: is the event loop free?",
        xaxis_title="seconds since the load started (ping sent)",
        yaxis_title="ping latency, ms (log)",
        yaxis_type="log",
        xaxis_range=[0, max(run.seconds for run, _ in probed) * 1.02],  # the whole window, pings or not
        showlegend=True,  # an unanswered ping alone must still say what it is
    )
    return figure


def latency_over_time_frame(result: WebResult) -> pd.DataFrame:
    """Every answered request: when its answer arrived and how long it took."""
    rows = [
        {"endpoint": run.endpoint, "at": at, "latency_ms": latency}
        for run in result.endpoints
        for at, latency in zip(run.samples.at, run.samples.latency_ms, strict=True)
    ]
    return pd.DataFrame(rows, columns=["endpoint", "at", "latency_ms"])


def latency_over_time_figure(result: WebResult) -> go.Figure:
    """Each answered request as a dot at the moment it arrived: waves, queues and stalls show."""
    frame = latency_over_time_frame(result)
    figure = go.Figure()
    for endpoint, group in frame.groupby("endpoint", sort=False):
        figure.add_scattergl(
            name=str(endpoint),
            x=group["at"],
            y=group["latency_ms"],
            mode="markers",
            marker={"size": 4, "color": COLORS[str(endpoint)], "opacity": 0.6},
            hovertemplate=f"{endpoint}: answered at %{{x:.2f}} s after %{{y:,.0f}} ms<extra></extra>",
        )
    figure.update_layout(
        title="Request latency over time",
        xaxis_title="seconds since the load started (answer arrived)",
        yaxis_title="latency, ms (log)",
        yaxis_type="log",
    )
    return figure
