"""The page's figures: right traces, panels, reference lines and shading, for measured and imported runs."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import pytest
from factories import (
    ModeProfile,
    failed_http_result,
    make_result,
    repeated_result,
    sha256_result,
    sleep_result,
    squares_result,
)

from lab.app.charts.run import (
    MAX_TIMELINE_HEIGHT,
    cores_chart,
    fill_alpha,
    history_speedup_chart,
    ideal_speedup,
    speedup_chart,
    time_chart,
    timeline_chart,
)
from lab.app.charts.style import FAILED_COLOUR, MODE_COLOURS
from lab.app.history import modes_table
from lab.engine.settings import MODES
from lab.engine.spans import TaskSpan
from lab.run.csvio import from_csv, to_csv


def annotation_texts(fig: go.Figure) -> list[str]:
    return [annotation.text for annotation in fig.layout.annotations]


def hline_levels(fig: go.Figure) -> list[float]:
    return sorted(shape.y0 for shape in fig.layout.shapes if shape.type == "line" and shape.y0 == shape.y1)


def alpha(colour: str) -> float:
    match = re.fullmatch(r"rgba\(\d+,\d+,\d+,([0-9.]+)\)", colour)
    assert match, colour
    return float(match.group(1))


def bars(fig: go.Figure) -> list[go.Bar]:
    return [trace for trace in fig.data if isinstance(trace, go.Bar)]


def rgb(colour: str) -> tuple[int, int, int]:
    if colour.startswith("#"):
        return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    red, green, blue = re.findall(r"\d+", colour)[:3]
    return (int(red), int(green), int(blue))


def test_every_mode_has_its_own_colour() -> None:
    assert set(MODE_COLOURS) == set(MODES)
    assert len(set(MODE_COLOURS.values())) == len(MODES)
    assert FAILED_COLOUR not in MODE_COLOURS.values()


@pytest.mark.parametrize("chart", [time_chart, speedup_chart, cores_chart])
def test_bar_charts_show_each_mode_once_in_its_colour(chart) -> None:
    result = sleep_result()
    (trace,) = bars(chart(result))
    assert list(trace.x) == list(result.modes)
    assert list(trace.marker.color) == [MODE_COLOURS[mode] for mode in result.modes]


def test_every_chart_uses_the_same_colour_for_a_mode() -> None:
    result = squares_result()
    timeline = timeline_chart(result)
    for trace in bars(timeline):
        assert rgb(trace.marker.line.color) == rgb(MODE_COLOURS[trace.name])
    history = history_speedup_chart(modes_table([result]))
    for trace in history.data:
        assert trace.line.color == MODE_COLOURS[trace.name]


def test_time_chart_shows_medians_with_min_max_error_bars_when_repeated() -> None:
    result = repeated_result()
    fig = time_chart(result)
    (trace,) = bars(fig)
    summaries = result.summaries()
    assert list(trace.y) == [s.seconds for s in summaries]
    assert list(trace.error_y.array) == pytest.approx([s.seconds_max - s.seconds for s in summaries])
    assert list(trace.error_y.arrayminus) == pytest.approx([s.seconds - s.seconds_min for s in summaries])
    assert "median of 3 repeats" in fig.layout.title.text
    assert "seconds" in fig.layout.yaxis.title.text
    assert "2.00 s" in annotation_texts(fig)


def test_time_chart_has_no_error_bars_for_a_single_repeat() -> None:
    (trace,) = bars(time_chart(squares_result()))
    assert trace.error_y.array is None


def test_time_chart_marks_modes_with_failures() -> None:
    texts = annotation_texts(time_chart(failed_http_result()))
    assert any("3 failed" in text for text in texts)


def test_speedup_chart_for_cpu_work_has_batch_and_usable_core_lines() -> None:
    result = squares_result()
    fig = speedup_chart(result)
    (trace,) = bars(fig)
    assert list(trace.y) == [result.speedup(mode) for mode in result.modes]
    assert hline_levels(fig) == [1.0, 2.0]
    texts = annotation_texts(fig)
    assert "batch (1×)" in texts
    assert "ideal: 2 usable cores" in texts
    assert "speedup" in fig.layout.yaxis.title.text


def test_speedup_chart_for_waiting_work_uses_the_task_count_as_ideal() -> None:
    fig = speedup_chart(sleep_result())
    assert hline_levels(fig) == [1.0, 10.0]
    assert "ideal: 10 tasks" in annotation_texts(fig)
    assert fig.layout.yaxis.range[1] > 10


def test_speedup_ideal_for_cpu_work_never_exceeds_the_task_count() -> None:
    few = make_result("squares", {"batch": ModeProfile((1.0,), 1.0)}, tasks=1, usable_cores=4.0)
    assert ideal_speedup(few) == (1.0, "ideal: 1 task")
    assert ideal_speedup(squares_result(usable_cores=1.5)) == (1.5, "ideal: 1.5 usable cores")


def test_speedup_chart_on_one_core_draws_one_shared_line() -> None:
    fig = speedup_chart(squares_result(usable_cores=1.0))
    assert hline_levels(fig) == [1.0]
    assert any("ideal: 1 usable core" in text for text in annotation_texts(fig))


def test_speedup_chart_names_the_baseline_when_batch_did_not_run() -> None:
    result = make_result(
        "sleep", {"threads": ModeProfile((0.2,), 0.01, workers=10), "asyncio": ModeProfile((0.1,), 0.01)}
    )
    fig = speedup_chart(result)
    assert "threads (1×)" in annotation_texts(fig)
    assert "vs threads" in fig.layout.title.text


def test_cores_chart_shows_threads_stuck_near_one_core() -> None:
    result = squares_result()
    fig = cores_chart(result)
    (trace,) = bars(fig)
    busy = dict(zip(trace.x, trace.y, strict=True))
    assert busy["threads"] == pytest.approx(1.0)
    assert busy["processes"] == pytest.approx(1.92)
    assert 2.0 in hline_levels(fig)
    assert "usable cores: 2" in annotation_texts(fig)


def test_timeline_has_one_panel_per_mode_sharing_the_time_axis() -> None:
    result = sleep_result()
    fig = timeline_chart(result)
    titles = [text for text in annotation_texts(fig) if " · " in text and "tasks on" in text]
    assert [title.split(" · ")[0] for title in titles] == list(result.modes)
    panels = {trace.yaxis for trace in fig.data}
    assert len(panels) == len(result.modes)
    bottom = f"xaxis{len(result.modes)}"
    for number in range(1, len(result.modes)):
        assert fig.layout[f"xaxis{number if number > 1 else ''}"].matches == bottom.replace("axis", "")
    assert "seconds from the mode's start" in fig.layout[bottom].title.text
    assert fig.layout.barmode == "overlay"


def test_timeline_draws_one_bar_per_task_from_start_to_end() -> None:
    result = squares_result()
    fig = timeline_chart(result)
    threads = next(trace for trace in bars(fig) if trace.name == "threads")
    spans = result.summary("threads").tasks
    assert list(threads.base) == [span.start for span in spans]
    assert list(threads.x) == pytest.approx([span.wall for span in spans])
    assert list(threads.y) == [span.worker for span in spans]
    assert threads.orientation == "h"


def test_timeline_fill_opacity_follows_cpu_share() -> None:
    fig = timeline_chart(squares_result())
    by_mode = {trace.name: [alpha(colour) for colour in trace.marker.color] for trace in bars(fig)}
    assert max(by_mode["threads"]) < 0.25 < min(by_mode["processes"])
    assert min(by_mode["batch"]) > 0.95
    waiting = timeline_chart(sleep_result())
    assert all(alpha(c) < 0.1 for trace in bars(waiting) for c in trace.marker.color)
    assert all(trace.marker.line.width >= 1 for trace in bars(waiting))


def test_fill_alpha_is_ordered_by_cpu_share_and_never_invisible() -> None:
    shares = [0.0, 0.01, 0.1, 0.3, 0.5, 0.9, 1.0, 1.5]
    alphas = [fill_alpha(share) for share in shares]
    assert alphas == sorted(alphas)
    assert alphas[0] > 0 and alphas[-1] == 1.0


def test_timeline_bar_opacity_orders_like_cpu_share_within_a_panel() -> None:
    spans = tuple(
        TaskSpan(index, f"t{index}", 1, 0.0, 1.0, cpu, value="ok")
        for index, cpu in enumerate([0.9, 0.1, 0.5, 0.0, 1.0])
    )
    result = make_result("squares", {"batch": ModeProfile((1.0,), 1.0)}, tasks=5)
    result = type(result)(
        settings=result.settings,
        machine=result.machine,
        runs=(type(result.runs[0])("batch", 0, 1.0, 0.0, 2.5, 5, spans),),
    )
    (trace,) = bars(timeline_chart(result))
    alphas = [alpha(colour) for colour in trace.marker.color]
    shares = [span.cpu_share for span in spans]
    assert sorted(range(5), key=lambda i: alphas[i]) == sorted(range(5), key=lambda i: shares[i])


def test_timeline_marks_failed_tasks_in_red_with_the_error_in_the_hover() -> None:
    fig = timeline_chart(failed_http_result())
    failed = [trace for trace in fig.data if trace.name == "threads (failed)"]
    assert {type(trace) for trace in failed} == {go.Bar, go.Scatter}
    bar = next(trace for trace in failed if isinstance(trace, go.Bar))
    assert bar.marker.line.color == FAILED_COLOUR
    assert len(bar.x) == 3
    assert all("ConnectionError: connection refused" in row[7] for row in bar.customdata)
    ok = next(trace for trace in fig.data if trace.name == "threads")
    assert len(ok.x) == 7 and all(row[7] == "ok" for row in ok.customdata)


def test_timeline_hover_lists_worker_task_times_cpu_wait_and_share() -> None:
    fig = timeline_chart(squares_result())
    trace = next(trace for trace in bars(fig) if trace.name == "threads")
    template = trace.hovertemplate
    for part in ("customdata[0]", "task", "start", "end", "CPU", "waited", "CPU share"):
        assert part in template
    span = squares_result().summary("threads").tasks[0]
    row = list(trace.customdata[0])
    assert row[:6] == [span.worker, span.index, span.start, span.end, span.cpu, pytest.approx(span.waited)]
    assert row[6] == pytest.approx(span.cpu_share * 100)


def test_timeline_explains_the_shading() -> None:
    texts = annotation_texts(timeline_chart(squares_result()))
    note = next(text for text in texts if "CPU share" in text)
    for word in ("solid", "pale", "outline", "failed"):
        assert word in note


def test_timeline_stays_readable_with_a_hundred_workers() -> None:
    result = make_result(
        "squares",
        {
            "batch": ModeProfile((2.0,), 1.0),
            "threads": ModeProfile((2.1,), 1.0, workers=100),
            "processes": ModeProfile((1.0,), 2.0, workers=2),
            "asyncio": ModeProfile((2.0,), 1.0, workers=100),
        },
        tasks=100,
    )
    fig = timeline_chart(result)
    assert fig.layout.height <= MAX_TIMELINE_HEIGHT
    assert fig.layout.yaxis2.showticklabels is False and "100 workers" in fig.layout.yaxis2.title.text
    assert fig.layout.yaxis3.showticklabels is True
    small = timeline_chart(squares_result())
    assert small.layout.height < fig.layout.height


def test_timeline_orders_workers_naturally() -> None:
    fig = timeline_chart(sleep_result())
    assert list(fig.layout.yaxis2.categoryarray) == [f"worker-{n}" for n in range(1, 11)]


def test_imported_runs_have_no_timeline_but_all_other_charts() -> None:
    result = repeated_result()
    (imported,) = from_csv(to_csv([result]))
    fig = timeline_chart(imported)
    assert not fig.data
    assert any("imported from CSV" in text for text in annotation_texts(fig))
    for chart in (time_chart, speedup_chart, cores_chart):
        assert bars(chart(imported))[0].to_plotly_json() == bars(chart(result))[0].to_plotly_json()
        assert hline_levels(chart(imported)) == hline_levels(chart(result))


def test_charts_of_a_run_without_modes_say_so() -> None:
    result = squares_result()
    empty = type(result)(settings=result.settings, machine=result.machine, runs=(), status="crashed")
    for chart in (time_chart, speedup_chart, cores_chart, timeline_chart):
        fig = chart(empty)
        assert not fig.data and annotation_texts(fig)


def test_history_chart_has_one_line_per_mode_across_runs() -> None:
    history = [squares_result(), repeated_result(), sha256_result(run_id="sha01")]
    fig = history_speedup_chart(modes_table(history))
    assert [trace.name for trace in fig.data] == ["batch", "threads", "processes"]
    threads = next(trace for trace in fig.data if trace.name == "threads")
    assert list(threads.x) == [1, 2, 3]
    assert list(threads.y) == pytest.approx([run.speedup("threads") for run in history])
    assert list(fig.layout.xaxis.ticktext) == ["#1 squares", "#2 squares", "#3 sha256"]
    assert 1.0 in hline_levels(fig)
    assert fig.layout.showlegend is True


def test_history_chart_leaves_out_modes_with_failures() -> None:
    fig = history_speedup_chart(modes_table([squares_result(), failed_http_result()]))
    assert "asyncio" not in [trace.name for trace in fig.data]
    threads = next(trace for trace in fig.data if trace.name == "threads")
    assert list(threads.x) == [1]
    assert any("2 mode results with failed tasks left out" in text for text in annotation_texts(fig))


def test_history_chart_of_an_empty_history_says_so() -> None:
    fig = history_speedup_chart(modes_table([]))
    assert not fig.data and "No runs yet." in annotation_texts(fig)


@pytest.mark.parametrize("make", [squares_result, sleep_result, repeated_result, failed_http_result])
def test_every_figure_is_valid_plotly(make) -> None:
    result = make()
    for fig in (time_chart(result), speedup_chart(result), cores_chart(result), timeline_chart(result)):
        data = json.loads(fig.to_json())  # what the browser gets: traces, a title, labelled axes
        assert data["data"] and all(trace["type"] in ("bar", "scatter") for trace in data["data"])
        assert data["layout"]["title"]["text"]
        axes = [value for key, value in data["layout"].items() if key.startswith(("xaxis", "yaxis"))]
        assert any(axis.get("title", {}).get("text") for axis in axes)
        assert fig.layout.template.layout.paper_bgcolor == "white"
