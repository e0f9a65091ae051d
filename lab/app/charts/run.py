"""The CPU- and I/O-bound labs' figures: pure functions from a run (or the history table) to a Figure.

Nothing here measures or renders; the page decides where they go. The look
(colours, template, reference lines) is `lab.app.charts.style`'s.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.app.charts.style import (
    FAILED_COLOUR,
    IDEAL_COLOUR,
    REFERENCE_COLOUR,
    empty_figure,
    mode_colour,
    natural_key,
    note_below,
    plural,
    reference_line,
    rgba,
    styled,
)
from lab.core.wording import format_seconds
from lab.engine.results import ModeSummary
from lab.engine.settings import MODES
from lab.engine.spans import TaskSpan
from lab.run.csvio import Run

MIN_FILL_ALPHA = 0.04
TIMELINE_ROW_PX = 22
THIN_ROW_PX = 10
TIMELINE_PANEL_PX = 40
TIMELINE_TITLE_PX = 70
TIMELINE_MARGIN_PX = 190
MAX_TIMELINE_HEIGHT = 1800
MAX_LABELLED_WORKERS = 30
SHADING_NOTE = (
    "Fill shows each task's CPU share: <b>solid</b> = on a CPU throughout · "
    "<b>pale</b> = partly waiting (for the GIL, I/O or sleep)<br>"
    "<b>outline</b> = only waiting · <span style='color:" + FAILED_COLOUR + "'><b>red ✕</b></span> = failed"
)


def fill_alpha(cpu_share: float) -> float:
    """Fill opacity for a task bar: proportional to CPU share, never fully invisible."""
    share = min(1.0, max(0.0, cpu_share))
    return round(MIN_FILL_ALPHA + (1.0 - MIN_FILL_ALPHA) * share, 3)


def failure_note(summary: ModeSummary) -> str:
    if summary.failed:
        return f" · {summary.failed} failed"
    return " · error" if summary.error else ""


def time_chart(result: Run) -> go.Figure:
    """Median wall seconds per mode; error bars span min..max when a mode ran more than once."""
    title = "Wall time per mode"
    summaries = result.summaries()
    if not summaries:
        return empty_figure(title, "No mode finished, so there is no time to show.")
    repeated = any(summary.repeats > 1 for summary in summaries)
    error_y = None
    if repeated:
        title += f" (median of {max(s.repeats for s in summaries)} repeats; whiskers span min–max)"
        error_y = {
            "type": "data",
            "symmetric": False,
            "array": [s.seconds_max - s.seconds for s in summaries],
            "arrayminus": [s.seconds - s.seconds_min for s in summaries],
            "color": REFERENCE_COLOUR,
            "thickness": 1.5,
        }
    fig = go.Figure(
        go.Bar(
            x=[s.mode for s in summaries],
            y=[s.seconds for s in summaries],
            marker_color=[mode_colour(s.mode) for s in summaries],
            error_y=error_y,
            customdata=[[s.seconds_min, s.seconds_max, s.repeats] for s in summaries],
            hovertemplate=(
                "<b>%{x}</b><br>median %{y:.3f} s<br>min %{customdata[0]:.3f} s · "
                "max %{customdata[1]:.3f} s<br>%{customdata[2]} repeat(s)<extra></extra>"
            ),
        )
    )
    for summary in summaries:
        fig.add_annotation(
            x=summary.mode,
            y=summary.seconds_max,
            text=format_seconds(summary.seconds) + failure_note(summary),
            showarrow=False,
            yanchor="bottom",
            yshift=4,
        )
    top = max(max(s.seconds_max for s in summaries), 1e-9)
    fig.update_yaxes(title_text="seconds (wall clock, lower is better)", range=[0, top * 1.2])
    fig.update_xaxes(title_text="mode")
    return styled(fig, title)


def ideal_speedup(result: Run) -> tuple[float, str]:
    """The best speedup the machine allows: usable cores for CPU work, the task count for waiting.

    CPU work also cannot beat its task count (3 tasks never use 4 cores).
    """
    tasks = result.settings.tasks
    if result.settings.kind == "cpu":
        cores = result.machine.usable_cores
        if tasks < cores:
            return float(tasks), f"ideal: {plural(tasks, 'task')}"
        return float(cores), f"ideal: {plural(cores, 'usable core')}"
    return float(tasks), f"ideal: {plural(tasks, 'task')}"


def speedup_chart(result: Run) -> go.Figure:
    """Speedup of each mode over the baseline, against the baseline (1×) and the ideal."""
    base = result.baseline_mode
    title = f"Speedup vs {base} (higher is better)"
    summaries = result.summaries()
    if base is None or not summaries:
        return empty_figure("Speedup", "No mode finished, so there is no speedup to show.")
    values = [s.speedup if s.speedup is not None else 0.0 for s in summaries]
    fig = go.Figure(
        go.Bar(
            x=[s.mode for s in summaries],
            y=values,
            marker_color=[mode_colour(s.mode) for s in summaries],
            text=[
                (f"{s.speedup:.2f}×" if s.speedup is not None else "n/a") + failure_note(s) for s in summaries
            ],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="<b>%{x}</b><br>%{y:.2f}× " + html.escape(base) + "<extra></extra>",
        )
    )
    ideal, ideal_label = ideal_speedup(result)
    if ideal == 1.0:
        reference_line(fig, 1.0, f"{base} (1×) =<br>{ideal_label}", IDEAL_COLOUR, "dash")
    else:
        reference_line(fig, 1.0, f"{base} (1×)", REFERENCE_COLOUR, "dot")
        reference_line(fig, ideal, ideal_label, IDEAL_COLOUR, "dash")
    top = max([*values, ideal, 1.0])
    fig.update_yaxes(title_text=f"speedup (× {base})", range=[0, top * 1.2])
    fig.update_xaxes(title_text="mode")
    return styled(fig, title)


def cores_chart(result: Run) -> go.Figure:
    """CPU seconds ÷ wall seconds per mode: pure-Python threads stay near 1 whatever the core count."""
    title = "Cores kept busy per mode (CPU seconds ÷ wall seconds)"
    summaries = result.summaries()
    if not summaries:
        return empty_figure(title, "No mode finished, so there is no CPU use to show.")
    usable = result.machine.usable_cores
    fig = go.Figure(
        go.Bar(
            x=[s.mode for s in summaries],
            y=[s.cores_busy for s in summaries],
            marker_color=[mode_colour(s.mode) for s in summaries],
            text=[f"{s.cores_busy:.2f}" for s in summaries],
            textposition="outside",
            cliponaxis=False,
            customdata=[[s.cpu_seconds, s.seconds] for s in summaries],
            hovertemplate=(
                "<b>%{x}</b><br>%{y:.2f} cores busy<br>%{customdata[0]:.3f} CPU s over "
                "%{customdata[1]:.3f} wall s<extra></extra>"
            ),
        )
    )
    reference_line(fig, usable, f"usable cores: {usable:g}", IDEAL_COLOUR, "dash")
    if usable != 1:
        reference_line(fig, 1.0, "1 core", REFERENCE_COLOUR, "dot")
    top = max([*(s.cores_busy for s in summaries), usable, 1.0])
    fig.update_yaxes(title_text="cores busy", range=[0, top * 1.2])
    fig.update_xaxes(title_text="mode")
    return styled(fig, title)


def worker_order(spans: tuple[TaskSpan, ...]) -> list[str]:
    """Workers in the order they started their first task, so the chart reads top-down in time."""
    first: dict[str, float] = {}
    for span in spans:
        first[span.worker] = min(first.get(span.worker, span.start), span.start)
    return sorted(first, key=lambda worker: (first[worker], natural_key(worker)))


def span_bars(mode: str, spans: list[TaskSpan], failed: bool, outline: float = 1.0) -> go.Bar:
    """One horizontal bar per task; fill opacity follows CPU share, the outline keeps waits visible."""
    colour = FAILED_COLOUR if failed else mode_colour(mode)
    return go.Bar(
        orientation="h",
        name=f"{mode} (failed)" if failed else mode,
        y=[span.worker for span in spans],
        base=[span.start for span in spans],
        x=[span.wall for span in spans],
        marker={
            "color": [rgba(colour, fill_alpha(span.cpu_share)) for span in spans],
            "line": {"color": colour, "width": 2 * outline if failed else outline},
        },
        customdata=span_hover_data(spans),
        hovertemplate=span_hover_template(mode),
        showlegend=False,
    )


def failure_marks(mode: str, spans: list[TaskSpan]) -> go.Scatter:
    """A red cross where each failed task ended: a task that failed at once has no bar to see."""
    return go.Scatter(
        mode="markers",
        name=f"{mode} (failed)",
        x=[span.end for span in spans],
        y=[span.worker for span in spans],
        marker={"symbol": "x", "size": 10, "color": FAILED_COLOUR},
        customdata=span_hover_data(spans),
        hovertemplate=span_hover_template(mode),
        showlegend=False,
    )


def span_hover_data(spans: list[TaskSpan]) -> list[list[object]]:
    return [
        [
            html.escape(span.worker),
            span.index,
            span.start,
            span.end,
            span.cpu,
            span.waited,
            span.cpu_share * 100,
            html.escape(f"error: {span.error or 'failed'}" if not span.ok else "ok"),
        ]
        for span in spans
    ]


def span_hover_template(mode: str) -> str:
    return (
        "<b>%{customdata[0]}</b> · task %{customdata[1]}<br>"
        "start %{customdata[2]:.3f} s → end %{customdata[3]:.3f} s<br>"
        "CPU %{customdata[4]:.3f} s · waited %{customdata[5]:.3f} s<br>"
        "CPU share %{customdata[6]:.0f}%<br>%{customdata[7]}"
        f"<extra>{html.escape(mode)}</extra>"
    )


def timeline_chart(result: Run) -> go.Figure:
    """Every task of the representative repeat as a bar per worker row, one panel per mode.

    Bars are shaded by CPU share, so pure-Python threads appear as pale bars
    (each waits for the GIL most of the time), processes and GIL-releasing C
    code as solid bars, and waiting work as outlines. With many workers the
    rows get thinner, so the figure never grows past MAX_TIMELINE_HEIGHT.
    """
    title = "Task timeline (representative repeat of each mode)"
    summaries = result.summaries()
    if not summaries:
        return empty_figure("Task timeline", "No mode finished, so there is no timeline to show.")
    if not any(summary.tasks for summary in summaries):
        return empty_figure(
            "Task timeline",
            "No per-task spans to draw: runs imported from CSV keep only their per-mode summaries.",
        )
    workers = {s.mode: worker_order(s.tasks) for s in summaries}
    rows_per_panel = [max(1, len(workers[s.mode])) for s in summaries]
    fixed_px = TIMELINE_MARGIN_PX + (TIMELINE_PANEL_PX + TIMELINE_TITLE_PX) * len(summaries)
    row_px = min(TIMELINE_ROW_PX, (MAX_TIMELINE_HEIGHT - fixed_px) / sum(rows_per_panel))
    panel_px = [TIMELINE_PANEL_PX + row_px * rows for rows in rows_per_panel]
    height = round(fixed_px + row_px * sum(rows_per_panel))
    outline = 1.0 if row_px >= THIN_ROW_PX else 0.5
    fig = make_subplots(
        rows=len(summaries),
        cols=1,
        shared_xaxes=True,
        row_heights=panel_px,
        vertical_spacing=TIMELINE_TITLE_PX / height,
        subplot_titles=[
            f"{html.escape(s.mode)} · {format_seconds(s.seconds)} · "
            f"{plural(len(s.tasks), 'task')} on {plural(s.workers, 'worker')}"
            for s in summaries
        ],
    )
    for row, summary in enumerate(summaries, start=1):
        done = [span for span in summary.tasks if span.ok]
        failed = [span for span in summary.tasks if not span.ok]
        if done:
            fig.add_trace(span_bars(summary.mode, done, failed=False, outline=outline), row=row, col=1)
        if failed:
            fig.add_trace(span_bars(summary.mode, failed, failed=True, outline=outline), row=row, col=1)
            fig.add_trace(failure_marks(summary.mode, failed), row=row, col=1)
        rows = workers[summary.mode]
        fig.update_yaxes(
            categoryorder="array",
            categoryarray=rows,
            autorange="reversed",
            showticklabels=len(rows) <= MAX_LABELLED_WORKERS,
            tickmode="array" if len(rows) <= MAX_LABELLED_WORKERS else "auto",
            tickvals=rows if len(rows) <= MAX_LABELLED_WORKERS else None,
            title_text=plural(len(rows), "worker") if len(rows) > MAX_LABELLED_WORKERS else None,
            tickfont={"size": 11},
            row=row,
            col=1,
        )
        if not summary.tasks:
            fig.add_annotation(
                text="no tasks recorded",
                x=0.5,
                y=0.5,
                xref="x domain",
                yref="y domain",
                showarrow=False,
                row=row,
                col=1,
            )
    fig.update_xaxes(showticklabels=True, rangemode="tozero")
    fig.update_xaxes(title_text="seconds from the mode's start", row=len(summaries), col=1)
    note_below(fig, SHADING_NOTE)
    styled(fig, title, height=height)
    fig.update_layout(barmode="overlay", bargap=0.25, margin={"b": 130})
    return fig


def history_speedup_chart(history_df: pd.DataFrame) -> go.Figure:
    """Speedup of each mode across the history's runs; takes `lab.run.csvio.modes_table(history)`.

    A mode whose tasks failed is left out (and counted in a note): a mode that
    failed fast would otherwise plot as a huge, meaningless speedup.
    """
    title = "Speedup by mode across runs"
    if history_df.empty:
        return empty_figure(title, "No runs yet.")
    clean = history_df["speedup"].notna()
    if "failed" in history_df:
        clean &= history_df["failed"].fillna(0) == 0
    if "error" in history_df:
        clean &= history_df["error"].isna()
    usable = history_df[clean]
    left_out = len(history_df) - len(usable)
    if usable.empty:
        return empty_figure(title, "No mode has finished without failures yet.")
    runs = history_df.drop_duplicates("run").sort_values("run")
    labels = runs["label"] if "label" in runs else runs["run"].map(lambda number: f"#{number}")
    present = list(dict.fromkeys(usable["mode"]))
    ordered = [mode for mode in MODES if mode in present] + [mode for mode in present if mode not in MODES]
    fig = go.Figure()
    for mode in ordered:
        rows = usable[usable["mode"] == mode].sort_values("run")
        fig.add_trace(
            go.Scatter(
                x=rows["run"],
                y=rows["speedup"],
                mode="lines+markers",
                name=mode,
                line={"color": mode_colour(mode), "width": 2},
                marker={"size": 9},
                hovertemplate=f"<b>{html.escape(mode)}</b><br>run %{{x}}<br>%{{y:.2f}}×<extra></extra>",
            )
        )
    reference_line(fig, 1.0, "baseline (1×)", REFERENCE_COLOUR, "dot")
    fig.update_xaxes(title_text="run", tickmode="array", tickvals=list(runs["run"]), ticktext=list(labels))
    fig.update_yaxes(title_text="speedup (× baseline, batch when it ran)", rangemode="tozero")
    if left_out:
        fig.add_annotation(
            text=f"{plural(left_out, 'mode result')} with failed tasks left out",
            x=1,
            y=0,
            xref="paper",
            yref="paper",
            xanchor="right",
            yanchor="top",
            yshift=-50,
            showarrow=False,
            font={"size": 12, "color": FAILED_COLOUR},
        )
    styled(fig, title)
    fig.update_layout(
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.04, "yanchor": "bottom", "title": {"text": "mode "}},
        margin={"t": 120, "b": 90},
    )
    return fig
