"""The X-ray chart: a row per thread, one colour per state, the on-CPU step with the cores drawn."""

from __future__ import annotations

from typing import Any

import pytest

from lab.app.charts.xray import STATE_COLOURS, figures_line, xray_figure


def relay_figures() -> dict[str, Any]:
    """Two pure-Python threads handing the GIL over every 5 ms, and the thread that joins them."""
    t0 = 100.0
    segments_a = [
        [t0 + i * 0.005, t0 + (i + 1) * 0.005, "on_cpu" if i % 2 == 0 else "gil_or_lock"] for i in range(8)
    ]
    segments_b = [
        [t0 + i * 0.005, t0 + (i + 1) * 0.005, "gil_or_lock" if i % 2 == 0 else "on_cpu"] for i in range(8)
    ]

    def thread(tid: int, worker: str | None, segments: list[list[Any]]) -> dict[str, Any]:
        return {"pid": 1, "tid": tid, "name": "python", "worker": worker, "segments": segments}

    return {
        "t0": t0,
        "t1": t0 + 0.04,
        "rate_hz": 250.0,
        "samples": 10,
        "mean_on_cpu": 1.0,
        "handoffs_per_s": 200.0,
        "threads": [thread(11, "thread-1", segments_a), thread(12, "thread-2", segments_b)],
        "others": [thread(10, None, [[t0, t0 + 0.04, "gil_or_lock"]])],
        "on_cpu_steps": [[t0, 1], [t0 + 0.02, 1]],
    }


def test_each_thread_is_a_row_and_each_state_a_colour() -> None:
    fig = xray_figure(relay_figures(), "X-ray of threads", 2.0)
    bars = [trace for trace in fig.data if trace.type == "bar"]
    assert {trace.marker.color for trace in bars} == {STATE_COLOURS["on_cpu"], STATE_COLOURS["gil_or_lock"]}
    rows = {label for trace in bars for label in trace.y}
    assert rows == {"thread-1 · tid 11", "thread-2 · tid 12", "(other) python · tid 10"}
    on_cpu = next(trace for trace in bars if trace.marker.color == STATE_COLOURS["on_cpu"])
    assert min(on_cpu.base) == 0.0 and max(on_cpu.base) < 40  # milliseconds from the window's start
    assert sum(on_cpu.x) == pytest.approx(40)  # the relay: exactly one thread on a CPU at every moment


def test_the_time_axis_says_where_it_counts_from_and_the_cores_are_drawn() -> None:
    fig = xray_figure(relay_figures(), "X-ray", 2.0, since="the point's start")
    assert fig.layout.xaxis2.title.text == "milliseconds from the point's start (drag to zoom)"
    assert any(shape.y0 == 2.0 for shape in fig.layout.shapes)


def test_the_headline_reads_the_handoffs_as_an_interval() -> None:
    line = figures_line("threads", relay_figures())
    assert "1.00 task threads on a CPU at once" in line and "one every 5.0 ms" in line
