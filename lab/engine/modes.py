"""Execution modes: one function per way of running N tasks, and a registry of them.

Every mode has one signature, like the executors of `concurrent.futures`:
it runs the plan's tasks, hands each finished span to `emit`, and returns how
many workers it ran them on. Adding a mode is one function and one line in
`MODE_RUNNERS` (whose names are `lab.engine.settings.MODES`). `run_mode` times
a mode the way the lab notes do, pool start-up and shutdown included, and
measures the CPU the whole mode used.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace

from lab.core.machine import default_executor_size
from lab.core.procs import set_parent_death_signal
from lab.engine.measure import (
    cpu_snapshot,
    describe_error,
    measured,
    measured_async,
    measured_in_process,
    measured_in_task,
)
from lab.engine.results import ModeRun
from lab.engine.spans import TaskSpan
from lab.engine.workloads import TaskSpec, workload_for

Emit = Callable[[TaskSpan], None]
LOST = "lost"  # the timeline row of tasks no worker reported
WORKER_DIED = "a worker process died before finishing this task (killed by a signal or by the OS)"


@dataclass(frozen=True)
class ModePlan:
    """What every mode needs to run the same tasks."""

    spec: TaskSpec
    tasks: int
    processes: int
    threads: int | None
    start_method: str | None
    switch_interval_s: float | None = None


def prepare_pool_process(switch_interval_s: float | None) -> None:
    """Each pool process dies with the worker and uses the run's switch interval, as the worker does."""
    set_parent_death_signal()
    if switch_interval_s is not None:
        sys.setswitchinterval(switch_interval_s)


def run_batch(plan: ModePlan, emit: Emit) -> int:
    for index in range(plan.tasks):
        emit(measured(plan.spec, index, worker="main"))
    return 1


