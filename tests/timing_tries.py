"""Tries for the tests whose behaviour *is* timing, on a shared 2-core machine other work can spoil.

A timing relation (threads near 1×, processes near the cores, a convoy's
latency) holds on a steady machine; a burst of other work, or a core the host
slows down for a while, can hide it for one run. So each such test measures up
to TRIES times, each try after the cores have gone mostly idle, and:

- stops at the first try that shows the relation;
- retries a try that did not, when the machine was not steady under it
  (lab.core.steadiness: its speed changed, other work took cores, or the host
  stole time): that try says nothing about the relation;
- stops once the relation did not show on a steady machine STEADY_FAILURES
  times: more tries would only hide a real regression. The test's own
  assertion then fails, and `Tries.report` (in its message) says the machine
  was steady. Twice, not once: this host's vCPUs change speed by 10-40 %
  between two calibrations with nothing else running (measured here), so one
  "steady" try whose speedup lands just under its bound is not yet a verdict.

Every try is metered from this process (calibrated before and after, the
cores' busy time over it, this process's reaped children counted as its own);
a test that runs the engine passes `steadiness=` to read the run's own figures
too (calibrated between its modes, so it sees a slowdown that came and went).
A try is steady only if every figure known for it says so.

When the tries run out with the relation unseen and fewer than STEADY_FAILURES
of them steady, nothing was learnt about it: a test that states its claim as a
mechanism too (cores busy, the GIL's state) asserts the clock part with
`clock_relation`, which then warns (NotJudged) instead of failing, and the
mechanism carries the test. On this host most runs of several seconds read
unsteady (the README's "This host's speed").
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from lab.core.steadiness import Meter, Steadiness

TRIES = 5
STEADY_FAILURES = 2  # failed tries on a steady machine that make the relation's failure final
QUIET_BUSY_SHARE = 0.2  # a try starts once other work leaves the cores at least this idle...
QUIET_DEADLINE_S = 30.0  # ...or after this long regardless
Result = TypeVar("Result")


class Tries(list[Result]):
    """The results of the tries, in order, with each try's steadiness and a report for failure messages."""

    def __init__(self) -> None:
        super().__init__()
        self.steadiness: list[Steadiness] = []
        self.failed_steady = False  # the relation failed on a steady machine STEADY_FAILURES times

    @property
    def report(self) -> str:
        lines = [f"try {number}: {describe(found)}" for number, found in enumerate(self.steadiness, start=1)]
        if self.failed_steady:
            lines.append(
                f"the relation failed on a steady machine {STEADY_FAILURES} times, so it was not tried again"
            )
        elif self.steadiness and not self.steadiness[-1].steady:
            lines.append("the machine was not steady under the tries that failed")
        return "; ".join(lines)


def describe(found: Steadiness) -> str:
    figures = f"speed change {found.speed_change:.0%}"
    if found.others_busy_cores is not None:
        figures += f", others {found.others_busy_cores:.1f} cores busy"
    return f"{'steady' if found.steady else 'NOT steady'} ({found.reason or figures})"


def until_good(
    run: Callable[[], Result],
    good: Callable[[Result], bool],
    tries: int = TRIES,
    steadiness: Callable[[Result], Steadiness | None] | None = None,
) -> Tries[Result]:
    """Up to `tries` results of `run`, each on quiet cores if possible, stopping at the first `good` one
    or once STEADY_FAILURES of them were not good on a steady machine (see the module's docstring)."""
    results: Tries[Result] = Tries()
    steady_failures = 0
    while len(results) < tries:
        wait_for_quiet_cores()
        meter = Meter()
        meter.start()
        result = run()
        found = combine(meter.finish(), steadiness(result) if steadiness is not None else None)
        results.append(result)
        results.steadiness.append(found)
        if good(result):
            break
        if found.steady:
            steady_failures += 1
            if steady_failures >= STEADY_FAILURES:
                results.failed_steady = True
                break
    return results


class NotJudged(UserWarning):
    """A relation between measured times that did not show, on tries that ran on an unsteady machine."""


def clock_relation(tries: Tries[Any], holds: bool, message: str) -> None:
    """Assert a relation between measured times (a speedup, a serial fraction) as issue 20 reads it.

    `holds` is the relation on the tries the caller chose (its best try, usually). When it does not
    hold, the test fails if the relation failed on a steady machine STEADY_FAILURES times. Otherwise
    the tries ran out with fewer steady failures than that, and a try that ran while the machine's
    speed changed under it says nothing about the relation: a NotJudged warning says so with every
    try's figures, and the test rests on the mechanism its caller asserts beside it (cores busy, the
    GIL's state), which a vCPU the host slows for seconds does not move. Call it only beside one.
    """
    if holds:
        return
    if tries.failed_steady:
        pytest.fail(f"{message}; {tries.report}")
    steady = sum(1 for found in tries.steadiness if found.steady)
    warnings.warn(
        f"not judged ({steady} of {len(tries)} tries ran on a steady machine): {message}; {tries.report}",
        NotJudged,
        stacklevel=2,
    )


def combine(ours: Steadiness, theirs: Steadiness | None) -> Steadiness:
    """The try's verdict: the run's own figures when it has them, unsteady if either meter says so."""
    if theirs is None:
        return ours
    if theirs.steady and not ours.steady:
        return ours
    return theirs


def points_steadiness(steady: list[bool | None]) -> Steadiness | None:
    """A multi-run result's steadiness from its points' verdicts: unsteady when any point was, else
    unknown (the try's own meter decides)."""
    unsteady = sum(1 for flag in steady if flag is False)
    if not unsteady:
        return None
    reason = f"{unsteady} of {len(steady)} points ran while the machine was not steady"
    return Steadiness((), 0.0, None, None, False, reason)


def best_speedup(measure: Callable[[], float], enough: float, tries: int = TRIES) -> float:
    """The best of up to `tries` measurements, stopping once one is above `enough`; fails with the
    tries' steadiness when none is."""
    found = until_good(measure, lambda value: value > enough, tries)
    best = max(found)
    if best <= enough:
        pytest.fail(f"best of {[round(value, 2) for value in found]} is not above {enough}: {found.report}")
    return best


def wait_for_quiet_cores() -> None:
    """Wait until other work on the machine leaves the cores mostly idle (at most QUIET_DEADLINE_S)."""
    deadline = time.monotonic() + QUIET_DEADLINE_S
    while busy_share() > QUIET_BUSY_SHARE and time.monotonic() < deadline:
        pass  # busy_share() itself waits a moment


def busy_share(interval_s: float = 0.3) -> float:
    """How busy all cores were over `interval_s`, from /proc/stat (steal included: another guest's work)."""

    def busy_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # all but idle and iowait

    busy_0, total_0 = busy_and_total()
    time.sleep(interval_s)
    busy_1, total_1 = busy_and_total()
    return (busy_1 - busy_0) / max(1, total_1 - total_0)
