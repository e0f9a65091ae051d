"""The convoy lab's settings and results: how long an I/O thread queues for the GIL behind CPU threads.

One point per K CPU threads x switch interval: a probe thread in the measured
process answers UDP pings beside K pure-Python CPU threads, and a client in
another process times each round trip (see `lab.engine.convoy_runner`). The
settings validate raw input in one place for the CLI, the page and CSV
import; the results keep every round trip (a lossless JSON round trip) and
derive the figures the table, the CSV, the charts and the takeaway read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine import Machine
from lab.core.records import new_run_id, now_iso, parse_json
from lab.core.validate import blank_to_none, bounded, whole
from lab.engine.results import RunInterpreter
from lab.engine.settings import GIL_SETTINGS

CONVOY_SCHEMA_VERSION = 1
CONVOY_KIND = "convoy"
CONVOY_STATUSES = ("complete", "cut_short", "cancelled", "crashed")

MAX_CPU_THREADS = 16  # on any machine, more pure-Python threads only lengthen the same queue
MAX_THREAD_COUNTS = 8
MAX_SWITCH_INTERVALS = 6
# Below 0.1 ms a handoff's own cost is most of the interval; above 100 ms one ping can take seconds.
MIN_SWITCH_INTERVAL_MS, MAX_SWITCH_INTERVAL_MS = 0.1, 100.0
MIN_SECONDS, MAX_SECONDS = 0.2, 30.0
DEFAULT_CPU_THREADS: tuple[int, ...] = (0, 1, 2, 4)
DEFAULT_SWITCH_INTERVALS_MS: tuple[float, ...] = (1.0, 5.0, 20.0)  # CPython's default, 5 ms, in the middle
DEFAULT_SECONDS = 1.0  # why: see `ping_gap_ms`
# The client's pause after each reply, beyond the convoy's own share (see `ping_gap_ms`).
MIN_PING_GAP_MS = 2.0
PING_TIMEOUT_MS = 5000.0  # a ping unanswered this long counts as lost; 16 threads x 100 ms stay well below
P99_MIN_PINGS = 100  # below this many pings a p99 is little more than the slowest one


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
    items = [item.strip() for item in value.split(",")] if isinstance(value, str) else list(value)
    items = [item for item in items if item != ""]
    if not items:
        raise InvalidSettings(f"--{name} needs at least one value")
    return items


class ThreadLimits(Protocol):
    @property
    def max_concurrency(self) -> int: ...


class HostRules(Protocol):
    """What admission needs of `lab.hosting.admission.Hosting`, which this layer may not import."""

    @property
    def public(self) -> bool: ...

    @property
    def limits(self) -> ThreadLimits: ...

    def check_budget(self, seconds: float, advice: str) -> None: ...


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
        hosting.check_budget(estimate_seconds(self), "the duration, the CPU threads or the switch intervals")
        return self

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


def cpu_threads_text(count: int) -> str:
    """'1 CPU thread', '4 CPU threads': how every report names a point's thread count."""
    return f"{count} CPU thread{'' if count == 1 else 's'}"


