"""What an X-ray recorded: per thread, its state over time and its context-switch counters.

Times are `time.perf_counter()` seconds (CLOCK_MONOTONIC on Linux, the same
clock in every process), so they line up with the spans the worker records.
Every class converts to plain JSON-ready dicts and back without loss:
`from_dict(to_dict(x)) == x`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from lab.xray.states import ThreadState


@dataclass(frozen=True)
class Segment:
    """A thread was in `state` from `start` until `end` (run-length encoded samples).

    A sample stands for the time until the next sweep, so a thread's
    segments tile its observed life without gaps.
    """

    start: float
    end: float
    state: ThreadState

    def to_list(self) -> list[Any]:
        return [self.start, self.end, self.state.value]

    @classmethod
    def from_list(cls, item: list[Any]) -> Segment:
        start, end, state = item
        return cls(float(start), float(end), ThreadState(state))


@dataclass(frozen=True)
class SwitchCount:
    """A thread's cumulative context switches at time `t`.

    A voluntary switch is the thread blocking (on the GIL, a lock, I/O, a
    sleep); a nonvoluntary one is the kernel taking its core away.
    """

    t: float
    voluntary: int
    nonvoluntary: int

    def to_list(self) -> list[Any]:
        return [self.t, self.voluntary, self.nonvoluntary]

    @classmethod
    def from_list(cls, item: list[Any]) -> SwitchCount:
        t, voluntary, nonvoluntary = item
        return cls(float(t), int(voluntary), int(nonvoluntary))


@dataclass(frozen=True)
class ThreadRecord:
    """One thread of the measured process group, as seen from its first to its last sample."""

    pid: int
    tid: int
    name: str
    first_seen: float
    last_seen: float
    segments: tuple[Segment, ...]
    switches: tuple[SwitchCount, ...]

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.tid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "tid": self.tid,
            "name": self.name,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "segments": [segment.to_list() for segment in self.segments],
            "switches": [count.to_list() for count in self.switches],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ThreadRecord:
        return cls(
            pid=int(data["pid"]),
            tid=int(data["tid"]),
            name=str(data["name"]),
            first_seen=float(data["first_seen"]),
            last_seen=float(data["last_seen"]),
            segments=tuple(Segment.from_list(item) for item in data["segments"]),
            switches=tuple(SwitchCount.from_list(item) for item in data["switches"]),
        )


@dataclass(frozen=True)
class SweepMark:
    """The sampler's own progress at time `t`: sweeps made and CPU seconds spent so far.

    Marks come with every flush, so the number of samples in any window (and
    what sampling it cost) can be read off by interpolation.
    """

    t: float
    sweeps: int
    cpu_s: float

    def to_list(self) -> list[Any]:
        return [self.t, self.sweeps, self.cpu_s]

    @classmethod
    def from_list(cls, item: list[Any]) -> SweepMark:
        t, sweeps, cpu_s = item
        return cls(float(t), int(sweeps), float(cpu_s))


@dataclass(frozen=True)
class Recording:
    """Everything one sampler run saw of one process group.

    `end_reason` says how sampling ended: "stopped" (asked to),
    "group_empty" (every process of the group had ended), "lost" (the
    sampler died without its final flush; what arrived before is kept), or
    "running" for a snapshot taken while sampling goes on.
    """

    pgid: int
    rate_hz: float
    started: float
    ended: float
    end_reason: str
    threads: tuple[ThreadRecord, ...]
    marks: tuple[SweepMark, ...]

    @property
    def sweeps(self) -> int:
        return self.marks[-1].sweeps if self.marks else 0

    @property
    def sampler_cpu_s(self) -> float:
        return self.marks[-1].cpu_s if self.marks else 0.0

    def sweeps_per_s(self) -> float:
        """Sweeps the sampler achieved per second (it skips ticks it is too late for)."""
        if len(self.marks) < 2 or self.marks[-1].t <= self.marks[0].t:
            return 0.0
        first, last = self.marks[0], self.marks[-1]
        return (last.sweeps - first.sweeps) / (last.t - first.t)

    def sweeps_between(self, t0: float, t1: float) -> float:
        """How many sweeps fell in [t0, t1], interpolated between marks."""
        return self._sweeps_at(t1) - self._sweeps_at(t0)

    def _sweeps_at(self, t: float) -> float:
        marks = self.marks
        if not marks or t <= marks[0].t:
            return float(marks[0].sweeps) if marks else 0.0
        for before, after in itertools.pairwise(marks):
            if t <= after.t:
                span = after.t - before.t
                fraction = (t - before.t) / span if span > 0 else 1.0
                return before.sweeps + fraction * (after.sweeps - before.sweeps)
        return float(marks[-1].sweeps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pgid": self.pgid,
            "rate_hz": self.rate_hz,
            "started": self.started,
            "ended": self.ended,
            "end_reason": self.end_reason,
            "threads": [thread.to_dict() for thread in self.threads],
            "marks": [mark.to_list() for mark in self.marks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recording:
        return cls(
            pgid=int(data["pgid"]),
            rate_hz=float(data["rate_hz"]),
            started=float(data["started"]),
            ended=float(data["ended"]),
            end_reason=str(data["end_reason"]),
            threads=tuple(ThreadRecord.from_dict(item) for item in data["threads"]),
            marks=tuple(SweepMark.from_list(item) for item in data["marks"]),
        )
