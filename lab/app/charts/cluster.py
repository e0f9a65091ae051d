"""The Cluster lab's figures, as pure functions: a run in, a Plotly figure out.

The speedup, cores and overhead charts read only the per-layout summaries,
so they draw imported runs too; the task stream needs the tasks of a fresh
`ClusterResult`. A layout is coloured by its shape the way the other labs
colour modes: threads of one worker in the threads' blue, single-thread
workers in the processes' green. In the task stream every worker process has
a colour of its own and its threads share it, so one colour is one GIL. The
look (template, reference lines, shading by CPU share) is the other labs'.
"""

from __future__ import annotations

import html
import re

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.app.charts.run import (
    MAX_LABELLED_WORKERS,
    MAX_TIMELINE_HEIGHT,
    SHADING_NOTE,
    THIN_ROW_PX,
    TIMELINE_MARGIN_PX,
    TIMELINE_PANEL_PX,
    TIMELINE_ROW_PX,
    TIMELINE_TITLE_PX,
    fill_alpha,
)
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
from lab.cluster.csvio import ClusterRun
from lab.cluster.results import LOST, ClusterResult, ClusterTask, LayoutSummary
from lab.cluster.settings import LOCAL, ClusterLayout
from lab.core.wording import format_seconds

MIXED_COLOUR = "#CC79A7"
# Okabe-Ito, colour-blind safe: one per worker process in the task stream.
WORKER_COLOURS = ("#0072B2", "#009E73", "#D55E00", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
WORKER_NUMBER = re.compile(r"worker (\d+)")


def layout_colour(layout: ClusterLayout, baseline: bool) -> str:
    """The baseline in batch's grey, more threads in threads' blue, more workers in processes' green."""
    if baseline:
        return mode_colour("batch")
    if layout.workers == 1:
        return mode_colour("threads")
    if layout.threads_per_worker == 1:
        return mode_colour("processes")
    return MIXED_COLOUR


def colours(summaries: list[LayoutSummary]) -> list[str]:
    return [layout_colour(summary.layout, index == 0) for index, summary in enumerate(summaries)]


def ideal_speedups(run: ClusterRun, summaries: list[LayoutSummary]) -> list[float]:
    """What each layout could reach over the first if the GIL did not matter.

    Tasks in flight are bounded by the worker threads and the task count;
    CPU work is also bounded by the machine's usable cores, waiting is not.
    """
    tasks = run.settings.tasks
    cores = run.machine.usable_cores if run.settings.info.kind == "cpu" else float("inf")

    def reach(layout: ClusterLayout) -> float:
        return min(float(layout.slots), float(tasks), cores)

    base = reach(summaries[0].layout)
    return [reach(summary.layout) / base for summary in summaries]


def failure_note(summary: LayoutSummary) -> str:
    if summary.failed:
        return f" · {summary.failed} failed"
    return " · error" if summary.error else ""


def speedup_chart(run: ClusterRun) -> go.Figure:
    """Speedup of each layout over the first, beside what it could reach were the GIL no obstacle."""
    summaries = run.summaries()
    if not summaries:
        return empty_figure("Speedup per layout", "No layout finished, so there is no speedup to show.")
    base = summaries[0].name
    values = [summary.speedup if summary.speedup is not None else 0.0 for summary in summaries]
    names = [summary.name for summary in summaries]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=values,
            marker_color=colours(summaries),
            text=[
                (f"{s.speedup:.2f}×" if s.speedup is not None else "n/a") + failure_note(s) for s in summaries
            ],
            textposition="outside",
            cliponaxis=False,
            customdata=[[s.layout.describe()] for s in summaries],
            hovertemplate="<b>%{x}</b> (%{customdata[0]})<br>%{y:.2f}× "
            + html.escape(base)
            + "<extra></extra>",
        )
    )
    ideal = ideal_speedups(run, summaries)
    fig.add_trace(
        go.Scatter(
            x=names,
            y=ideal,
            mode="lines+markers",
            line={"color": IDEAL_COLOUR, "dash": "dash", "width": 1.5},
            marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 2, "color": IDEAL_COLOUR}},
            hovertemplate="<b>%{x}</b><br>ideal %{y:.2f}× (no GIL in the way)<extra></extra>",
        )
    )
    fig.add_annotation(
        x=names[-1],
        y=ideal[-1],
        text="ideal",
        showarrow=False,
        yshift=14,
        font={"color": IDEAL_COLOUR, "size": 13},
    )
    reference_line(fig, 1.0, f"{base} (1×)", REFERENCE_COLOUR, "dot")
    top = max([*values, *ideal, 1.0])
    fig.update_yaxes(title_text=f"speedup (× {base}, higher is better)", range=[0, top * 1.25])
    fig.update_xaxes(title_text="layout (worker processes x threads each)")
    return styled(fig, f"Speedup per layout vs {base}")


