"""The X-ray's figures for one time window: what the task threads of one mode did, and how often at once.

The caller knows which threads ran the tasks (the worker reports each
task's pid and native thread id) and passes them as `{(pid, tid): label}`;
every other thread of the group seen in the window (the coordinating
thread that joins, pool bookkeeping threads, the worker's main thread) is
reported apart, flagged as not a task thread, so a chart can show it
separately without it diluting the figures.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.xray.model import Recording, Segment, SwitchCount, ThreadRecord
from lab.xray.states import ThreadState


@dataclass(frozen=True)
class ThreadFigures:
    """One thread in the window: the share of its observed time in each state, and its switches.

    The seven shares sum to 1 over the part of the window the thread was
    seen in; a task thread never seen in the window is all `unknown`.
    `voluntary_switches` and `nonvoluntary_switches` are the thread's context
    switches in the window, interpolated between the sampler's counter reads
    (about every 0.2 s).
    """

    pid: int
    tid: int
    name: str
    worker: str | None  # the caller's label of a task thread; None for any other thread
    on_cpu: float
    waiting_for_core: float
    gil_or_lock: float
    io: float
    sleep: float
    other: float
    unknown: float
    voluntary_switches: int
    nonvoluntary_switches: int
    segments: tuple[Segment, ...]  # clipped to the window, for a timeline chart

    @property
    def task(self) -> bool:
        return self.worker is not None

    def share(self, state: ThreadState) -> float:
        value: float = getattr(self, state.value)
        return value

    def to_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "tid": self.tid,
            "name": self.name,
            "worker": self.worker,
            "task": self.task,
            **{state.value: self.share(state) for state in ThreadState},
            "voluntary_switches": self.voluntary_switches,
            "nonvoluntary_switches": self.nonvoluntary_switches,
            "segments": [segment.to_list() for segment in self.segments],
        }


@dataclass(frozen=True)
class OnCpuStep:
    """From `t` until the next step (the last: until the window's end), `count` task threads were on a CPU."""

    t: float
    count: int


@dataclass(frozen=True)
class WindowFigures:
    """The figures of one window [t0, t1] of a recording.

    `rate_hz` is the sampling rate achieved in the window (the sampler
    slows below the rate asked for when it would cost more than its CPU
    budget), and `samples` the sweeps that fell in it.

    `mean_on_cpu` is how many task threads were on a CPU at once, on
    average over the part of the window the recording covers: about 1 for
    pure-Python threads under the GIL however many there are, up to the
    number of cores where the work releases the GIL or runs free-threaded.

    `handoffs_per_s` counts GIL (or lock) handoffs: a task thread seen
    waiting on a futex and then on a CPU (perhaps queued for a core in
    between) took the GIL from another thread. Threads that take turns on
    an uncontended GIL (one sleeps or waits on I/O, the other runs) hand
    nothing over and are not counted, nor are threads the kernel
    time-slices on too few cores. It is read from the samples because the
    kernel's counters cannot tell a handoff from other blocking: a forced
    GIL switch between two spinners costs CPython 3.11-3.13 about two
    voluntary context switches (the giver waits for the taker to take over,
    then for the GIL again), and every sleep, lock and I/O wait costs one.
    The price is resolution: a thread that holds the GIL for less than one
    sampling interval can be missed, so the figure reads low once handoffs
    come faster than the rate the sampler achieved.
    """

    t0: float
    t1: float
    rate_hz: float
    samples: int
    mean_on_cpu: float
    handoffs_per_s: float
    threads: tuple[ThreadFigures, ...]  # the task threads, in the order of the caller's mapping
    others: tuple[ThreadFigures, ...]  # the group's other threads seen in the window
    on_cpu_steps: tuple[OnCpuStep, ...]  # task threads on a CPU at once, over time

    def to_dict(self) -> dict[str, Any]:
        return {
            "t0": self.t0,
            "t1": self.t1,
            "rate_hz": self.rate_hz,
            "samples": self.samples,
            "mean_on_cpu": self.mean_on_cpu,
            "handoffs_per_s": self.handoffs_per_s,
            "threads": [thread.to_dict() for thread in self.threads],
            "others": [thread.to_dict() for thread in self.others],
            "on_cpu_steps": [[step.t, step.count] for step in self.on_cpu_steps],
        }


def window_figures(
    recording: Recording, t0: float, t1: float, workers: Mapping[tuple[int, int], str]
) -> WindowFigures:
    """The figures of [t0, t1] for the task threads in `workers` ({(pid, tid): label})."""
    start, end = max(t0, recording.started), min(t1, recording.ended)
    covered = max(0.0, end - start)
    by_key = {thread.key: thread for thread in recording.threads}
    tasks = tuple(_thread_figures(by_key.get(key), key, label, start, end) for key, label in workers.items())
    others = tuple(
        figures
        for thread in recording.threads
        if thread.key not in workers
        and (figures := _thread_figures(thread, thread.key, None, start, end)).segments
    )
    on_cpu_time = sum(_duration(thread.segments, ThreadState.ON_CPU) for thread in tasks)
    handoffs = sum(_handoffs(thread.segments) for thread in tasks)
    sweeps = recording.sweeps_between(start, end) if covered else 0.0
    return WindowFigures(
        t0=t0,
        t1=t1,
        rate_hz=sweeps / covered if covered else 0.0,
        samples=round(sweeps),
        mean_on_cpu=on_cpu_time / covered if covered else 0.0,
        handoffs_per_s=handoffs / covered if covered else 0.0,
        threads=tasks,
        others=others,
        on_cpu_steps=_on_cpu_steps(tasks, start, end) if covered else (),
    )


def _thread_figures(
    thread: ThreadRecord | None, key: tuple[int, int], worker: str | None, start: float, end: float
) -> ThreadFigures:
    segments = _clip(thread.segments, start, end) if thread is not None else ()
    observed = sum(segment.end - segment.start for segment in segments)
    if observed > 0:
        shares = {state: _duration(segments, state) / observed for state in ThreadState}
    else:
        shares = {state: float(state == ThreadState.UNKNOWN) for state in ThreadState}
    switches = thread.switches if thread is not None else ()
    return ThreadFigures(
        pid=key[0],
        tid=key[1],
        name=thread.name if thread is not None else "",
        worker=worker,
        on_cpu=shares[ThreadState.ON_CPU],
        waiting_for_core=shares[ThreadState.WAITING_FOR_CORE],
        gil_or_lock=shares[ThreadState.GIL_OR_LOCK],
        io=shares[ThreadState.IO],
        sleep=shares[ThreadState.SLEEP],
        other=shares[ThreadState.OTHER],
        unknown=shares[ThreadState.UNKNOWN],
        voluntary_switches=_switch_delta(switches, start, end, voluntary=True),
        nonvoluntary_switches=_switch_delta(switches, start, end, voluntary=False),
        segments=segments,
    )


def _clip(segments: Iterable[Segment], start: float, end: float) -> tuple[Segment, ...]:
    return tuple(
        Segment(max(segment.start, start), min(segment.end, end), segment.state)
        for segment in segments
        if segment.end > start and segment.start < end
    )


def _duration(segments: Iterable[Segment], state: ThreadState) -> float:
    return sum(segment.end - segment.start for segment in segments if segment.state == state)


def _handoffs(segments: tuple[Segment, ...]) -> int:
    """Times the thread got on a CPU after waiting on a futex, queued for a core or not in between.

    On a busy machine a thread handed the GIL often has to wait for a core
    before it runs, so the wait for a core does not break the handoff; a
    thread preempted while it holds the GIL and then back on a CPU took
    nothing over.
    """
    handoffs = 0
    waited_on_futex = False
    for segment in segments:
        if segment.state == ThreadState.ON_CPU:
            handoffs += waited_on_futex
            waited_on_futex = False
        elif segment.state != ThreadState.WAITING_FOR_CORE:
            waited_on_futex = segment.state == ThreadState.GIL_OR_LOCK
    return handoffs


def _switch_delta(switches: tuple[SwitchCount, ...], start: float, end: float, *, voluntary: bool) -> int:
    def count_at(t: float) -> float:
        values = [(item.t, item.voluntary if voluntary else item.nonvoluntary) for item in switches]
        if t <= values[0][0]:
            return values[0][1]
        for (t_a, a), (t_b, b) in itertools.pairwise(values):
            if t <= t_b:
                return a + (b - a) * (t - t_a) / (t_b - t_a) if t_b > t_a else b
        return values[-1][1]

    return round(count_at(end) - count_at(start)) if switches else 0


def _on_cpu_steps(tasks: Iterable[ThreadFigures], start: float, end: float) -> tuple[OnCpuStep, ...]:
    changes: dict[float, int] = {}
    for thread in tasks:
        for segment in thread.segments:
            if segment.state == ThreadState.ON_CPU:
                changes[segment.start] = changes.get(segment.start, 0) + 1
                changes[segment.end] = changes.get(segment.end, 0) - 1
    steps = [OnCpuStep(start, changes.pop(start, 0))]
    count = steps[0].count
    for t in sorted(changes):
        count += changes[t]
        if t < end and count != steps[-1].count:
            steps.append(OnCpuStep(t, count))
    return tuple(steps)
