"""The convoy lab's settings: which CPU-thread counts and switch intervals, for how long, under which Python.

Raw input (CLI strings, form values, links, CSV cells) becomes settings only
through `ConvoySettings.create`, with one-line messages; public mode's rules
come in through `admit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings
from lab.core.interpreters import GIL_SETTINGS
from lab.core.validate import blank_to_none, bounded, whole

# Below 0.1 ms a handoff's own cost is most of the interval; above 100 ms one ping can take seconds.
MIN_SWITCH_INTERVAL_MS, MAX_SWITCH_INTERVAL_MS = 0.1, 100.0


MIN_SECONDS, MAX_SECONDS = 0.2, 30.0


DEFAULT_CPU_THREADS: tuple[int, ...] = (0, 1, 2, 4)


DEFAULT_SWITCH_INTERVALS_MS: tuple[float, ...] = (1.0, 5.0, 20.0)  # CPython's default, 5 ms, in the middle


MAX_CPU_THREADS = 16  # on any machine, more pure-Python threads only lengthen the same queue


MAX_THREAD_COUNTS = 8


MAX_SWITCH_INTERVALS = 6


DEFAULT_SECONDS = 1.0  # why: see `ping_gap_ms`


# The client's pause after each reply, beyond the convoy's own share (see `ping_gap_ms`).
MIN_PING_GAP_MS = 2.0


PING_TIMEOUT_MS = 5000.0  # a ping unanswered this long counts as lost; 16 threads x 100 ms stay well below


def parse_counts(value: Any) -> tuple[int, ...]:
    """'0,1,2,4' or a list -> distinct CPU-thread counts, ascending, each in [0, MAX_CPU_THREADS]."""
    items = split_items(value, "cpu-threads")
    counts = sorted({whole("cpu-threads", item, 0, 0, MAX_CPU_THREADS) for item in items})
    if len(counts) > MAX_THREAD_COUNTS:
        raise InvalidSettings(f"--cpu-threads takes at most {MAX_THREAD_COUNTS} counts, got {len(counts)}")
    return tuple(counts)


def parse_intervals(value: Any) -> tuple[float, ...]:
    """'1,5,20' or a list -> distinct switch intervals in ms, ascending, each in the allowed range."""
    items = split_items(value, "switch-interval-ms")
    intervals = sorted(
        {
            bounded("switch-interval-ms", item, MIN_SWITCH_INTERVAL_MS, MAX_SWITCH_INTERVAL_MS)
            for item in items
        }
    )
    if len(intervals) > MAX_SWITCH_INTERVALS:
        raise InvalidSettings(
            f"--switch-interval-ms takes at most {MAX_SWITCH_INTERVALS} intervals, got {len(intervals)}"
        )
    return tuple(intervals)


def split_items(value: Any, name: str) -> list[Any]:
    """A comma-separated string, a list, or one number -> its items; none at all is an error."""
    items: list[Any]
    if isinstance(value, str):
        items = [item.strip() for item in value.split(",")]
    elif isinstance(value, int | float):
        items = [value]
    else:
        items = list(value)
    items = [item for item in items if item != ""]
    if not items:
        raise InvalidSettings(f"--{name} needs at least one value")
    return items


@dataclass(frozen=True)
class ConvoySettings:
    """Which points to measure, for how long each, under which interpreter and GIL switch."""

    cpu_threads: tuple[int, ...] = DEFAULT_CPU_THREADS
    switch_intervals_ms: tuple[float, ...] = DEFAULT_SWITCH_INTERVALS_MS
    seconds: float = DEFAULT_SECONDS
    python: str | None = None  # an interpreter's name or path; None: the lab's own
    gil: str | None = None  # "on"/"off" on a free-threaded build; None: the build's default

    @classmethod
    def create(
        cls,
        *,
        cpu_threads: Any = None,
        switch_intervals_ms: Any = None,
        seconds: Any = None,
        python: Any = None,
        gil: Any = None,
    ) -> ConvoySettings:
        """Validate raw values (numbers, strings, lists); None or blank means the default."""
        cpu_threads, switch_intervals_ms = blank_to_none(cpu_threads), blank_to_none(switch_intervals_ms)
        seconds, python, gil = blank_to_none(seconds), blank_to_none(python), blank_to_none(gil)
        if gil is not None and gil not in GIL_SETTINGS:
            raise InvalidSettings(f"--gil must be on or off, not {str(gil)[:20]!r}")
        return cls(
            cpu_threads=DEFAULT_CPU_THREADS if cpu_threads is None else parse_counts(cpu_threads),
            switch_intervals_ms=DEFAULT_SWITCH_INTERVALS_MS
            if switch_intervals_ms is None
            else parse_intervals(switch_intervals_ms),
            seconds=DEFAULT_SECONDS
            if seconds is None
            else bounded("seconds", seconds, MIN_SECONDS, MAX_SECONDS),
            python=None if python is None else str(python),
            gil=gil,
        )

    def points(self) -> list[tuple[int, float]]:
        """(CPU threads, switch interval) in the order they run: one switch interval's line at a time."""
        return [(count, interval) for interval in self.switch_intervals_ms for count in self.cpu_threads]

    @property
    def max_threads(self) -> int:
        """The most threads one point's process runs: its CPU threads, the probe and the main thread."""
        return max(self.cpu_threads) + 2

    def describe(self) -> str:
        counts = ", ".join(str(count) for count in self.cpu_threads)
        intervals = ", ".join(f"{interval:g}" for interval in self.switch_intervals_ms)
        return f"CPU threads {counts} × switch interval {intervals} ms, {self.seconds:g} s per point"

    def admit(self, hosting: HostRules) -> ConvoySettings:
        """This host's rules (`Hosting.admit` calls it): public mode's cap on threads and its time budget."""
        if hosting.public and self.max_threads > hosting.limits.max_concurrency:
            raise InvalidSettings(
                f"at most {hosting.limits.max_concurrency} threads here; lower the CPU threads"
            )
        hosting.check_budget(
            self.cost(hosting.usable_cores), "the duration, the CPU threads or the switch intervals"
        )
        return self

    def cost(self, usable_cores: float) -> float:
        """Every point's window and its start-up, whatever the cores (each point is a fixed window)."""
        return estimate_seconds(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_threads": list(self.cpu_threads),
            "switch_intervals_ms": list(self.switch_intervals_ms),
            "seconds": self.seconds,
            "python": self.python,
            "gil": self.gil,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvoySettings:
        return cls.create(
            cpu_threads=data.get("cpu_threads"),
            switch_intervals_ms=data.get("switch_intervals_ms"),
            seconds=data.get("seconds"),
            python=data.get("python"),
            gil=data.get("gil"),
        )


POINT_OVERHEAD_S = 0.35  # measured: start the probe, the X-ray and the client, then let them end


def estimate_seconds(settings: ConvoySettings) -> float:
    """Wall time of the whole run: each point's window plus starting and ending its processes."""
    return len(settings.points()) * (settings.seconds + POINT_OVERHEAD_S)


def ping_gap_ms(cpu_threads: int, switch_interval_ms: float) -> float:
    """The client's steady pause after each reply before its next ping: 2 ms plus K switch intervals.

    Each ping must find the probe blocked in `recvfrom`, so that its round trip
    is one wake-up and one wait for the GIL, as in CPython's old ccbench (which
    pinged every 100 ms). After replying, the probe needs the GIL once more to
    get back there (`sendto` released it), and measured here it often waits a
    whole interval for it behind one CPU thread: with a gap of 2 ms alone, a
    ping behind one thread at 20 ms took about 40 ms, two waits. K intervals
    cover that wait behind one CPU thread always and behind K usually.

    This sets the pace, and with it the defaults: a point gets about
    1 / (latency + gap) pings a second, 300-500 with no CPU thread, about 170
    behind one at 1 ms, enough for a p99; about 25 behind one at 20 ms and a
    handful behind four, where nothing short of many seconds gives a real p99
    (the takeaway says so). One second per point keeps the default run (12
    points) near 15 s and the 9 points of 0,1,2 x 1,5,20 near 11 s.
    """
    return MIN_PING_GAP_MS + cpu_threads * switch_interval_ms