def cores_chart(run: ClusterRun) -> go.Figure:
    """CPU seconds of the tasks ÷ wall seconds per layout: pure Python gets one core per worker process."""
    title = "Cores kept busy per layout (CPU seconds ÷ wall seconds)"
    summaries = run.summaries()
    if not summaries:
        return empty_figure(title, "No layout finished, so there is no CPU use to show.")
    fig = go.Figure(
        go.Bar(
            x=[summary.name for summary in summaries],
            y=[summary.cores_busy for summary in summaries],
            marker_color=colours(summaries),
            text=[f"{summary.cores_busy:.2f}" for summary in summaries],
            textposition="outside",
            cliponaxis=False,
            customdata=[[s.cpu_seconds, s.seconds, s.layout.describe()] for s in summaries],
            hovertemplate=(
                "<b>%{x}</b> (%{customdata[2]})<br>%{y:.2f} cores busy<br>%{customdata[0]:.3f} CPU s over "
                "%{customdata[1]:.3f} wall s<extra></extra>"
            ),
        )
    )
    if run.scheduler == LOCAL:
        usable = run.machine.usable_cores
        reference_line(fig, usable, f"usable cores here: {usable:g}", IDEAL_COLOUR, "dash")
        top = max([*(s.cores_busy for s in summaries), usable, 1.0])
    else:
        threads = summaries[0].layout.slots
        reference_line(fig, threads, f"the cluster's threads: {threads}", IDEAL_COLOUR, "dash")
        top = max([*(s.cores_busy for s in summaries), float(threads), 1.0])
    fig.update_yaxes(title_text="cores busy", range=[0, top * 1.2])
    fig.update_xaxes(title_text="layout")
    return styled(fig, title)


def overhead_chart(run: ClusterRun) -> go.Figure:
    """Dask's cost per task: the worker threads' time outside any task, divided by the tasks."""
    title = "Scheduling overhead per task (slot time outside any task)"
    summaries = run.summaries()
    if not summaries:
        return empty_figure(title, "No layout finished, so there is no overhead to show.")
    fig = go.Figure(
        go.Bar(
            x=[summary.name for summary in summaries],
            y=[summary.overhead_ms_per_task for summary in summaries],
            marker_color=colours(summaries),
            text=[f"{summary.overhead_ms_per_task:.1f} ms" for summary in summaries],
            textposition="outside",
            cliponaxis=False,
            customdata=[[s.startup_seconds, s.layout.slots] for s in summaries],
            hovertemplate=(
                "<b>%{x}</b><br>%{y:.1f} ms per task<br>%{customdata[1]} task slots<br>"
                "cluster start %{customdata[0]:.2f} s (not counted)<extra></extra>"
            ),
        )
    )
    top = max([*(s.overhead_ms_per_task for s in summaries), 1.0])
    fig.update_yaxes(title_text="ms per task (lower is better)", range=[0, top * 1.25])
    fig.update_xaxes(title_text="layout")
    return styled(fig, title)


def worker_colour(label: str) -> str:
    """The colour of the worker process a row's thread belongs to ("worker 2 · thread 1" -> the second)."""
    found = WORKER_NUMBER.match(label)
    if found is None:
        return FAILED_COLOUR
    return WORKER_COLOURS[(int(found.group(1)) - 1) % len(WORKER_COLOURS)]


def row_order(tasks: tuple[ClusterTask, ...]) -> list[str]:
    """Rows by worker, then thread; tasks that never came back at the bottom."""
    labels = sorted({task.label for task in tasks if task.label != LOST}, key=natural_key)
    return labels + ([LOST] if any(task.label == LOST for task in tasks) else [])


def hover_data(tasks: list[ClusterTask]) -> list[list[object]]:
    return [
        [
            html.escape(task.label),
            task.index,
            task.start,
            task.end,
            task.cpu,
            task.span().cpu_share * 100,
            html.escape(task.address or "no worker"),
            task.pid,
            html.escape(task.thread or "-"),
            html.escape(f"error: {task.error or 'failed'}" if not task.ok else "ok"),
        ]
        for task in tasks
    ]


