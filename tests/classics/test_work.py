"""The classics' workloads do their work and check it, so a broken mode cannot look fast."""

from __future__ import annotations

import math

import pytest

from lab.engine import classic_work
from lab.engine.settings import RunSettings
from lab.engine.workloads import TaskSpec, WrongResult, perform, workload_for


def checked(workload: str, size: int) -> TaskSpec:
    spec = TaskSpec(workload, size)
    return TaskSpec(workload, size, expected_value=workload_for(spec).reference_value(spec))


def test_the_countdown_counts_all_the_way_down_or_says_where_it_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert classic_work.countdown(12_345) == 0 and perform(TaskSpec("countdown", 1000), 0) == "1000"
    monkeypatch.setattr(classic_work, "countdown", lambda n: 7)
    with pytest.raises(WrongResult, match="stopped at 7"):
        perform(TaskSpec("countdown", 1000), 0)


def test_the_factorial_loop_matches_math_factorial_and_a_wrong_one_is_caught() -> None:
    assert classic_work.factorial(300) == math.factorial(300)
    assert perform(checked("factorial", 2000), 0) == classic_work.reference_factorial(2000)
    with pytest.raises(WrongResult, match=r"math\.factorial"):
        perform(TaskSpec("factorial", 2000, expected_value=classic_work.reference_factorial(1999)), 0)


def test_pi_digits_start_with_pi_and_match_the_reference_run() -> None:
    assert classic_work.pi_digits(50) == classic_work.PI_PREFIX
    assert len(perform(checked("pidigits", 400), 0)) == 16
    with pytest.raises(WrongResult, match="reference"):
        perform(TaskSpec("pidigits", 400, expected_value="0" * 16), 0)


def test_bz2_output_is_checked_against_the_reference_digest() -> None:
    assert perform(checked("bz2", 100_000), 0) == classic_work.bz2_digest(100_000)
    with pytest.raises(WrongResult, match="bz2 output"):
        perform(TaskSpec("bz2", 100_000, expected_value="0:0"), 0)


@pytest.mark.parametrize(
    ("workload", "releases"), [("countdown", False), ("factorial", False), ("pidigits", False), ("bz2", True)]
)
def test_each_workload_says_whether_it_releases_the_gil_and_what_it_costs(
    workload: str, releases: bool
) -> None:
    settings = RunSettings.create(workload, tasks=2, modes="batch")
    info = settings.info
    assert info.releases_gil is releases and info.kind == "cpu"
    assert 0 < settings.task_cost().cpu_s < 5
