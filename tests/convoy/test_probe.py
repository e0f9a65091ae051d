"""The convoy lab's measured process: what it may load, and the physics it shows on this machine.

The physics tests run real points (a probe process, a client, the X-ray) and
assert relations with generous bounds, each up to five tries on quiet cores: a busy
neighbour on a shared machine can only make a reply slower, so a relation that
needs a fast reply passes once any try was undisturbed. The free-threaded
3.13t that `scripts/build-free-threaded-python` builds must be on the machine
(CI builds it before the tests): missing, its test fails rather than skips.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from convoy.convoy_factories import loaded_beyond_the_standard_library
from timing_tries import until_good

from lab.convoy.results import ConvoyResult, PointSummary
from lab.convoy.runner import run_convoy
from lab.convoy.settings import ConvoySettings
from lab.core.interpreters import Interpreter
from lab.hosting.admission import discovered


def test_the_probe_loads_only_the_standard_library() -> None:
    """It runs under bare interpreters: the import-linter contract checks the code, this what loads."""
    assert loaded_beyond_the_standard_library("lab.convoy.probe") == []


def best_of(measure: Callable[[], ConvoyResult], holds: Callable[[ConvoyResult], bool]) -> list[list[str]]:
    """Up to five runs on quiet cores; an empty list when one shows the relation, else every try's table."""

    def complete() -> ConvoyResult:
        result = measure()
        assert result.status == "complete", result.message
        return result

    tries = until_good(complete, holds)
    if holds(tries[-1]):
        return []
    return [
        [
            f"{s.cpu_threads}@{s.switch_interval_ms:g}: p50 {s.p50_ms} mean {s.mean_ms}"
            for s in result.summaries()
        ]
        for result in tries
    ]


def summary_at(result: ConvoyResult, cpu_threads: int, interval: float) -> PointSummary:
    return next(s for s in result.summaries() if s.key == (cpu_threads, interval))


def p50(result: ConvoyResult, cpu_threads: int, interval: float) -> float:
    value = summary_at(result, cpu_threads, interval).p50_ms
    assert value is not None
    return value


def p99(result: ConvoyResult, cpu_threads: int, interval: float) -> float:
    value = summary_at(result, cpu_threads, interval).p99_ms
    assert value is not None
    return value


def measure(
    cpu_threads: str, intervals: str, seconds: float = 1.0, **choice: Any
) -> Callable[[], ConvoyResult]:
    settings = ConvoySettings.create(
        cpu_threads=cpu_threads, switch_intervals_ms=intervals, seconds=seconds, **choice
    )
    interpreter = named(settings.python) if settings.python else None
    return lambda: run_convoy(settings, interpreter=interpreter)


def named(name: str) -> Interpreter:
    found = {python.name: python for python in discovered() if python.usable}
    assert name in found, (
        f"{name} is not on this machine (found {', '.join(found)}); see the README's CI notes"
    )
    return found[name]


@pytest.mark.timing
@pytest.mark.slow
def test_with_no_cpu_thread_the_reply_is_immediate() -> None:
    assert not best_of(measure("0", "5", 0.5), lambda result: p50(result, 0, 5.0) < 1.0)


@pytest.mark.timing
@pytest.mark.slow
def test_behind_one_cpu_thread_the_reply_waits_about_one_switch_interval() -> None:
    def holds(result: ConvoyResult) -> bool:
        at_5, at_20 = p50(result, 1, 5.0), p50(result, 1, 20.0)
        return 2.0 <= at_5 <= 15.0 and at_20 > at_5 + 5.0

    assert not best_of(measure("1", "5,20"), holds)


@pytest.mark.timing
@pytest.mark.slow
def test_more_cpu_threads_do_not_make_it_better() -> None:
    """The tail, not the median: behind several threads the probe sometimes catches a handoff early."""
    assert not best_of(measure("1,4", "5"), lambda result: p99(result, 4, 5.0) >= p99(result, 1, 5.0))


@pytest.mark.timing
@pytest.mark.slow
def test_the_free_threaded_build_without_the_gil_does_not_queue() -> None:
    """Near zero: far below the 5 and 20 ms intervals a GIL build waits; the cores, not a lock, are shared."""

    def holds(result: ConvoyResult) -> bool:
        medians = [p50(result, count, interval) for count in (1, 2) for interval in (5.0, 20.0)]
        return all(not s.gil_enabled for s in result.summaries()) and max(medians) < 2.5

    assert not best_of(measure("1,2", "5,20", 1.0, python="3.13t", gil="off"), holds)