HOVER = (
    "<b>%{customdata[0]}</b> · task %{customdata[1]}<br>"
    "start %{customdata[2]:.3f} s → end %{customdata[3]:.3f} s<br>"
    "CPU %{customdata[4]:.3f} s · CPU share %{customdata[5]:.0f}%<br>"
    "%{customdata[6]} · pid %{customdata[7]} · %{customdata[8]}<br>%{customdata[9]}<extra></extra>"
)


def task_bars(tasks: list[ClusterTask], outline: float) -> go.Bar:
    """One horizontal bar per task in its worker's colour; fill opacity follows its CPU share."""
    line_colours = [worker_colour(task.label) if task.ok else FAILED_COLOUR for task in tasks]
    return go.Bar(
        orientation="h",
        y=[task.label for task in tasks],
        base=[task.start for task in tasks],
        x=[task.wall for task in tasks],
        marker={
            "color": [
                rgba(colour, fill_alpha(task.span().cpu_share))
                for colour, task in zip(line_colours, tasks, strict=True)
            ],
            "line": {"color": line_colours, "width": outline},
        },
        customdata=hover_data(tasks),
        hovertemplate=HOVER,
        showlegend=False,
    )


def failure_marks(tasks: list[ClusterTask]) -> go.Scatter:
    """A red cross where each failed task ended: a task that never ran has no bar to see."""
    return go.Scatter(
        mode="markers",
        x=[task.end for task in tasks],
        y=[task.label for task in tasks],
        marker={"symbol": "x", "size": 10, "color": FAILED_COLOUR},
        customdata=hover_data(tasks),
        hovertemplate=HOVER,
        showlegend=False,
    )


def task_stream_chart(result: ClusterResult) -> go.Figure:
    """Every task of each layout's representative repeat, one row per worker thread, one panel per layout.

    A worker's threads share its colour: pure-Python bars of one worker's two
    threads come out pale (each waits for that worker's one GIL), bars of
    separate workers solid.
    """
    title = "Task stream per worker thread (representative repeat of each layout)"
    summaries = [summary for summary in result.summaries() if summary.tasks]
    if not summaries:
        return empty_figure("Task stream", "No layout finished, so there is no task stream to show.")
    rows = {summary.position: row_order(summary.tasks) for summary in summaries}
    rows_per_panel = [max(1, len(rows[summary.position])) for summary in summaries]
    fixed_px = TIMELINE_MARGIN_PX + (TIMELINE_PANEL_PX + TIMELINE_TITLE_PX) * len(summaries)
    row_px = min(TIMELINE_ROW_PX, (MAX_TIMELINE_HEIGHT - fixed_px) / sum(rows_per_panel))
    height = round(fixed_px + row_px * sum(rows_per_panel))
    outline = 1.0 if row_px >= THIN_ROW_PX else 0.5
    fig = make_subplots(
        rows=len(summaries),
        cols=1,
        shared_xaxes=True,
        row_heights=[TIMELINE_PANEL_PX + row_px * count for count in rows_per_panel],
        vertical_spacing=TIMELINE_TITLE_PX / height,
        subplot_titles=[
            f"{html.escape(s.name)} ({html.escape(s.layout.describe())}) · {format_seconds(s.seconds)} · "
            f"{plural(len(s.tasks), 'task')}"
            for s in summaries
        ],
    )
    for row, summary in enumerate(summaries, start=1):
        fig.add_trace(task_bars(list(summary.tasks), outline), row=row, col=1)
        failed = [task for task in summary.tasks if not task.ok]
        if failed:
            fig.add_trace(failure_marks(failed), row=row, col=1)
        labels = rows[summary.position]
        labelled = len(labels) <= MAX_LABELLED_WORKERS
        fig.update_yaxes(
            categoryorder="array",
            categoryarray=labels,
            autorange="reversed",
            showticklabels=labelled,
            tickmode="array" if labelled else "auto",
            tickvals=labels if labelled else None,
            title_text=None if labelled else plural(len(labels), "thread"),
            tickfont={"size": 11},
            row=row,
            col=1,
        )
    fig.update_xaxes(showticklabels=True, rangemode="tozero")
    fig.update_xaxes(title_text="seconds from the layout's first submit", row=len(summaries), col=1)
    note_below(fig, SHADING_NOTE + "<br>One colour per worker process: its threads share one GIL.")
    styled(fig, title, height=height)
    fig.update_layout(barmode="overlay", bargap=0.25, margin={"b": 150})
    return fig
