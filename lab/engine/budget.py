"""What a run will cost the host, and the public-mode check that refuses runs over budget.

The estimate is the wall time a run keeps the host busy (runs queue one at a
time, so that is what everyone behind it waits). It is deliberately a little
pessimistic, and `Limits.max_run_seconds` cuts off the runs it still gets wrong.
Refusals name the settings to lower, in the page's words, so the visitor can
fix the run instead of guessing.
"""

from __future__ import annotations

import math
from typing import Protocol

from lab.core.contract import Limits
from lab.core.errors import InvalidSettings, OverBudget
from lab.core.machine import default_executor_size
from lab.engine.workloads import TaskCost, Workload

PROCESS_START_S = 0.15  # a spawned pool worker took 0.10-0.15 s to start on the development host
INTERPRETER_START_S = 0.05  # a subinterpreter with its own GIL starts in a few ms; rounded up
RUN_START_S = 0.5  # the experiment's own worker interpreter, about 0.2 s, rounded up


class RunShape(Protocol):
    """What the budget reads of a run's settings (`RunSettings` has it), so settings can price themselves."""

    @property
    def tasks(self) -> int: ...

    @property
    def modes(self) -> tuple[str, ...]: ...

    @property
    def threads(self) -> int | None: ...

    @property
    def repeats(self) -> int: ...

    @property
    def bytes(self) -> int: ...

    @property
    def info(self) -> Workload: ...

    @property
    def uses_embedded_server(self) -> bool: ...

    def process_count(self, usable_cores: float) -> int: ...

    def task_cost(self) -> TaskCost: ...


SERIAL_MODES = frozenset({"batch", "asyncio_blocking"})
THREAD_MODES = frozenset({"threads", "asyncio_to_thread"})
POOL_MODES = frozenset({"processes", "interpreters"})


def estimate_work_seconds(settings: RunShape, usable_cores: float) -> float:
    """Seconds the run keeps the host busy: start-up, the reference value, every mode, times the repeats."""
    cores = max(usable_cores, 0.1)
    per_repeat = sum(mode_seconds(settings, mode, cores) for mode in settings.modes)
    reference = 0.0
    if type(settings.info).reference_value is not Workload.reference_value:  # computed before timing
        reference = settings.task_cost().cpu_s / min(1.0, cores)
    return RUN_START_S + reference + per_repeat * settings.repeats


def mode_concurrency(settings: RunShape, mode: str, usable_cores: float) -> int:
    """How many tasks a mode has in flight at once, as lab.engine.modes runs them."""
    if mode in SERIAL_MODES:
        return 1
    if mode in POOL_MODES:
        return min(settings.tasks, settings.process_count(usable_cores))
    if mode == "threads":
        return min(settings.tasks, settings.threads or settings.tasks)
    if mode == "asyncio_to_thread":
        return min(settings.tasks, settings.threads or default_executor_size())
    return settings.tasks


def mode_seconds(settings: RunShape, mode: str, cores: float) -> float:
    """One mode's wall time: CPU work spread over the cores it can use, plus waiting in rounds."""
    in_flight = mode_concurrency(settings, mode, cores)
    parallel_cpu = mode in POOL_MODES or (settings.info.releases_gil is True and mode in THREAD_MODES)
    cpu_speed = min(in_flight if parallel_cpu else 1, cores)
    rounds = math.ceil(settings.tasks / in_flight)
    cost = settings.task_cost()
    seconds = rounds * cost.wait_s + settings.tasks * cost.cpu_s / cpu_speed
    if mode == "processes":
        seconds += settings.process_count(cores) * PROCESS_START_S
    elif mode == "interpreters":
        seconds += settings.process_count(cores) * INTERPRETER_START_S
    return seconds


def check_settings(settings: RunShape, limits: Limits, usable_cores: float) -> None:
    """Refuse a run public mode will not take, with a message saying what to lower.

    Raises InvalidSettings for a setting over its own cap, OverBudget for a run
    that would take too long as a whole. Both exit the CLI with status 2.
    """
    if settings.repeats > limits.max_repeats:
        raise InvalidSettings(f"at most {limits.max_repeats} repeats here; lower Repeats")
    if POOL_MODES & set(settings.modes) and settings.process_count(usable_cores) > limits.max_processes:
        raise InvalidSettings(
            f"at most {limits.max_processes} processes here "
            f"(asked for {settings.process_count(usable_cores)}); lower Workers"
        )
    for mode in settings.modes:
        in_flight = mode_concurrency(settings, mode, usable_cores)
        if mode not in POOL_MODES and in_flight > limits.max_concurrency:
            raise InvalidSettings(
                f"{mode} would run {in_flight:,} at once; at most {limits.max_concurrency:,} concurrent "
                f"threads or tasks here — {concurrency_advice(settings, mode)}"
            )
    if settings.uses_embedded_server:
        check_download_size(settings, limits)
    estimate = estimate_work_seconds(settings, usable_cores)
    if estimate > limits.max_work_seconds:
        raise OverBudget(
            f"this run would take about {estimate:.0f} s of work; the limit here is "
            f"{limits.max_work_seconds:g} s — lower {budget_advice(settings)}"
        )


def concurrency_advice(settings: RunShape, mode: str) -> str:
    if mode in THREAD_MODES:
        return "lower Threads" if settings.threads else "lower Task count or set Threads"
    return "lower Task count"


def budget_advice(settings: RunShape) -> str:
    if not settings.info.downloads:
        return "Task count, Workload size, modes or Repeats"
    if settings.uses_embedded_server:
        return "Task count, Latency, Response bytes, modes or Repeats"
    return "Task count, modes or Repeats"


def check_download_size(settings: RunShape, limits: Limits) -> None:
    """Every task of a mode keeps its download on disk until the run ends."""
    if settings.bytes > limits.max_body_bytes:
        raise InvalidSettings(
            f"responses of {mebibytes(settings.bytes)} are over the {mebibytes(limits.max_body_bytes)} "
            "cap here; lower Response bytes"
        )
    total = settings.tasks * settings.bytes
    if total > limits.max_download_bytes:
        raise InvalidSettings(
            f"the downloads would take {mebibytes(total)} of disk; at most "
            f"{mebibytes(limits.max_download_bytes)} here — lower Task count or Response bytes"
        )


def mebibytes(count: int) -> str:
    return f"{count / (1024 * 1024):,.1f} MiB".replace(".0 MiB", " MiB")
