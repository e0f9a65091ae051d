"""The timing tests' tries: a failure on an unsteady machine is retried; two on a steady machine are final."""

from __future__ import annotations

from typing import ClassVar

import pytest
import timing_tries
from timing_tries import NotJudged, best_speedup, clock_relation, points_steadiness, until_good

from lab.core.steadiness import Steadiness, judge

STEADY = judge((2.0, 2.0), 0.1, 0.0)
UNSTEADY = judge((2.0, 3.0), 0.1, 0.0)


class FakeMeter:
    """Stands in for the try's own meter: reads the verdicts it is given, one a try."""

    verdicts: ClassVar[list[Steadiness]] = []

    def start(self) -> None:
        pass

    def finish(self) -> Steadiness:
        return FakeMeter.verdicts.pop(0) if FakeMeter.verdicts else STEADY


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timing_tries, "wait_for_quiet_cores", lambda: None)
    monkeypatch.setattr(timing_tries, "Meter", FakeMeter)
    FakeMeter.verdicts = []


def test_a_try_that_fails_on_an_unsteady_machine_is_retried_until_one_holds() -> None:
    values = iter([1.0, 1.1, 1.9])
    machine = iter([UNSTEADY, UNSTEADY, STEADY])
    tries = until_good(lambda: next(values), lambda value: value > 1.5, steadiness=lambda _: next(machine))
    assert list(tries) == [1.0, 1.1, 1.9]
    assert not tries.failed_steady


def test_a_relation_that_fails_twice_on_a_steady_machine_fails_without_more_tries_and_says_so() -> None:
    calls: list[int] = []
    tries = until_good(lambda: calls.append(1) or 1.0, lambda value: value > 1.5, steadiness=lambda _: STEADY)
    assert len(calls) == timing_tries.STEADY_FAILURES == 2 and tries.failed_steady
    assert "the relation failed on a steady machine 2 times, so it was not tried again" in tries.report


def test_one_steady_failure_just_under_the_bound_is_tried_again() -> None:
    values = iter([1.45, 1.9])
    tries = until_good(lambda: next(values), lambda value: value > 1.5, steadiness=lambda _: STEADY)
    assert list(tries) == [1.45, 1.9] and not tries.failed_steady
    assert tries.report.startswith("try 1: steady (speed change 0%, others 0.1 cores busy)")


def test_either_meter_saying_unsteady_makes_the_try_unsteady() -> None:
    FakeMeter.verdicts = [UNSTEADY, STEADY]  # this process saw a change the run's own figures did not
    tries = until_good(lambda: 1.0, lambda value: value > 1.5, steadiness=lambda _: STEADY)
    assert len(tries) == 3 and tries.failed_steady  # the unsteady try, then two steady failures
    assert tries.report.startswith("try 1: NOT steady (the machine's speed changed by 40% during this run)")


def test_without_its_own_figures_a_try_is_judged_by_this_process_meter() -> None:
    FakeMeter.verdicts = [UNSTEADY] * 5
    tries = until_good(lambda: 1.0, lambda value: value > 1.5)
    assert len(tries) == timing_tries.TRIES and not tries.failed_steady
    assert tries.report.endswith("the machine was not steady under the tries that failed")


def test_best_speedup_fails_with_the_steadiness_of_its_tries() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"best of \[1.0, 1.0\] is not above 1.5: try 1: steady"):
        best_speedup(lambda: 1.0, enough=1.5)
    FakeMeter.verdicts = [UNSTEADY]
    values = iter([1.0, 2.0])
    assert best_speedup(lambda: next(values), enough=1.5) == 2.0


def test_a_result_of_many_runs_is_unsteady_when_any_of_its_points_was() -> None:
    assert points_steadiness([True, None, True]) is None
    found = points_steadiness([True, False, False])
    assert found is not None and not found.steady
    assert found.reason == "2 of 3 points ran while the machine was not steady"


def test_a_clock_relation_that_holds_passes_whatever_the_machine() -> None:
    FakeMeter.verdicts = [UNSTEADY]
    tries = until_good(lambda: 2.0, lambda value: value > 1.5)
    clock_relation(tries, max(tries) > 1.5, "a speedup")  # no warning, no failure


def test_a_clock_relation_that_failed_twice_on_a_steady_machine_fails_with_the_figures() -> None:
    tries = until_good(lambda: 1.0, lambda value: value > 1.5)
    with pytest.raises(
        pytest.fail.Exception, match=r"speedups \[1.0, 1.0\]; try 1: steady .* not tried again"
    ):
        clock_relation(tries, max(tries) > 1.5, f"speedups {list(tries)}")


def test_a_clock_relation_never_seen_on_a_steady_machine_is_not_judged_and_says_so() -> None:
    FakeMeter.verdicts = [UNSTEADY] * 4  # then one steady failure: fewer than STEADY_FAILURES
    tries = until_good(lambda: 1.0, lambda value: value > 1.5)
    with pytest.warns(NotJudged, match=r"not judged \(1 of 5 tries ran on a steady machine\): speedups"):
        clock_relation(tries, max(tries) > 1.5, "speedups")
