"""Figures of a comparison of interpreters: speedup and cores busy per mode, grouped by interpreter."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from lab.app.charts.style import IDEAL_COLOUR, REFERENCE_COLOUR, empty_figure, reference_line, styled
from lab.compare.results import CompareResult, label_of

INTERPRETER_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def interpreter_colour(position: int) -> str:
    return INTERPRETER_COLOURS[position % len(INTERPRETER_COLOURS)]


def bar_marker(colour: str, *, hollow: bool) -> dict[str, Any]:
    """A bar filled with its interpreter's colour, or only outlined when its runs were not steady
    (as the Scaling view draws such a point hollow): its figures deserve less trust."""
    if hollow:
        return {"color": "rgba(0,0,0,0)", "line": {"color": colour, "width": 2}, "pattern": {"shape": "/"}}
    return {"color": colour}


def modes_of(result: CompareResult) -> list[str]:
    seen: list[str] = []
    for run in result.runs:
        seen += [mode for mode in run.modes if mode not in seen]
    return seen


def speedup_by_interpreter(result: CompareResult) -> go.Figure:
    """Each mode's speedup over its own interpreter's batch, one bar per interpreter, with the ideal line."""
    title = "Speedup per mode, by interpreter (each against its own batch)"
    if not result.runs:
        return empty_figure(title, "No interpreter finished, so there is nothing to compare.")
    fig = go.Figure()
    modes = modes_of(result)
    for position, run in enumerate(result.runs):
        label = label_of(run)
        values = [run.summary(mode).speedup if mode in run.modes else None for mode in modes]
        unsteady = run.steadiness is not None and not run.steadiness.steady
        fig.add_bar(
            name=f"{label} (machine not steady)" if unsteady else label,
            x=modes,
            y=values,
            marker=bar_marker(interpreter_colour(position), hollow=unsteady),
            # Batch is 1× by definition: its labels would only crowd the group.
            text=[
                "" if mode == "batch" else f"{value:.2f}×" if value is not None else "n/a"
                for mode, value in zip(modes, values, strict=True)
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"<b>{html.escape(label)}</b><br>%{{x}}: %{{y:.2f}}×<extra></extra>",
        )
    machine = result.machine
    cores = machine.usable_cores if machine is not None else 1.0
    ideal = min(cores, float(result.settings.base.tasks))
    reference_line(fig, 1.0, "batch (1×)", REFERENCE_COLOUR, "dot")
    if ideal != 1.0:
        reference_line(fig, ideal, f"ideal: {ideal:g} usable cores", IDEAL_COLOUR, "dash")
    tallest = [value for run in result.runs for value in (s.speedup for s in run.summaries()) if value]
    fig.update_yaxes(title_text="speedup (× its batch)", range=[0, max([*tallest, ideal, 1.0]) * 1.25])
    fig.update_xaxes(title_text="mode")
    styled(fig, title)
    fig.update_layout(
        barmode="group", showlegend=True, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}
    )
    return fig


def cores_by_interpreter(result: CompareResult) -> go.Figure:
    """Cores kept busy per mode and interpreter: pure-Python threads near 1 with a GIL, more without."""
    title = "Cores busy per mode, by interpreter"
    if not result.runs:
        return empty_figure(title, "No interpreter finished.")
    fig = go.Figure()
    modes = modes_of(result)
    for position, run in enumerate(result.runs):
        label = label_of(run)
        values = [run.summary(mode).cores_busy if mode in run.modes else None for mode in modes]
        fig.add_bar(
            name=label,
            x=modes,
            y=values,
            marker_color=interpreter_colour(position),
            text=[f"{value:.2f}" if value is not None else "" for value in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"<b>{html.escape(label)}</b><br>%{{x}}: %{{y:.2f}} cores busy<extra></extra>",
        )
    machine = result.machine
    if machine is not None:
        reference_line(
            fig, machine.usable_cores, f"usable cores: {machine.usable_cores:g}", IDEAL_COLOUR, "dash"
        )
    fig.update_yaxes(title_text="cores busy (CPU s ÷ wall s)", rangemode="tozero")
    fig.update_xaxes(title_text="mode")
    styled(fig, title)
    fig.update_layout(
        barmode="group", showlegend=True, legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}
    )
    return fig


def batch_cost(result: CompareResult) -> go.Figure:
    """Each interpreter's batch seconds against the first one's: the single-thread cost of a build."""
    title = "Single-thread cost: batch seconds ÷ the first interpreter's"
    rows = [(label, ratio) for label, ratio in result.single_thread_cost() if ratio is not None]
    if not rows:
        return empty_figure(title, "Batch did not run, so there is no single-thread cost to show.")
    fig = go.Figure(
        go.Bar(
            x=[label for label, _ in rows],
            y=[ratio for _, ratio in rows],
            marker_color=[interpreter_colour(position) for position in range(len(rows))],
            text=[f"{ratio:.2f}" for _, ratio in rows],
            textposition="outside",
            cliponaxis=False,
        )
    )
    reference_line(fig, 1.0, "same as the first", REFERENCE_COLOUR, "dot")
    fig.update_yaxes(title_text="× the first interpreter's batch time", rangemode="tozero")
    return styled(fig, title, height=340)
