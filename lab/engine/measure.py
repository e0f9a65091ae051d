"""Timing one task where it runs, and the CPU a whole mode used.

A task is timed inside the thread or process that runs it: wall clock with
`perf_counter` (system-wide on Linux, so spans from pool workers line up with
the parent's clock) and CPU with `thread_time`, the CPU of that one thread.
The gap between them is time spent waiting: for the GIL, the network or sleep.
Each span also names the OS thread (`threading.get_native_id`), so the X-ray's
per-thread rows line up with the timeline's.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from lab.core.errors import TaskFailure
from lab.engine.spans import TaskSpan
from lab.engine.workloads import TaskSpec, workload_for

if sys.platform != "win32":
    import resource


def describe_error(exc: BaseException) -> str:
    """One line for a failed task: the lab's own failures by their message, anything else with its type.

    "received 99 bytes, expected 100" needs no type; "ZeroDivisionError:
    division by zero" from a person's own function does.
    """
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, TaskFailure):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def closed_span(
    index: int, worker: str, start: float, cpu_start: float, value: str | None, error: str | None
) -> TaskSpan:
    """Read both clocks as the task ends and build its span."""
    cpu, end = time.thread_time() - cpu_start, time.perf_counter()
    return TaskSpan(
        index, worker, os.getpid(), start, end, cpu, error is None, error, value, threading.get_native_id()
    )


def measured(spec: TaskSpec, index: int, worker: str | None = None) -> TaskSpan:
    """Run one task in the calling thread and time it there. Never raises for task errors."""
    label = worker or threading.current_thread().name
    start, cpu_start = time.perf_counter(), time.thread_time()
    value: str | None = None
    error: str | None = None
    try:
        value = workload_for(spec).perform(spec, index)
    except Exception as exc:  # a failed task is a result, not a crash
        error = describe_error(exc)
    return closed_span(index, label, start, cpu_start, value, error)


def measured_in_process(spec: TaskSpec, index: int) -> TaskSpan:
    """Pool entry point: the worker is named by its pid, the row it gets on the timeline."""
    return measured(spec, index, worker=f"pid {os.getpid()}")


def measured_in_task(spec: TaskSpec, index: int) -> TaskSpan:
    """A blocking call made straight from a coroutine: named after its asyncio task."""
    import asyncio  # loaded by the asyncio modes only: a subinterpreter's import of this module stays light

    task = asyncio.current_task()
    return measured(spec, index, worker=task.get_name() if task else None)


def measured_json(spec: dict[str, Any], index: int) -> str:
    """Subinterpreter entry point: only text crosses between interpreters, so the span travels as JSON."""
    return json.dumps(measured(TaskSpec(**spec), index).to_dict())


async def measured_async(spec: TaskSpec, index: int, session: object | None = None) -> TaskSpan:
    """One task the native asyncio way: awaiting, so the loop runs other tasks meanwhile.

    CPU workloads have nothing to await: they run the blocking function and so
    run one after another, which is exactly what the results must show.
    """
    import asyncio

    task = asyncio.current_task()
    label = task.get_name() if task else threading.current_thread().name
    start, cpu_start = time.perf_counter(), time.thread_time()
    value: str | None = None
    error: str | None = None
    try:
        value = await workload_for(spec).perform_async(spec, index, session)
    except Exception as exc:  # a failed task is a result, not a crash
        error = describe_error(exc)
    return closed_span(index, label, start, cpu_start, value, error)


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far by this process and by its children that were reaped."""

    own: float
    children: float

    @property
    def total(self) -> float:
        return self.own + self.children


def cpu_snapshot() -> CpuSnapshot:
    if sys.platform == "win32":  # no getrusage: the process's own CPU, its children's unknown
        return CpuSnapshot(time.process_time(), 0.0)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSnapshot(own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime)
