"""The scaling sweep's settings: worker counts, tasks per count, one-line refusals, what a host admits."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sweep.sweep_factories import sweep_settings

from lab.core.errors import InvalidSettings, OverBudget
from lab.engine.settings import RunSettings
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits
from lab.sweep.settings import SweepSettings, parse_worker_counts


def test_worker_counts_are_sorted_and_1_is_added_when_missing() -> None:
    assert parse_worker_counts("4,2") == ((1, 2, 4), True)
    assert parse_worker_counts([1, 8, 2]) == ((1, 2, 8), False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0,1,2", "start at 1, got 0"),
        ("1,-2", "start at 1, got -2"),
        ("1,2,2", "2 appears twice"),
        ("1,two", "whole numbers"),
        ("1", "a worker count above 1"),
        ("1,2,3,4,5,6,7,8,9", "at most 8 worker counts"),
        ("1,65", "at most 64 workers"),
    ],
)
def test_bad_worker_counts_are_refused_in_one_line(value: str, message: str) -> None:
    with pytest.raises(InvalidSettings, match=message) as caught:
        parse_worker_counts(value)
    assert "\n" not in str(caught.value)


def test_strong_scaling_shares_a_multiple_of_every_count_and_weak_scaling_fixes_each_workers_share() -> None:
    strong = sweep_settings(workers="1,2,3")
    assert strong.base.tasks == 6 and strong.base.tasks % 2 == strong.base.tasks % 3 == 0
    assert [strong.tasks_at(n) for n in strong.workers] == [6, 6, 6]
    assert sweep_settings(workers="1,2,4,8").base.tasks == 8
    weak = sweep_settings(scale="weak", tasks_per_worker=3)
    assert [weak.tasks_at(n) for n in weak.workers] == [3, 6, 12]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tasks": 6}, "use a multiple of 4, such as 8"),
        ({"scale": "weak", "tasks": 4}, "set --tasks-per-worker, not --tasks"),
        ({"tasks_per_worker": 2}, "is for --scale weak"),
        ({"modes": "threads,batch"}, "unknown sweep mode 'batch'"),
        ({"scale": "wide"}, "strong or weak"),
        ({"workers": "1,7,9,11,13,17"}, "choose counts that divide each other"),
    ],
)
def test_settings_a_sweep_cannot_run_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        sweep_settings(**options)


def test_a_sweep_refuses_a_base_that_fixes_its_own_pool_sizes() -> None:
    with pytest.raises(InvalidSettings, match="sets the thread and process counts itself"):
        SweepSettings.create(RunSettings.create("squares", threads=4), workers="1,2")


def test_interpreter_choices_take_the_runs_gil_switch_unless_they_name_their_own() -> None:
    base = RunSettings.create("squares", gil="on")
    settings = SweepSettings.create(base, workers="1,2", pythons=["3.13t", "3.13t:gil=off,3.12"])
    assert [choice.label for choice in settings.pythons] == ["3.13t:gil=on", "3.13t:gil=off", "3.12:gil=on"]


def test_squares_gets_a_smaller_default_size_for_a_sweep_but_keeps_one_that_was_chosen() -> None:
    default = SweepSettings.create(RunSettings.create("squares"), workers="1,2")
    chosen = SweepSettings.create(RunSettings.create("squares"), workers="1,2", size=3_000_000)
    assert default.base.size == 1_000_000 and chosen.base.size == 3_000_000
    with pytest.raises(InvalidSettings, match="--size must be between"):
        SweepSettings.create(RunSettings.create("squares"), workers="1,2", size=0)


PUBLIC = Hosting(public=True, limits=Limits(max_processes=4, max_work_seconds=30.0), usable_cores=2.0)


PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


def test_private_hosting_admits_any_valid_sweep_unchanged() -> None:
    big = sweep_settings(workers="1,2,4,8,16,32,64", repeats=50, size=100_000_000)
    assert PRIVATE.admit(big) == big


def test_public_mode_admits_a_small_sweep() -> None:
    small = sweep_settings(size=100_000)
    assert PUBLIC.admit(small) == replace(small, base=replace(small.base, max_body_bytes=16 * 1024 * 1024))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"workers": "1,2,4,8"}, InvalidSettings, "at most 4 processes here; drop the worker counts above 4"),
        ({"repeats": 9}, InvalidSettings, "at most 5 repeats here; lower Repeats"),
        (
            {"size": 10_000_000, "workers": "1,2,4"},
            OverBudget,
            r"this run would take about \d+ s of work; the limit here is 30 s — lower Repeats, worker counts",
        ),
    ],
)
def test_public_mode_refuses_a_sweep_over_its_limits_saying_what_to_lower(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        PUBLIC.admit(sweep_settings(**options))
    assert "\n" not in str(caught.value)


def test_public_mode_counts_every_point_of_the_sweep_against_one_budget() -> None:
    one_round = sweep_settings(size=3_000_000, repeats=1)
    estimate = one_round.estimate_seconds(PUBLIC.estimate_seconds)
    assert estimate < 30 < estimate * 5  # each round fits alone; five of them do not
    PUBLIC.admit(one_round)
    with pytest.raises(OverBudget):
        PUBLIC.admit(replace(one_round, base=replace(one_round.base, repeats=5)))


def test_public_mode_refuses_a_visitors_own_function_in_a_sweep() -> None:
    base = RunSettings.create("json:dumps", args="[1]")
    with pytest.raises(InvalidSettings, match="never runs a visitor's own code"):
        PUBLIC.admit(SweepSettings.create(base, workers="1,2"))
