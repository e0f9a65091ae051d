"""Recordings built by hand, with states and times chosen so the figures can be worked out on paper."""

from __future__ import annotations

from lab.xray.model import Recording, Segment, SweepMark, SwitchCount, ThreadRecord
from lab.xray.states import ThreadState

ON, GIL, IO, SLEEP, QUEUED = (
    ThreadState.ON_CPU,
    ThreadState.GIL_OR_LOCK,
    ThreadState.IO,
    ThreadState.SLEEP,
    ThreadState.WAITING_FOR_CORE,
)


def thread(
    tid: int,
    states: list[tuple[float, float, ThreadState]],
    pid: int = 100,
    switches: tuple[SwitchCount, ...] = (),
) -> ThreadRecord:
    segments = tuple(Segment(start, end, state) for start, end, state in states)
    return ThreadRecord(
        pid=pid,
        tid=tid,
        name=f"t{tid}",
        first_seen=segments[0].start,
        last_seen=segments[-1].end,
        segments=segments,
        switches=switches,
    )


def relay(tids: tuple[int, int], start: float, holds: int, hold_s: float) -> list[ThreadRecord]:
    """Two threads passing the GIL back and forth every `hold_s`, `holds` times."""
    first: list[tuple[float, float, ThreadState]] = []
    second: list[tuple[float, float, ThreadState]] = []
    for index in range(holds):
        t0, t1 = start + index * hold_s, start + (index + 1) * hold_s
        holder, waiter = (first, second) if index % 2 == 0 else (second, first)
        holder.append((t0, t1, ON))
        waiter.append((t0, t1, GIL))
    return [thread(tids[0], first), thread(tids[1], second)]


def recording(
    *threads: ThreadRecord, started: float = 0.0, ended: float = 10.0, rate_hz: float = 100
) -> Recording:
    sweeps = round((ended - started) * rate_hz)
    return Recording(
        pgid=100,
        rate_hz=rate_hz,
        started=started,
        ended=ended,
        end_reason="stopped",
        threads=threads,
        marks=(SweepMark(started, 1, 0.01), SweepMark(ended, sweeps + 1, 0.25)),
    )
