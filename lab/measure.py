"""Timing one task where it runs, and the CPU a whole mode used.

A task is timed inside the thread or process that runs it: wall clock with
`perf_counter` (system-wide on Linux, so spans from pool workers line up with
the parent's clock) and CPU with `thread_time`, the CPU of that one thread.
The gap between them is time spent waiting: for the GIL, the network or sleep.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass

from lab.results import TaskSpan
from lab.workloads import TaskSpec, check_download, check_sleep, download_path, perform

try:
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]


def describe_error(exc: BaseException) -> str:
    """One line for a failed task: the exception's own message, or its type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text or type(exc).__name__


def closed_span(
    index: int, worker: str, start: float, cpu_start: float, value: str | None, error: str | None
) -> TaskSpan:
    """Read both clocks as the task ends and build its span."""
    cpu, end = time.thread_time() - cpu_start, time.perf_counter()
    return TaskSpan(index, worker, os.getpid(), start, end, cpu, error is None, error, value)


def measured(spec: TaskSpec, index: int, worker: str | None = None) -> TaskSpan:
    """Run one task in the calling thread and time it there. Never raises for task errors."""
    label = worker or threading.current_thread().name
    start, cpu_start = time.perf_counter(), time.thread_time()
    value: str | None = None
    error: str | None = None
    try:
        value = perform(spec, index)
    except Exception as exc:  # a failed task is a result, not a crash
        error = describe_error(exc)
    return closed_span(index, label, start, cpu_start, value, error)


def measured_in_process(spec: TaskSpec, index: int) -> TaskSpan:
    """Pool entry point: the worker is named by its pid, the row it gets on the timeline."""
    return measured(spec, index, worker=f"pid {os.getpid()}")


def measured_in_task(spec: TaskSpec, index: int) -> TaskSpan:
    """A blocking call made straight from a coroutine: named after its asyncio task."""
    task = asyncio.current_task()
    return measured(spec, index, worker=task.get_name() if task else None)


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by this process and by its children that were reaped."""

    own: float
    children: float

    @property
    def total(self) -> float:
        return self.own + self.children


def cpu_snapshot() -> CpuSnapshot:
    if resource is None:  # pragma: no cover - Windows
        return CpuSnapshot(time.process_time(), 0.0)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime)


async def measured_async(spec: TaskSpec, index: int, session: object | None = None) -> TaskSpan:
    """One task the native asyncio way: awaiting, so the loop runs other tasks meanwhile.

    CPU workloads have nothing to await: they run the blocking function and so
    run one after another, which is exactly what the results must show.
    """
    task = asyncio.current_task()
    label = task.get_name() if task else threading.current_thread().name
    start, cpu_start = time.perf_counter(), time.thread_time()
    value: str | None = None
    error: str | None = None
    try:
        if spec.workload == "sleep":
            await asyncio.sleep(spec.size / 1000)
            value = check_sleep(spec, time.perf_counter() - start)
        elif spec.workload == "http":
            from lab.http_task import download_async

            path = download_path(spec, index)
            received = await download_async(
                session, spec.url or "", path, spec.timeout_s, spec.max_body_bytes
            )
            value = check_download(spec, received)
        else:
            value = perform(spec, index)
    except Exception as exc:  # a failed task is a result, not a crash
        error = describe_error(exc)
    return closed_span(index, label, start, cpu_start, value, error)
