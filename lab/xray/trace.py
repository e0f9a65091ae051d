"""Export to the Chrome Trace Event format, which ui.perfetto.dev and chrome://tracing open.

Two kinds of tracks: the task spans the worker measured, on each task's
real (pid, tid) track, and the X-ray's state segments, on a track of their
own next to each thread. They need their own track because complete (`X`)
events on one track must nest, and a state segment can straddle a task's
start or end. A state track's tid is the thread's tid plus `STATE_TRACK_OFFSET`,
above Linux's largest possible pid (2^22), so it never collides with a real
thread.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.xray.model import Recording

STATE_TRACK_OFFSET = 1 << 22
JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class TaskSpan:
    """One task as the worker measured it: which thread ran it, from when to when (perf_counter s)."""

    pid: int
    tid: int
    name: str
    start_s: float
    end_s: float
    args: Mapping[str, JsonScalar] = field(default_factory=dict)


def chrome_trace(
    spans: Iterable[TaskSpan] = (),
    recording: Recording | None = None,
    *,
    process_names: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """A `{"traceEvents": [...]}` dict: metadata events first, then complete events by start time.

    Times become microseconds since the earliest span or segment, so every
    `ts` is non-negative. Threads are named by the kernel's name for them
    (as the recording saw it) and their tid; `process_names` labels
    processes (e.g. {worker_pid: "worker"}).
    """
    spans = list(spans)
    threads = recording.threads if recording is not None else ()
    starts = [span.start_s for span in spans]
    starts += [segment.start for thread in threads for segment in thread.segments]
    origin = min(starts, default=0.0)

    def micros(seconds: float) -> float:
        return round((seconds - origin) * 1e6, 3)

    def duration(start: float, end: float) -> float:
        return round(micros(end) - micros(start), 3)

    complete: list[dict[str, Any]] = []
    thread_names: dict[tuple[int, int], str] = {}
    for span in spans:
        thread_names.setdefault((span.pid, span.tid), f"tid {span.tid}")
        complete.append(
            {
                "ph": "X",
                "cat": "task",
                "name": span.name,
                "pid": span.pid,
                "tid": span.tid,
                "ts": micros(span.start_s),
                "dur": duration(span.start_s, span.end_s),
                "args": dict(span.args),
            }
        )
    for thread in threads:
        thread_names[thread.key] = f"{thread.name} (tid {thread.tid})"
        thread_names[(thread.pid, thread.tid + STATE_TRACK_OFFSET)] = (
            f"{thread.name} (tid {thread.tid}) states"
        )
        for segment in thread.segments:
            complete.append(
                {
                    "ph": "X",
                    "cat": "xray",
                    "name": segment.state.value,
                    "pid": thread.pid,
                    "tid": thread.tid + STATE_TRACK_OFFSET,
                    "ts": micros(segment.start),
                    "dur": duration(segment.start, segment.end),
                }
            )
    complete.sort(key=lambda event: (event["ts"], -event["dur"]))  # a parent before what it holds
    return {"traceEvents": _metadata(thread_names, process_names or {}) + complete, "displayTimeUnit": "ms"}


def _metadata(
    thread_names: Mapping[tuple[int, int], str], process_names: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Names for every process and thread track, and an order that puts a state track under its thread."""
    events: list[dict[str, Any]] = []
    pids = sorted({pid for pid, _ in thread_names} | set(process_names))
    for pid in pids:
        name = process_names.get(pid, f"pid {pid}")
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}})
    for (pid, tid), name in sorted(thread_names.items()):
        real_tid = tid - STATE_TRACK_OFFSET if tid >= STATE_TRACK_OFFSET else tid
        order = 2 * real_tid + (tid >= STATE_TRACK_OFFSET)
        events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}})
        events.append(
            {"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": order}}
        )
    return events