def run_threads(plan: ModePlan, emit: Emit) -> int:
    """One Thread per task, as the lab notes do, or a pool of `threads` when asked."""
    if plan.threads is not None:
        with ThreadPoolExecutor(plan.threads, thread_name_prefix="pool-thread") as pool:
            futures = [pool.submit(measured, plan.spec, index) for index in range(plan.tasks)]
            for future in as_completed(futures):
                emit(future.result())
        return min(plan.threads, plan.tasks)
    threads = [
        threading.Thread(target=lambda i=index: emit(measured(plan.spec, i)), name=f"thread-{index + 1}")
        for index in range(plan.tasks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return plan.tasks


def run_processes(plan: ModePlan, emit: Emit) -> int:
    """A process pool: each worker has its own interpreter, and so its own GIL."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = multiprocessing.get_context(plan.start_method)
    with ProcessPoolExecutor(
        plan.processes,
        mp_context=context,
        initializer=prepare_pool_process,
        initargs=(plan.switch_interval_s,),
    ) as pool:
        futures = {pool.submit(measured_in_process, plan.spec, index): index for index in range(plan.tasks)}
        for future in as_completed(futures):
            try:
                span = future.result()
            except BrokenProcessPool:
                span = failed_span(futures[future], WORKER_DIED)
            emit(span)
    return plan.processes


def run_asyncio(plan: ModePlan, emit: Emit) -> int:
    """Native coroutines: await what the workload can (sleep, the async HTTP client); CPU work just runs."""
    import asyncio

    async def main() -> None:
        async with workload_for(plan.spec).async_session(plan.spec) as session:
            await gather_named(plan.tasks, lambda i: measured_async(plan.spec, i, session), emit)

    asyncio.run(main())
    return plan.tasks


def run_interpreters(plan: ModePlan, emit: Emit) -> int:
    """A pool of subinterpreters, each with its own GIL, on threads of this one process.

    Only text crosses between interpreters, so each task's spec goes in as JSON
    and its span comes back as JSON; each span is labelled with the driving
    thread's name, the row it gets on the timeline.
    """
    from lab.engine.subinterpreters import run_calls

    spec = asdict(plan.spec)
    lock = threading.Lock()

    def on_result(index: int, text: str) -> None:
        span = TaskSpan.from_dict(json.loads(text))
        with lock:
            emit(replace(span, worker=threading.current_thread().name))

    def on_error(index: int, reason: str) -> None:
        with lock:
            emit(replace(failed_span(index, reason), worker=threading.current_thread().name))

    return run_calls(
        plan.processes,
        "lab.engine.measure",
        "measured_json",
        [[spec, index] for index in range(plan.tasks)],
        on_result,
        on_error=on_error,
    )


def run_asyncio_to_thread(plan: ModePlan, emit: Emit) -> int:
    """The blocking call in `asyncio.to_thread`, as a web framework runs a plain `def` handler."""
    import asyncio

    size = plan.threads or default_executor_size()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(size, thread_name_prefix="to_thread"))

        async def one(index: int) -> TaskSpan:
            return await asyncio.to_thread(measured, plan.spec, index)

        return await gather_named(plan.tasks, one, emit)

    asyncio.run(main())
    return min(size, plan.tasks)


def run_asyncio_blocking(plan: ModePlan, emit: Emit) -> int:
    """The classic mistake: a blocking call inside `async def` stalls the event loop."""
    import asyncio

    async def main() -> None:
        async def one(index: int) -> TaskSpan:
            return measured_in_task(plan.spec, index)

        return await gather_named(plan.tasks, one, emit)

    asyncio.run(main())
    return 1


async def gather_named(count: int, make: Callable[[int], Awaitable[TaskSpan]], emit: Emit) -> None:
    """Start one named asyncio task per index (the name is its timeline row) and wait for all."""
    import asyncio

    async def reported(index: int) -> None:
        emit(await make(index))

    await asyncio.gather(
        *(asyncio.create_task(reported(index), name=f"task-{index + 1}") for index in range(count))
    )


# What a mode imports when it runs, loaded by `preload` before any timing: a run that needs no event loop
# or process pool (a batch run, say) does not pay for loading them, and one that does pays before it is timed.
MODE_MODULES: dict[str, tuple[str, ...]] = {
    "processes": ("multiprocessing", "concurrent.futures.process"),
    "interpreters": ("lab.engine.subinterpreters",),
    "asyncio": ("asyncio",),
    "asyncio_to_thread": ("asyncio",),
    "asyncio_blocking": ("asyncio",),
}


def preload(modes: tuple[str, ...]) -> None:
    for mode in modes:
        for module in MODE_MODULES.get(mode, ()):
            importlib.import_module(module)


MODE_RUNNERS: dict[str, Callable[[ModePlan, Emit], int]] = {
    "batch": run_batch,
    "threads": run_threads,
    "processes": run_processes,
    "interpreters": run_interpreters,
    "asyncio": run_asyncio,
    "asyncio_to_thread": run_asyncio_to_thread,
    "asyncio_blocking": run_asyncio_blocking,
}


def failed_span(index: int, reason: str) -> TaskSpan:
    now = time.perf_counter()
    return TaskSpan(index, LOST, 0, now, now, 0.0, False, reason)


def run_mode(
    name: str,
    repeat: int,
    plan: ModePlan,
    on_span: Emit,
    on_start: Callable[[float], None] | None = None,
    check: Callable[[TaskSpan], TaskSpan] | None = None,
) -> ModeRun:
    """Run and time one mode; spans come back relative to the mode's start.

    `on_start` hears the mode's origin (its `perf_counter` at the start), so an
    observer in another process can line its clock up; `check` may mark a
    finished task failed (the function workload's result check). A mode that
    breaks (a pool that cannot start, a crash inside the mode) is a result
    too: every task it did not finish is reported failed with the reason.
    """
    before = cpu_snapshot()
    origin = time.perf_counter()
    if on_start is not None:
        on_start(origin)
    seen: dict[int, TaskSpan] = {}

    def emit(span: TaskSpan) -> None:
        if check is not None:
            span = check(span)
        seen[span.index] = span
        on_span(span.shifted(origin))

    error: str | None = None
    workers = 1
    try:
        workers = MODE_RUNNERS[name](plan, emit)
    except Exception as exc:  # reported as the mode's failure, the other modes still run
        error = f"{name} failed: {describe_error(exc)}"
    seconds = time.perf_counter() - origin
    cpu = cpu_snapshot().total - before.total
    for index in range(plan.tasks):
        if index not in seen:
            emit(failed_span(index, error or WORKER_DIED))
    spans = tuple(sorted((span.shifted(origin) for span in seen.values()), key=lambda span: span.index))
    startup = min((span.start for span in spans if span.ok), default=0.0)
    return ModeRun(name, repeat, seconds, max(0.0, startup), cpu, workers, spans, error)
