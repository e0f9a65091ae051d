"""How steady the machine was during a run: its speed, measured before, between and after the timed parts.

A ratio between two timed modes means something only if the machine ran at
the same speed for both. Laptops change clock speed with heat and battery,
cloud vCPUs slow down for minutes without any steal time showing, and a build
or a browser beside the run takes a core. Checking the cores *before* a run
(as the timing tests used to) cannot see a core that slows down during it, so
the meter measures the machine's speed *during* the run:

- a calibration: a fixed piece of pure-Python work on one thread, sized once
  per process to take about CALIBRATION_TARGET_MS, timed with `perf_counter`
  before the first timed part, between parts and after the last (never inside
  one). `thread_time` tells a calibration that was preempted (its thread got
  less than PREEMPTED_SHARE of the wall time) from a slow core: such a try is
  done again, so a calibration measures the core's speed, not its share of it;
- the cores' busy time from /proc/stat over the run, minus the run's own CPU
  time (getrusage: this process and the children it has reaped, or what the
  caller passes), which is what *other* processes took; and the steal time, the
  share of the cores the hypervisor gave to another guest.

Thresholds, and why (each one alone makes a run unsteady):

- SPEED_CHANGE_LIMIT = 0.20: (slowest - fastest) / median calibration. Quiet
  cores repeat a few-ms calibration within a few per cent (cache and branch
  state, timer ticks), and the lab's claims are ratios of 1.3x and more; the
  slowdowns seen on shared vCPUs were 1.5x to 2x. 20 % is well above the
  first and well below the second.
- OTHERS_BUSY_LIMIT = 0.5 cores: half a core of other work on a 2-core
  machine takes a quarter of what a processes mode can use, enough to move a
  speedup by more than the lab's bounds allow; less (a terminal, an idle
  browser, the page polling) is everyday noise a user cannot avoid.
- STEAL_LIMIT = 0.05: 5 % of the cores' time given to another guest is the
  level at which cloud guides say the host is contended.

Fail-safe by design: off Linux (no /proc/stat) the busy and steal figures are
None and only the speed change decides; nothing here raises.
Standard library only: the engine's worker imports it.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CALIBRATION_TARGET_MS = 2.0
PREEMPTED_SHARE = 0.9  # a calibration whose thread ran less than this share of its wall time is redone
CALIBRATION_TRIES = 3  # at most this many tries per calibration; the fastest counts
SPEED_CHANGE_LIMIT = 0.20
OTHERS_BUSY_LIMIT = 0.5
STEAL_LIMIT = 0.05
MIN_TICKS = 20  # fewer /proc/stat ticks than this over the run (all cores) is too short to tell
PROC_STAT = "/proc/stat"

Clock = Callable[[], float]


@dataclass(frozen=True)
class Steadiness:
    """The run's steadiness: its calibrations (ms), their spread, other work and steal; steady or why not."""

    calibration_ms: tuple[float, ...]
    speed_change: float
    others_busy_cores: float | None
    steal: float | None
    steady: bool
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibration_ms": list(self.calibration_ms),
            "speed_change": self.speed_change,
            "others_busy_cores": self.others_busy_cores,
            "steal": self.steal,
            "steady": self.steady,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Steadiness:
        """Rebuild from `to_dict`; figures an older file lacks are None (unknown), never invented."""
        others, steal = data.get("others_busy_cores"), data.get("steal")
        return cls(
            calibration_ms=tuple(float(ms) for ms in data.get("calibration_ms") or ()),
            speed_change=float(data.get("speed_change") or 0.0),
            others_busy_cores=None if others is None else float(others),
            steal=None if steal is None else float(steal),
            steady=bool(data.get("steady", True)),
            reason=data.get("reason"),
        )

    def warning(self) -> str | None:
        """The one line a person sees when the run was not steady (None when it was)."""
        if self.steady:
            return None
        return f"{self.reason}; compare its ratios with care, or run again"


def judge(
    calibration_ms: tuple[float, ...], others_busy_cores: float | None, steal: float | None
) -> Steadiness:
    """Apply the thresholds (see the module's docstring) to the figures of one run."""
    speed_change = 0.0
    if len(calibration_ms) >= 2:
        median = statistics.median(calibration_ms)
        speed_change = (max(calibration_ms) - min(calibration_ms)) / median if median > 0 else 0.0
    reason = None
    if speed_change > SPEED_CHANGE_LIMIT:
        reason = f"the machine's speed changed by {speed_change:.0%} during this run"
    elif others_busy_cores is not None and others_busy_cores > OTHERS_BUSY_LIMIT:
        reason = f"other work kept {others_busy_cores:.1f} cores busy during this run"
    elif steal is not None and steal > STEAL_LIMIT:
        reason = f"the host gave {steal:.0%} of the cores' time to other machines (steal) during this run"
    return Steadiness(calibration_ms, speed_change, others_busy_cores, steal, reason is None, reason)


@dataclass(frozen=True)
class CpuTicks:
    """The all-cores line of /proc/stat: busy ticks (all but idle and iowait), steal, total; and the cores."""

    busy: int
    steal: int
    total: int
    cores: int


