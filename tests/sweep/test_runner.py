"""The scaling sweep's runner: the order it runs its points in, the deadline it passes on, ending early.

Most tests drive `Sweep` with the stand-in experiment of sweep_factories.
The real sweeps at the end measure this machine and are marked `timing` and `slow`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from sweep.sweep_factories import fake_sweep, interpreter, run_to_end, sweep_settings
from timing_tries import Tries, clock_relation, points_steadiness, until_good

from lab.engine.settings import RunSettings
from lab.sweep.report import sweep_takeaway
from lab.sweep.results import SweepPoint, SweepResult
from lab.sweep.runner import Sweep
from lab.sweep.settings import SweepSettings


def test_points_run_round_robin_over_counts_and_interpreters_with_the_modes_rotating_each_round() -> None:
    settings = sweep_settings(repeats=2, pythons="3.11,3.12")
    sweep, log = fake_sweep(settings, [interpreter("3.11"), interpreter("3.12")])
    run_to_end(sweep)
    order = [(e.round, e.settings.workers, e.interpreter.name, e.settings.modes) for e in log]
    assert order == [
        (0, 1, "3.11", ("threads", "processes")),
        (0, 1, "3.12", ("threads", "processes")),
        (0, 2, "3.11", ("threads", "processes")),
        (0, 2, "3.12", ("threads", "processes")),
        (0, 4, "3.11", ("threads", "processes")),
        (0, 4, "3.12", ("threads", "processes")),
        (1, 1, "3.11", ("processes", "threads")),
        (1, 1, "3.12", ("processes", "threads")),
        (1, 2, "3.11", ("processes", "threads")),
        (1, 2, "3.12", ("processes", "threads")),
        (1, 4, "3.11", ("processes", "threads")),
        (1, 4, "3.12", ("processes", "threads")),
    ]
    assert all(e.started and e.done for e in log)


def test_each_point_runs_its_worker_count_as_both_pool_sizes_once_per_round() -> None:
    sweep, log = fake_sweep(sweep_settings())
    run_to_end(sweep)
    for experiment in log:
        run = experiment.settings
        assert run.threads == run.workers and run.repeats == 1 and run.tasks == 4
        assert run.python is None


def test_the_deadline_left_is_passed_on_to_each_experiment() -> None:
    sweep, log = fake_sweep(sweep_settings(repeats=1), deadline_s=60.0)
    run_to_end(sweep)
    deadlines = [experiment.deadline_s or 0 for experiment in log]
    assert all(0 < seconds <= 60 for seconds in deadlines)
    assert deadlines == sorted(deadlines, reverse=True)


def test_a_crashed_experiment_ends_the_sweep_and_keeps_what_was_measured() -> None:
    sweep, log = fake_sweep(sweep_settings(), crash_at=1)
    result = run_to_end(sweep)
    assert result.status == "crashed" and len(log) == 2
    assert {(p.mode, p.workers) for p in result.points} == {("threads", 1), ("processes", 1), ("threads", 2)}
    assert "crashed before it finished" in sweep_takeaway(result)[0]


def test_cancel_ends_the_current_experiment_and_reports_the_sweep_cancelled() -> None:
    sweep, log = fake_sweep(sweep_settings())
    sweep.start()
    sweep.poll(0.01)
    sweep.cancel("stopped by the test")
    assert sweep.done and sweep.status == "cancelled" and log[-1].closed
    assert sweep.poll(0.01) == []
    assert sweep.result().message == "stopped by the test"


def test_events_say_which_point_they_belong_to() -> None:
    sweep, _ = fake_sweep(sweep_settings(repeats=1))
    sweep.start()
    events = sweep.poll(0.01) + sweep.poll(0.01)
    assert [(e["mode"], e["workers"], e["round"], e["interpreter"]) for e in events] == [
        ("threads", 1, 0, "3.11"),
        ("processes", 1, 0, "3.11"),
        ("threads", 2, 0, "3.11"),
        ("processes", 2, 0, "3.11"),
    ]
    progress = {(row.mode, row.workers): row for row in sweep.progress()}
    assert progress[("threads", 2)].rounds_done == 1 and progress[("threads", 2)].state == "finished"
    assert progress[("threads", 4)].state == "waiting"


def fits_of(tries: list[SweepResult]) -> list[list[tuple[str, float | None]]]:
    """Each try's serial fraction per mode, for failure messages."""
    return [[(line.mode, line.fit.serial_fraction) for line in r.fits()] for r in tries]


def real_sweep(workload: str, size: int, modes: str, **options: Any) -> SweepResult:
    base = RunSettings.create(workload)
    settings = SweepSettings.create(
        base, modes=modes, size=size, **{"workers": "1,2,4", "repeats": 3, **options}
    )
    sweep = Sweep(settings)
    try:
        return run_to_end(sweep)
    finally:
        sweep.close()


def sweep_tries(run: Callable[[], SweepResult], good: Callable[[SweepResult], bool]) -> Tries[SweepResult]:
    """Tries of a real sweep (tests/timing_tries.py), each unsteady when any of its points was."""
    return until_good(run, good, steadiness=lambda r: points_steadiness([p.steady for p in r.points]))


def at_two(result: SweepResult, mode: str) -> SweepPoint:
    """The line's point at two workers: on two cores, where one GIL and two part ways."""
    return next(p for p in result.line_points(mode, result.interpreters[0]) if p.workers == 2)