def percentile(ordered: tuple[float, ...], q: float) -> float | None:
    """The q-th percentile of sorted values, interpolated linearly (numpy's default); None if empty."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class PointSummary:
    """One point's figures: what the table, the CSV row, the charts and the takeaway read.

    The last three come from the X-ray of the point's window (None without
    it): the share of the window the probe thread spent waiting on a futex
    (in this process, the GIL), how many of the probe and CPU threads were on
    a core at once (about 1 under the GIL, however many threads), and GIL
    handoffs a second.
    """

    cpu_threads: int
    switch_interval_ms: float
    pings: int
    lost: int
    seconds: float
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    gil_enabled: bool
    probe_gil_share: float | None = None
    threads_on_cpu: float | None = None
    handoffs_per_s: float | None = None

    @property
    def key(self) -> tuple[int, float]:
        return (self.cpu_threads, self.switch_interval_ms)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class ConvoyPoint:
    """One point as measured: every answered ping (sent when, round trip in ms), the lost ones, the X-ray.

    `seconds` is the client's window, from its first ping to its last reply;
    `xray` holds `lab.xray.figures.WindowFigures.to_dict()` for that window
    (threads labelled "probe" and "cpu-1".."cpu-K"), or None with `xray_note`
    saying why. `gil_enabled` is the measured process's state at its end.
    """

    cpu_threads: int
    switch_interval_ms: float
    seconds: float
    at: tuple[float, ...]
    latency_ms: tuple[float, ...]
    lost: int
    gil_enabled: bool
    xray: dict[str, Any] | None = None
    xray_note: str | None = None

    @cached_property
    def ordered(self) -> tuple[float, ...]:
        return tuple(sorted(self.latency_ms))

    def summary(self) -> PointSummary:
        ordered = self.ordered
        return PointSummary(
            cpu_threads=self.cpu_threads,
            switch_interval_ms=self.switch_interval_ms,
            pings=len(ordered),
            lost=self.lost,
            seconds=self.seconds,
            mean_ms=sum(ordered) / len(ordered) if ordered else None,
            p50_ms=percentile(ordered, 50),
            p99_ms=percentile(ordered, 99),
            max_ms=ordered[-1] if ordered else None,
            gil_enabled=self.gil_enabled,
            probe_gil_share=self._probe_share("gil_or_lock"),
            threads_on_cpu=None if self.xray is None else float(self.xray["mean_on_cpu"]),
            handoffs_per_s=None if self.xray is None else float(self.xray["handoffs_per_s"]),
        )

    def _probe_share(self, state: str) -> float | None:
        if self.xray is None:
            return None
        probe = next((thread for thread in self.xray["threads"] if thread["worker"] == "probe"), None)
        return None if probe is None else float(probe[state])

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary().to_dict(),
            "at": list(self.at),
            "latency_ms": list(self.latency_ms),
            "xray": self.xray,
            "xray_note": self.xray_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvoyPoint:
        at = tuple(float(value) for value in data["at"])
        latency = tuple(float(value) for value in data["latency_ms"])
        if len(at) != len(latency):
            raise ValueError("a point has different numbers of send times and latencies")
        return cls(
            cpu_threads=whole("cpu-threads", data["cpu_threads"], 0, 0, MAX_CPU_THREADS),
            switch_interval_ms=float(data["switch_interval_ms"]),
            seconds=float(data["seconds"]),
            at=at,
            latency_ms=latency,
            lost=int(data["lost"]),
            gil_enabled=bool(data["gil_enabled"]),
            xray=data.get("xray"),
            xray_note=data.get("xray_note"),
        )


def summaries_ok(status: str, settings: ConvoySettings, summaries: Iterable[PointSummary]) -> bool:
    """Complete, every point measured, and every point answered pings."""
    summaries = list(summaries)
    measured = sorted(summary.key for summary in summaries)
    return (
        status == "complete"
        and measured == sorted(settings.points())
        and all(summary.pings > 0 for summary in summaries)
    )


@dataclass(frozen=True)
class ConvoyResult:
    """A whole convoy run: settings, machine, the interpreter as it was at the end, every point measured."""

    settings: ConvoySettings
    machine: Machine
    points: tuple[ConvoyPoint, ...]
    interpreter: RunInterpreter | None = None
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = CONVOY_SCHEMA_VERSION

    def summaries(self) -> list[PointSummary]:
        return [point.summary() for point in self.points]

    def point(self, cpu_threads: int, switch_interval_ms: float) -> ConvoyPoint | None:
        return next(
            (
                p
                for p in self.points
                if (p.cpu_threads, p.switch_interval_ms) == (cpu_threads, switch_interval_ms)
            ),
            None,
        )

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.summaries())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": CONVOY_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "settings": self.settings.to_dict(),
            "points": [point.to_dict() for point in self.points],
            "interpreter": self.interpreter.to_dict() if self.interpreter is not None else None,
            "machine": self.machine.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvoyResult:
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ResultsFormatError("not a GIL Lab result: no schema_version")
        if data.get("kind") != CONVOY_KIND:
            raise ResultsFormatError("not a GIL Lab convoy result: its kind is not 'convoy'")
        if data["schema_version"] != CONVOY_SCHEMA_VERSION:
            raise ResultsFormatError(
                f"convoy result has schema version {data['schema_version']}, "
                f"this GIL Lab reads {CONVOY_SCHEMA_VERSION}"
            )
        if data.get("status") not in CONVOY_STATUSES:
            raise ResultsFormatError(f"unknown status {str(data.get('status'))[:40]!r}")
        try:
            interpreter = data.get("interpreter")
            return cls(
                settings=ConvoySettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                points=tuple(ConvoyPoint.from_dict(point) for point in data["points"]),
                interpreter=None if interpreter is None else RunInterpreter.from_dict(interpreter),
                status=data["status"],
                message=data.get("message"),
                run_id=data["run_id"],
                created=data["created"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab convoy result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> ConvoyResult:
        return cls.from_dict(parse_json(text))