def parse_proc_stat(text: str) -> CpuTicks | None:
    """The figures of /proc/stat's text, or None when it is not in the expected shape."""
    try:
        lines = text.splitlines()
        ticks = [int(value) for value in lines[0].split()[1:]]
        cores = sum(1 for line in lines if line.startswith("cpu") and line[3:4].isdigit())
        if not lines[0].startswith("cpu ") or len(ticks) < 4 or cores < 1:
            return None
        steal = ticks[7] if len(ticks) > 7 else 0
        # guest time is already counted in user time (proc(5)): columns 8 and 9 are left out of the sum
        total = sum(ticks[:8])
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        return CpuTicks(busy=total - idle, steal=steal, total=total, cores=cores)
    except (IndexError, ValueError):
        return None


def read_proc_stat() -> CpuTicks | None:
    """This machine's /proc/stat figures; None off Linux or when it cannot be read."""
    try:
        with open(PROC_STAT, encoding="ascii") as stat:
            return parse_proc_stat(stat.read())
    except (OSError, UnicodeDecodeError):
        return None


def own_cpu_seconds() -> float | None:
    """CPU seconds of this process and the children it has waited for; None where getrusage is missing."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
    except (OSError, ValueError):  # pragma: no cover - a platform without these
        return None
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def spin(loops: int) -> int:
    """The calibration's work: plain arithmetic in the interpreter's loop, no allocation to speak of."""
    total = 0
    for value in range(loops):
        total = (total + value * value) % 1_000_003
    return total


_sized_loops: int | None = None


def calibration_loops(clock: Clock = time.perf_counter) -> int:
    """How many `spin` loops take about CALIBRATION_TARGET_MS here; measured once per process."""
    global _sized_loops
    if _sized_loops is None:
        loops, seconds = 1000, 0.0
        while seconds < 0.0005 and loops < 100_000_000:  # grow until the timing is well above the clock's
            loops *= 4
            seconds = _time_spin(loops, clock)
        seconds = min(seconds, _time_spin(loops, clock))  # the first pass may include warming up
        _sized_loops = max(1000, int(loops * CALIBRATION_TARGET_MS / 1000 / max(seconds, 1e-9)))
    return _sized_loops


def _time_spin(loops: int, clock: Clock) -> float:
    start = clock()
    spin(loops)
    return clock() - start


def calibrate(loops: int, clock: Clock = time.perf_counter, thread_clock: Clock = time.thread_time) -> float:
    """Milliseconds `loops` of `spin` take on one thread: the fastest of the tries that were not preempted.

    Every try is timed; one whose thread got less than PREEMPTED_SHARE of its
    wall time lost the core to something else, so another try follows (at most
    CALIBRATION_TRIES). When all were preempted, the fastest still counts:
    other work then shows in `others_busy_cores` as well.
    """
    best = float("inf")
    for _ in range(CALIBRATION_TRIES):
        start, thread_start = clock(), thread_clock()
        spin(loops)
        wall, on_cpu = clock() - start, thread_clock() - thread_start
        best = min(best, wall)
        if on_cpu >= PREEMPTED_SHARE * wall:
            break
    return best * 1000


class Meter:
    """Measures one run's steadiness: `start()` before the first timed part, `mark()` between, `finish()`.

    Each call calibrates (a few ms); `finish` reads /proc/stat again and judges.
    The clocks, the /proc/stat reader and the own-CPU reader are parameters, so
    tests can stand in for the machine. Nothing raises: a missing figure is None.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.perf_counter,
        thread_clock: Clock = time.thread_time,
        read_stat: Callable[[], CpuTicks | None] = read_proc_stat,
        own_cpu: Callable[[], float | None] = own_cpu_seconds,
        loops: int | None = None,
    ) -> None:
        self._clock, self._thread_clock = clock, thread_clock
        self._read_stat, self._own_cpu = read_stat, own_cpu
        self._loops = loops
        self.calibrations: list[float] = []
        self._started_at: float | None = None
        self._stat: CpuTicks | None = None
        self._cpu: float | None = None

    @property
    def started(self) -> bool:
        return self._started_at is not None

    def start(self) -> None:
        """Calibrate and take the first readings (again on a second call: the run starts over)."""
        self.calibrations = []
        self.mark()
        self._stat, self._cpu = self._read_stat(), self._own_cpu()
        self._started_at = self._clock()

    def mark(self) -> None:
        """One calibration, between two timed parts of the run."""
        if self._loops is None:
            self._loops = calibration_loops(self._clock)
        with contextlib.suppress(Exception):  # a meter never breaks the run it watches
            self.calibrations.append(round(calibrate(self._loops, self._clock, self._thread_clock), 4))

    def finish(self, own_cpu_seconds: float | None = None, calibrate_now: bool = True) -> Steadiness:
        """Calibrate once more and judge the run; `own_cpu_seconds` overrides the run's CPU from getrusage."""
        if calibrate_now:
            self.mark()
        others = steal = None
        end_stat = self._read_stat()
        if self._started_at is not None and self._stat is not None and end_stat is not None:
            wall = self._clock() - self._started_at
            ticks = end_stat.total - self._stat.total
            if wall > 0 and ticks >= MIN_TICKS:
                steal = max(0.0, (end_stat.steal - self._stat.steal) / ticks)
                busy_cores = (end_stat.busy - self._stat.busy) / ticks * end_stat.cores
                own = own_cpu_seconds
                if own is None:
                    end_cpu = self._own_cpu()
                    own = None if end_cpu is None or self._cpu is None else end_cpu - self._cpu
                if own is not None:
                    others = round(max(0.0, busy_cores - own / wall), 3)
                steal = round(steal, 4)
        return judge(tuple(self.calibrations), others, steal)