def threads_busy(result: SweepResult) -> float:
    """The most cores the threads line kept busy at any worker count (about one under one GIL)."""
    return max(p.cores_busy for p in result.line_points("threads", result.interpreters[0]))


def nan_as(default: float, value: float) -> float:
    return default if math.isnan(value) else value


def serial(result: SweepResult, mode: str) -> float:
    fit = next(line.fit for line in result.fits() if line.mode == mode)
    return math.nan if fit.serial_fraction is None else fit.serial_fraction


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_pure_python_threads_fit_a_serial_fraction_near_one_and_processes_near_zero() -> None:
    """The relation, with a bound generous to a host whose cores slow down unseen (no steal time shows),
    and its mechanism: threads keep about one core busy at every worker count (every try), two
    processes keep both busy (the best try). The issue's own command and its 0.25 are checked in
    tests/cli/test_sweep.py.
    """

    def shows_it(result: SweepResult) -> bool:
        return (
            serial(result, "threads") > 0.7
            and serial(result, "processes") < 0.4
            and threads_busy(result) <= 1.3
            and at_two(result, "processes").cores_busy >= 1.6
        )

    tries = sweep_tries(lambda: real_sweep("squares", 1_000_000, "threads,processes"), shows_it)
    busy = [(threads_busy(r), at_two(r, "processes").cores_busy) for r in tries]
    report = (
        f"serial fractions per try: {fits_of(tries)}; threads' most and two processes' cores busy: {busy}"
    )
    assert all(r.status == "complete" and r.all_ok for r in tries)
    assert all(threads_busy(r) <= 1.3 for r in tries), f"{report}; {tries.report}"
    assert max(at_two(r, "processes").cores_busy for r in tries) >= 1.6, f"{report}; {tries.report}"
    # Each mode's bound on its best try: a vCPU the host slows for seconds moves a sweep's points either way.
    clock_relation(tries, max(nan_as(0.0, serial(r, "threads")) for r in tries) > 0.7, report)
    clock_relation(tries, min(nan_as(1.0, serial(r, "processes")) for r in tries) < 0.4, report)


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_sha256_threads_release_the_gil_and_fit_a_serial_fraction_near_zero() -> None:
    """hashlib releases the GIL for big buffers: two threads keep both cores busy, and the fit's serial
    fraction is near zero (both on the best try: a vCPU the host slows for seconds moves the points;
    the fit judged only on a steady machine, tests/timing_tries.py)."""
    tries = sweep_tries(
        lambda: real_sweep("sha256", 64 * 1024 * 1024, "threads", tasks=8),
        lambda r: serial(r, "threads") < 0.25 and at_two(r, "threads").cores_busy >= 1.6,
    )
    seen = [(at_two(r, "threads").cores_busy, serial(r, "threads")) for r in tries]
    report = f"threads' cores busy at two workers and serial fraction per try: {seen}"
    assert all(r.all_ok for r in tries), f"{report}; {tries.report}"
    assert max(at_two(r, "threads").cores_busy for r in tries) >= 1.6, f"{report}; {tries.report}"
    clock_relation(tries, min(nan_as(1.0, serial(r, "threads")) for r in tries) < 0.25, report)


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_weak_scaling_keeps_processes_efficient_and_halves_gil_bound_threads() -> None:
    """Twice the tasks on twice the workers: two processes keep both cores busy and take about the
    time one took; two threads under one GIL keep one core busy and take about twice as long. The
    cores busy hold in every try (threads) or the best (processes); each efficiency on its best try,
    judged only on a steady machine (tests/timing_tries.py)."""

    def efficiency_at_two(result: SweepResult, mode: str) -> float:
        return result.efficiency(at_two(result, mode)) or math.nan

    def shows_it(result: SweepResult) -> bool:
        return (
            efficiency_at_two(result, "processes") > 0.7
            and efficiency_at_two(result, "threads") < 0.7
            and at_two(result, "processes").cores_busy >= 1.6
            and at_two(result, "threads").cores_busy <= 1.3
        )

    tries = sweep_tries(
        lambda: real_sweep(
            "squares", 1_000_000, "threads,processes", workers="1,2", scale="weak", tasks_per_worker=2
        ),
        shows_it,
    )
    seen = [
        {mode: (efficiency_at_two(r, mode), at_two(r, mode).cores_busy) for mode in ("threads", "processes")}
        for r in tries
    ]
    report = f"efficiency and cores busy at two workers per try: {seen}"
    assert all(r.all_ok for r in tries), f"{report}; {tries.report}"
    assert [p.tasks for p in tries[-1].line_points("threads", tries[-1].interpreters[0])] == [2, 4]
    assert all(at_two(r, "threads").cores_busy <= 1.3 for r in tries), f"{report}; {tries.report}"
    assert max(at_two(r, "processes").cores_busy for r in tries) >= 1.6, f"{report}; {tries.report}"
    efficiency = {mode: [efficiency_at_two(r, mode) for r in tries] for mode in ("threads", "processes")}
    clock_relation(tries, max(nan_as(0.0, e) for e in efficiency["processes"]) > 0.7, report)
    clock_relation(tries, min(nan_as(1.0, e) for e in efficiency["threads"]) < 0.7, report)
