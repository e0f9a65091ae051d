"""The two classics whose lesson *is* timing, measured for real (best of a few tries on quiet cores).

- Beazley's countdown on a GIL build of 3.2+: two threads take turns, at 0.85-1.2× the sequential
  time (the old GIL's 1.85× slower is gone); on the free-threaded build with the GIL off, two
  threads finish over 1.6× faster than one after another.
- The convoy: an I/O thread's requests per second beside one CPU thread follow 1 ÷ the switch
  interval within a factor of two, at 1, 5 and 20 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from timing_tries import until_good

from lab.classics.runner import ClassicsRun
from lab.classics.settings import ClassicsSettings
from lab.core.interpreters import Interpreter, current_interpreter, probe

pytestmark = [pytest.mark.timing, pytest.mark.timeout(600)]

FREE_THREADED = Path.home() / ".cache/gil-lab/python-3.13t/bin/python3.13t"


def measured(classic: str, interpreter: Interpreter) -> dict[str, Any]:
    settings = ClassicsSettings.create(classics=classic)
    result = ClassicsRun(settings, [interpreter], own=interpreter).wait()
    assert result.status == "complete", result.message
    assert all(outcome.status == "complete" for outcome in result.outcomes), result.outcomes
    return result.record(classic).measured


def countdown_ratio(interpreter: Interpreter) -> float:
    (row,) = measured("countdown", interpreter)["pythons"]
    value = row["threads2_ratio"]
    assert value is not None
    return float(value)


def test_the_countdown_in_two_threads_takes_about_the_sequential_time_on_the_gil_build(
    no_leftover_processes: None,
) -> None:
    tries = until_good(lambda: countdown_ratio(current_interpreter()), lambda ratio: 0.85 <= ratio <= 1.2)
    assert 0.85 <= tries[-1] <= 1.2, f"threads ÷ sequential per try: {tries}"


def test_the_countdown_in_two_threads_runs_over_1_6x_faster_with_the_gil_off(
    no_leftover_processes: None,
) -> None:
    if not FREE_THREADED.exists():
        pytest.skip(
            f"no free-threaded build at {FREE_THREADED} (scripts/build-free-threaded-python makes one)"
        )
    build = probe(str(FREE_THREADED))
    tries = until_good(lambda: countdown_ratio(build), lambda ratio: ratio < 1 / 1.6)
    assert tries[-1] < 1 / 1.6, f"threads ÷ sequential per try: {tries}"


def test_the_convoy_rps_beside_one_cpu_thread_follows_one_over_the_switch_interval(
    no_leftover_processes: None,
) -> None:
    def rps() -> dict[str, float]:
        return dict(measured("convoy", current_interpreter())["one_thread_rps"])

    def follows(found: dict[str, float]) -> bool:
        return all(found[k] and 0.5 <= found[k] * float(k) / 1000 <= 2.0 for k in ("1", "5", "20"))

    tries = until_good(rps, follows)
    assert follows(tries[-1]), f"RPS beside one CPU thread at 1, 5, 20 ms per try: {tries}"
