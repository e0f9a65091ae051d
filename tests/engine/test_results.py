"""The results model: statistics live here, and JSON round-trips losslessly."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from lab.core.errors import ResultsFormatError
from lab.core.machine import current_machine
from lab.core.steadiness import judge
from lab.engine.results import SCHEMA_VERSION, ModeRun, RunResult, TaskSpan
from lab.engine.settings import RunSettings


def span(index: int, start: float, end: float, cpu: float, ok: bool = True) -> TaskSpan:
    return TaskSpan(
        index, f"w{index}", 100 + index, start, end, cpu, ok, None if ok else "boom", "v" if ok else None
    )


def mode_run(mode: str, repeat: int, seconds: float, cpu: float) -> ModeRun:
    return ModeRun(
        mode,
        repeat,
        seconds,
        0.01,
        cpu,
        2,
        (span(0, 0.01, seconds / 2, cpu / 2), span(1, 0.01, seconds, cpu / 2)),
    )


def sample() -> RunResult:
    runs = (
        mode_run("threads", 0, 2.0, 2.0),
        mode_run("batch", 0, 2.0, 2.0),
        mode_run("threads", 1, 2.2, 2.0),
        mode_run("batch", 1, 1.8, 1.8),
        mode_run("threads", 2, 1.9, 2.0),
        mode_run("batch", 2, 2.1, 2.0),
    )
    return RunResult(
        RunSettings.create("squares", tasks=2, repeats=3, modes="threads,batch"), current_machine(), runs
    )


def test_span_derived_times() -> None:
    s = span(0, 1.0, 3.0, 0.5)
    assert (s.wall, s.waited, s.cpu_share) == (2.0, 1.5, 0.25)
    assert span(0, 1.0, 1.0, 0.0).cpu_share == 0.0
    assert span(0, 0.0, 1.0, 1.2).cpu_share == 1.0


def test_median_min_max_and_speedup_against_batch() -> None:
    result = sample()
    assert result.modes == ("threads", "batch")
    assert result.baseline_mode == "batch"
    threads = result.summary("threads")
    assert (threads.seconds, threads.seconds_min, threads.seconds_max) == (2.0, 1.9, 2.2)
    assert threads.speedup == pytest.approx(2.0 / 2.0)
    assert threads.cores_busy == pytest.approx(1.0)
    assert threads.repeats == 3
    assert threads.ok == 6 and threads.failed == 0
    assert threads.spread == pytest.approx(0.3 / 2.0)


def test_speedup_is_relative_to_the_first_mode_without_batch() -> None:
    runs = (mode_run("threads", 0, 4.0, 1.0), mode_run("processes", 0, 2.0, 4.0))
    result = RunResult(RunSettings.create("squares", modes="threads,processes"), current_machine(), runs)
    assert result.baseline_mode == "threads"
    assert result.speedup("processes") == pytest.approx(2.0)
    assert result.summary("processes").cores_busy == pytest.approx(2.0)


def test_failures_are_listed_and_make_the_run_not_ok() -> None:
    bad = ModeRun("batch", 0, 1.0, 0.0, 0.5, 1, (span(0, 0, 1, 0.5, ok=False),))
    result = RunResult(RunSettings.create("squares", tasks=1, modes="batch"), current_machine(), (bad,))
    assert not result.all_ok
    assert [(mode, s.error) for mode, _, s in result.failures()] == [("batch", "boom")]


def test_json_round_trip_is_lossless() -> None:
    result = sample()
    again = RunResult.from_json(result.to_json())
    assert again == result
    data = json.loads(result.to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    first = data["modes"][0]
    assert {"mode", "seconds", "speedup", "cpu_seconds", "cores_busy", "ok", "failed", "tasks"} <= set(first)
    assert {"worker", "start", "end", "cpu", "error"} <= set(first["tasks"][0])


@pytest.mark.parametrize(
    "text",
    ["", "[]", "{}", '{"schema_version": 99}', '{"schema_version": 1, "runs": []}', "not json"],
)
def test_foreign_json_is_refused(text: str) -> None:
    with pytest.raises(ResultsFormatError):
        RunResult.from_json(text)


def test_no_speedup_is_claimed_against_or_for_a_mode_that_lost_tasks() -> None:
    lost = ModeRun("processes", 0, 0.05, 0.0, 0.01, 2, (span(0, 0.05, 0.05, 0.0, ok=False),))
    fine = ModeRun("threads", 0, 2.0, 0.0, 0.01, 1, (span(0, 0.0, 2.0, 0.001),))
    settings = RunSettings.create("sleep", tasks=1, modes="processes,threads")
    result = RunResult(settings, current_machine(), (lost, fine))
    assert result.baseline_mode == "processes"
    assert result.speedup("threads") is None
    assert result.speedup("processes") is None
    reversed_order = RunResult(
        settings.with_changes(modes=("threads", "processes")), current_machine(), (fine, lost)
    )
    assert reversed_order.speedup("threads") == 1.0
    assert reversed_order.speedup("processes") is None


def test_the_runs_steadiness_round_trips_and_a_file_without_it_still_loads() -> None:
    steadiness = judge((2.0, 2.62, 2.1), others_busy_cores=0.2, steal=0.0)
    result = replace(sample(), steadiness=steadiness)
    data = json.loads(result.to_json())
    assert data["steadiness"]["steady"] is False and data["steadiness"]["calibration_ms"] == [2.0, 2.62, 2.1]
    assert RunResult.from_json(result.to_json()) == result
    del data["steadiness"]
    assert RunResult.from_dict(data).steadiness is None
