"""The Compare view's figures: a bar per interpreter in every mode, the reference lines, the batch cost."""

from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go
from factories import ModeProfile, make_result

from lab.app.charts.compare import (
    batch_cost,
    cores_by_interpreter,
    interpreter_colour,
    speedup_by_interpreter,
)
from lab.compare.results import CompareResult
from lab.compare.runner import merge_rounds
from lab.compare.settings import CompareSettings, parse_pythons
from lab.core.interpreters import RunInterpreter
from lab.core.steadiness import judge
from lab.engine.results import RunResult

PROFILES = {
    "batch": ModeProfile((2.0,), 1.0),
    "threads": ModeProfile((2.0,), 1.0, workers=8),
    "processes": ModeProfile((1.05,), 1.9, workers=2),
}


def under(name: str, gil: str | None, batch_s: float, threads_s: float) -> RunResult:
    """A squares run as if measured under `name` with the GIL switch `gil`."""
    profiles = {**PROFILES, "batch": ModeProfile((batch_s,), 1.0), "threads": ModeProfile((threads_s,), 1.0)}
    run = make_result("squares", profiles)
    free_threaded = name.endswith("t")
    interpreter = RunInterpreter(name, "3.13.3", "CPython", free_threaded, gil != "off", f"/py/{name}", gil)
    return replace(run, settings=replace(run.settings, python=name, gil=gil), interpreter=interpreter)


def comparison() -> CompareResult:
    first = under("3.11", None, 2.0, 2.0)
    choices = parse_pythons("3.11,3.13t:gil=off")
    return CompareResult(CompareSettings(first.settings, choices), (first, under("3.13t", "off", 2.6, 1.3)))


def line_levels(fig: go.Figure) -> list[float]:
    return sorted(shape.y0 for shape in fig.layout.shapes if shape.type == "line")


def test_speedup_has_a_bar_per_interpreter_in_every_mode_and_labels_only_what_can_differ() -> None:
    fig = speedup_by_interpreter(comparison())
    assert [trace.name for trace in fig.data] == ["3.11", "3.13t:gil=off"]
    for trace in fig.data:
        assert list(trace.x) == ["batch", "threads", "processes"]
        assert trace.text[0] == ""  # batch is 1× by definition: no label to crowd the group
    assert list(fig.data[1].text[1:]) == ["2.00×", f"{2.6 / 1.05:.2f}×"]
    assert line_levels(fig) == [1.0, 2.0]  # batch, and the ideal on 2 usable cores
    assert fig.layout.yaxis.range[1] >= 2.6 / 1.05  # the tallest bar and its label fit


def test_cores_busy_draws_the_usable_cores() -> None:
    fig = cores_by_interpreter(comparison())
    assert len(fig.data) == 2 and line_levels(fig) == [2.0]
    assert fig.data[1].y[2] == 1.9


def test_batch_cost_is_each_batch_against_the_first_interpreters() -> None:
    fig = batch_cost(comparison())
    (bars,) = fig.data
    assert list(bars.x) == ["3.11", "3.13t:gil=off"]
    assert list(bars.y) == [1.0, 1.3]
    assert line_levels(fig) == [1.0]


def test_an_interpreter_whose_runs_were_not_steady_is_drawn_hollow_and_says_so() -> None:
    result = comparison()
    shaky = replace(result.runs[1], steadiness=judge((2.0, 2.6), 0.1, 0.0))
    fig = speedup_by_interpreter(replace(result, runs=(result.runs[0], shaky)))
    steady, unsteady = fig.data
    assert steady.name == "3.11" and steady.marker.color == interpreter_colour(0)
    assert unsteady.name == "3.13t:gil=off (machine not steady)"
    assert unsteady.marker.color == "rgba(0,0,0,0)" and unsteady.marker.line.color == interpreter_colour(1)


def test_a_comparison_is_as_steady_as_its_least_steady_round() -> None:
    result = comparison()
    steady, shaky = judge((2.0, 2.02), 0.1, 0.0), judge((2.0, 2.6), 0.1, 0.0)
    rounds = [replace(result.runs[0], steadiness=steady), replace(result.runs[0], steadiness=shaky)]
    merged = merge_rounds(rounds, result.settings, result.settings.pythons[0])
    assert merged.steadiness == shaky
    assert merge_rounds(rounds[:1], result.settings, result.settings.pythons[0]).steadiness == steady
