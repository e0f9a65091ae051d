"""The steadiness meter, with fake clocks and fake /proc/stat text (the fast tier: nothing here is timed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from lab.core import steadiness
from lab.core.steadiness import CpuTicks, Meter, Steadiness, judge, parse_proc_stat

STAT_START = """cpu  1000 0 500 8000 100 0 0 0 0 0
cpu0 500 0 250 4000 50 0 0 0 0 0
cpu1 500 0 250 4000 50 0 0 0 0 0
intr 12345
"""


def stat_after(busy: int, steal: int, idle: int) -> str:
    """The all-cores line after `busy` more user ticks, `steal` more steal and `idle` more idle ticks."""
    return (
        f"cpu  {1000 + busy} 0 500 {8000 + idle} 100 0 0 {steal} 0 0\n"
        "cpu0 0 0 0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0 0 0 0\n"
    )


def ticking(*values: float) -> Callable[[], float]:
    """A fake clock that returns `values` in turn, then keeps returning the last one."""
    it: Iterator[float] = iter(values)
    last = [values[0]]

    def clock() -> float:
        last[0] = next(it, last[0])
        return last[0]

    return clock


def test_parse_proc_stat_reads_busy_steal_total_and_counts_the_cores() -> None:
    ticks = parse_proc_stat("cpu  10 1 5 80 4 0 0 3 2 0\ncpu0 x\ncpu1 x\ncpu2 x\n")
    assert ticks == CpuTicks(busy=19, steal=3, total=103, cores=3)


@pytest.mark.parametrize("text", ["", "intr 1 2 3\n", "cpu  a b c d\ncpu0\n", "cpu  1 2\ncpu0 1\n"])
def test_unexpected_proc_stat_text_reads_as_unknown(text: str) -> None:
    assert parse_proc_stat(text) is None


def test_a_steady_run_is_steady_with_no_reason() -> None:
    found = judge((2.0, 2.1, 2.05), others_busy_cores=0.1, steal=0.0)
    assert found.steady and found.reason is None and found.warning() is None
    assert found.speed_change == pytest.approx(0.1 / 2.05)


def test_a_speed_change_above_the_limit_is_unsteady_and_says_by_how_much() -> None:
    found = judge((2.0, 2.62, 2.0), others_busy_cores=0.0, steal=0.0)
    assert not found.steady
    assert found.reason == "the machine's speed changed by 31% during this run"
    assert found.warning() == (
        "the machine's speed changed by 31% during this run; compare its ratios with care, or run again"
    )


def test_other_work_and_steal_above_their_limits_are_each_unsteady() -> None:
    busy = judge((2.0, 2.0), others_busy_cores=0.8, steal=0.0)
    assert not busy.steady and busy.reason == "other work kept 0.8 cores busy during this run"
    stolen = judge((2.0, 2.0), others_busy_cores=0.1, steal=0.12)
    assert not stolen.steady and stolen.reason is not None and "12%" in stolen.reason


def test_unknown_busy_and_steal_leave_the_speed_change_to_decide() -> None:
    assert judge((2.0, 2.1), None, None).steady
    assert not judge((2.0, 3.0), None, None).steady
    assert judge((), None, None).speed_change == 0.0


def test_steadiness_round_trips_through_its_dict_and_old_files_read_as_unknown() -> None:
    found = judge((2.0, 2.62), others_busy_cores=0.25, steal=0.01)
    assert Steadiness.from_dict(found.to_dict()) == found
    old = Steadiness.from_dict({"calibration_ms": [2.0], "steady": True})
    assert old.others_busy_cores is None and old.steal is None and old.reason is None


def test_the_meter_subtracts_the_runs_own_cpu_from_the_cores_busy() -> None:
    # 2 cores for 1 s = 200 ticks: 150 busy ticks are 1.5 cores, the run itself used 1.2 s of CPU.
    stats = iter([parse_proc_stat(STAT_START), parse_proc_stat(stat_after(busy=150, steal=0, idle=50))])
    meter = Meter(
        clock=ticking(0.0, 0.002, 0.0, 1.0, 1.002, 1.0),
        thread_clock=ticking(0.0, 0.002, 0.0, 0.002),
        read_stat=lambda: next(stats),
        own_cpu=ticking(10.0, 11.2),
        loops=10,
    )
    meter.start()
    found = meter.finish()
    assert found.others_busy_cores == pytest.approx(0.3)
    assert found.steal == 0.0
    assert found.calibration_ms == (2.0, 2.0)
    assert found.steady


def test_the_meter_takes_the_callers_own_cpu_and_reports_steal() -> None:
    stats = iter([parse_proc_stat(STAT_START), parse_proc_stat(stat_after(busy=100, steal=20, idle=80))])
    meter = Meter(
        clock=ticking(0.0, 0.002, 0.0, 1.0),
        thread_clock=ticking(0.0, 0.002),
        read_stat=lambda: next(stats),
        own_cpu=lambda: None,
        loops=10,
    )
    meter.start()
    found = meter.finish(own_cpu_seconds=0.2, calibrate_now=False)
    # 120 of 200 ticks busy (steal counts as busy) = 1.2 cores, minus the run's 0.2
    assert found.others_busy_cores == pytest.approx(1.0)
    assert found.steal == pytest.approx(0.1)
    assert not found.steady


def test_a_preempted_calibration_is_tried_again_and_the_fastest_counts() -> None:
    # First try: 4 ms of wall time, 1 ms on the CPU (preempted). Second: 2 ms, all on the CPU.
    ms = steadiness.calibrate(
        10, clock=ticking(0.0, 0.004, 1.0, 1.002), thread_clock=ticking(0.0, 0.001, 0.5, 0.502)
    )
    assert ms == pytest.approx(2.0)


def test_without_proc_stat_the_meter_still_judges_by_speed_and_never_raises() -> None:
    meter = Meter(read_stat=lambda: None, own_cpu=lambda: None, loops=100)
    meter.start()
    meter.mark()
    found = meter.finish()
    assert found.others_busy_cores is None and found.steal is None
    assert len(found.calibration_ms) == 3


def test_a_run_too_short_for_proc_stat_ticks_leaves_the_busy_figures_unknown() -> None:
    stats = iter([parse_proc_stat(STAT_START), parse_proc_stat(stat_after(busy=5, steal=0, idle=5))])
    meter = Meter(read_stat=lambda: next(stats), own_cpu=lambda: 0.0, loops=100)
    meter.start()
    found = meter.finish()
    assert found.others_busy_cores is None and found.steal is None


def test_the_calibration_is_sized_to_a_few_milliseconds_once_per_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(steadiness, "_sized_loops", None)
    clock = iter(float(n) for n in range(1000))  # every spin "takes" 1 s of this clock, whatever its size
    loops = steadiness.calibration_loops(lambda: next(clock) / 1000)
    assert abs(loops - 4000 * steadiness.CALIBRATION_TARGET_MS) <= 1  # 4000 loops took 1 ms
    assert steadiness.calibration_loops() == loops
