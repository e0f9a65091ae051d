"""The GIL X-ray on the page: each thread's state over time, and how many were on a CPU at once.

One row per thread, coloured segments by state (on a CPU, waiting for a core,
waiting for the GIL or a lock, waiting on I/O, sleeping): pure-Python threads
show the relay (one on a CPU, the rest on the lock, changing every few
milliseconds), processes and free-threaded threads run solid, waiting work
shows as sleep or I/O. Below it, threads on a CPU at once, with the usable
cores drawn. The other threads of the process group (the one that joins, the
pool's helpers) are drawn under the task threads, labelled as such.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lab.app.charts.style import IDEAL_COLOUR, REFERENCE_COLOUR, natural_key, styled

STATE_COLOURS: dict[str, str] = {
    "on_cpu": "#1B7F3B",
    "waiting_for_core": "#F0B323",
    "gil_or_lock": "#D62728",
    "io": "#1F77B4",
    "sleep": "#9ECAE1",
    "other": "#8C8C8C",
    "unknown": "#DDDDDD",
}
STATE_NAMES: dict[str, str] = {
    "on_cpu": "on a CPU",
    "waiting_for_core": "waiting for a core",
    "gil_or_lock": "waiting for the GIL or a lock",
    "io": "waiting on I/O",
    "sleep": "sleeping",
    "other": "other",
    "unknown": "unknown",
}
ROW_PX = 34
MAX_ROWS = 40


def row_label(thread: dict[str, Any]) -> str:
    if thread.get("worker"):
        return f"{thread['worker']} · tid {thread['tid']}"
    return f"(other) {thread.get('name') or 'thread'} · tid {thread['tid']}"


def xray_figure(
    figures: dict[str, Any], title: str, usable_cores: float, since: str = "the mode's start"
) -> go.Figure:
    """The state timeline of one mode repeat's threads, and the threads-on-a-CPU step below it."""
    threads = [*figures["threads"], *figures["others"]][:MAX_ROWS]
    rows = [row_label(thread) for thread in threads]
    t0 = float(figures["t0"])
    height = 360 + ROW_PX * len(rows)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.75, 0.25], vertical_spacing=0.06)
    for state, colour in STATE_COLOURS.items():
        starts, widths, labels, hover = [], [], [], []
        for thread, label in zip(threads, rows, strict=True):
            for start, end, segment_state in thread["segments"]:
                if segment_state != state:
                    continue
                starts.append((float(start) - t0) * 1000)
                widths.append((float(end) - float(start)) * 1000)
                labels.append(label)
                hover.append(
                    f"{label}<br>{STATE_NAMES[state]}<br>{(float(end) - float(start)) * 1000:.1f} ms"
                )
        if not starts:
            continue
        fig.add_trace(
            go.Bar(
                orientation="h",
                name=STATE_NAMES[state],
                y=labels,
                base=starts,
                x=widths,
                marker={"color": colour, "line": {"width": 0}},
                hovertext=hover,
                hoverinfo="text",
            ),
            row=1,
            col=1,
        )
    steps = figures.get("on_cpu_steps") or []
    if steps:
        times = [(float(t) - t0) * 1000 for t, _ in steps] + [(float(figures["t1"]) - t0) * 1000]
        counts = [count for _, count in steps] + [steps[-1][1]]
        fig.add_trace(
            go.Scatter(
                x=times,
                y=counts,
                mode="lines",
                line={"shape": "hv", "color": STATE_COLOURS["on_cpu"]},
                name="task threads on a CPU",
                showlegend=False,
            ),
            row=2,
            col=1,
        )
        fig.add_hline(
            y=usable_cores,
            line={"color": IDEAL_COLOUR, "dash": "dash", "width": 1.5},
            row=2,
            col=1,
            annotation_text=f"usable cores: {usable_cores:g}",
            annotation_position="top right",
        )
        fig.add_hline(y=1, line={"color": REFERENCE_COLOUR, "dash": "dot", "width": 1}, row=2, col=1)
    fig.update_yaxes(
        categoryorder="array",
        categoryarray=sorted(set(rows), key=natural_key),
        autorange="reversed",
        tickfont={"size": 11},
        row=1,
        col=1,
    )
    fig.update_yaxes(title_text="on a CPU<br>at once", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text=f"milliseconds from {since} (drag to zoom)", row=2, col=1)
    styled(fig, title, height=height)
    fig.update_layout(
        barmode="overlay",
        bargap=0.2,
        showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"t": 130},
    )
    return fig


def figures_line(mode: str, figures: dict[str, Any]) -> str:
    """One mode's headline X-ray figures, in a sentence."""
    handoffs = float(figures["handoffs_per_s"])
    every = f" (one every {1000 / handoffs:.1f} ms)" if handoffs > 0 else ""
    return (
        f"**{mode}**: {figures['mean_on_cpu']:.2f} task threads on a CPU at once, "
        f"{handoffs:,.0f} GIL handoffs per second{every}; {figures['samples']:,} samples at "
        f"{figures['rate_hz']:g} Hz"
    )
