"""The convoy lab's figures, as pure functions: a run (or one point) in, a DataFrame or a Plotly figure out.

The latency chart reads only the per-point summaries, so it draws imported
runs too. A point's X-ray is drawn by the X-ray's own chart
(`lab.app.charts.xray`); here are only its title and the table of each
thread's shares beside it, which need the thread states of a fresh
`ConvoyResult`. The look (template, reference lines) is `lab.app.charts.style`'s.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from lab.app.charts.style import empty_figure, styled
from lab.app.charts.xray import STATE_NAMES
from lab.convoy.csvio import ConvoyRun
from lab.convoy.results import ConvoyPoint, PointSummary, cpu_threads_text

# One colour per switch interval (Okabe-Ito, in order): a line and its reference share it.
INTERVAL_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def interval_colour(position: int) -> str:
    return INTERVAL_COLOURS[position % len(INTERVAL_COLOURS)]


def log_reference_line(fig: go.Figure, y: float, label: str, colour: str) -> None:
    """`style.reference_line` for a log axis: Plotly places an annotation on a log axis by the exponent.

    `add_hline`'s own label would sit at 10**y and stretch the axis to it, so
    the line goes without one and its label is placed at log10(y).
    """
    fig.add_hline(y=y, line={"color": colour, "dash": "dot", "width": 1.5})
    fig.add_annotation(
        x=1,
        xref="paper",
        xanchor="right",
        y=math.log10(y),
        yanchor="bottom",
        text=label,
        showarrow=False,
        font={"color": colour, "size": 13},
        bgcolor="rgba(255, 255, 255, 0.85)",
    )


def points_frame(run: ConvoyRun) -> pd.DataFrame:
    """One row per point with every figure (the table under the charts)."""
    rows = [summary.to_dict() for summary in run.summaries()]
    columns = list(PointSummary.__dataclass_fields__)
    return pd.DataFrame(rows, columns=columns).sort_values(["switch_interval_ms", "cpu_threads"])


def latency_figure(run: ConvoyRun) -> go.Figure:
    """Probe latency (p50 solid, p99 dashed) against CPU threads, one colour per switch interval.

    Each switch interval is drawn as a dotted reference in its line's colour:
    behind one CPU thread the p50 sits on it. The latency axis is logarithmic,
    so a 0.1 ms reply with no CPU thread and a 100 ms wait behind four share it.
    """
    title = "Probe latency against CPU threads (p50 solid, p99 dashed)"
    frame = points_frame(run)
    frame = frame[frame["p50_ms"].notna()]
    if frame.empty:
        return empty_figure(title, "No point answered a ping, so there is no latency to show.")
    fig = go.Figure()
    for position, interval in enumerate(
        sorted(float(value) for value in frame["switch_interval_ms"].unique())
    ):
        group = frame[frame["switch_interval_ms"] == interval]
        colour = interval_colour(position)
        name = f"{interval:g} ms switch interval"
        for column, dash, label in (("p50_ms", "solid", "p50"), ("p99_ms", "dash", "p99")):
            fig.add_scatter(
                x=group["cpu_threads"],
                y=group[column],
                name=f"{label}, {name}",
                legendgroup=name,
                mode="lines+markers",
                line={"color": colour, "dash": dash, "width": 2.5 if label == "p50" else 1.5},
                marker={"size": 8 if label == "p50" else 6},
                customdata=group[["pings", "mean_ms", "max_ms"]],
                hovertemplate=(
                    f"{label} at %{{x}} CPU threads, {interval:g} ms: %{{y:.2f}} ms<br>"
                    "mean %{customdata[1]:.2f} ms · max %{customdata[2]:.2f} ms · %{customdata[0]} pings"
                    "<extra></extra>"
                ),
            )
        log_reference_line(fig, interval, f"{interval:g} ms", colour)
    styled(fig, title, height=480)
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.2, "x": 0})
    fig.update_xaxes(
        title_text="CPU-bound threads beside the probe",
        tickmode="array",
        tickvals=sorted(frame["cpu_threads"].unique()),
    )
    fig.update_yaxes(title_text="round trip, ms (log)", type="log")
    return fig


def xray_title(point: ConvoyPoint) -> str:
    return f"X-ray: {cpu_threads_text(point.cpu_threads)}, {point.switch_interval_ms:g} ms switch interval"


def xray_shares_frame(point: ConvoyPoint) -> pd.DataFrame:
    """Per labelled thread (probe, cpu-1..K), the share of the point's window in each state."""
    threads: list[dict[str, Any]] = point.xray["threads"] if point.xray is not None else []
    rows = [
        {
            "thread": thread["worker"],
            **{name: round(float(thread[state]), 3) for state, name in STATE_NAMES.items()},
        }
        for thread in threads
    ]
    return pd.DataFrame(rows, columns=["thread", *STATE_NAMES.values()])
