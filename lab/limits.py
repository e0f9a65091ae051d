"""What a run will cost the host, and the public-mode check that refuses runs over budget.

The estimate is the wall time a run keeps the host busy (runs queue one at a
time, so that is what everyone behind it waits). It is deliberately a little
pessimistic, and `Limits.max_run_seconds` cuts off the runs it still gets wrong.
Refusals name the settings to lower, in the page's words, so the visitor can
fix the run instead of guessing.
"""

from __future__ import annotations

import math
from dataclasses import replace

from lab.errors import InvalidSettings, OverBudget
from lab.modes import default_executor_size
from lab.public import Limits
from lab.settings import RunSettings

# Calibration, measured on the development host (AMD EPYC, Python 3.11.7) with
# lab.workloads: squares ran at 42-69 ns per iteration and sha256 at 0.56 ns per
# byte (with SHA CPU extensions; hosts without them hash 2-3x slower). A download
# from the embedded server cost 3.2 ms per request and 2.2 ns per byte streamed
# to a file (454 MB/s). A spawned pool worker took 0.10-0.15 s to start, and the
# experiment's own worker interpreter about 0.2 s. Each constant below rounds
# its measurement up, so a slower host is not under-charged.
SQUARES_S_PER_ITERATION = 80e-9
SHA256_S_PER_BYTE = 1.5e-9
HTTP_S_PER_REQUEST = 0.005
HTTP_S_PER_BYTE = 4e-9
EXTERNAL_REQUEST_S = 0.5  # an outside URL's latency is unknown; the run's wall-clock cap backs this guess
PROCESS_START_S = 0.15
RUN_START_S = 0.5

SERIAL_MODES = frozenset({"batch", "asyncio_blocking"})
GIL_FREE_WORKLOADS = frozenset({"sha256"})  # hashlib releases the GIL, so threads hash in parallel
THREAD_MODES = frozenset({"threads", "asyncio_to_thread"})


def estimate_work_seconds(settings: RunSettings, usable_cores: float) -> float:
    """Seconds the run occupies the host: start-up, then every mode, times the repeats."""
    cores = max(usable_cores, 0.1)
    per_repeat = sum(mode_seconds(settings, mode, cores) for mode in settings.modes)
    reference = settings.size * SHA256_S_PER_BYTE / min(1.0, cores) if settings.workload == "sha256" else 0.0
    return RUN_START_S + reference + per_repeat * settings.repeats


def mode_concurrency(settings: RunSettings, mode: str, usable_cores: float) -> int:
    """How many tasks a mode has in flight at once, as lab.modes runs them."""
    if mode in SERIAL_MODES:
        return 1
    if mode == "processes":
        return min(settings.tasks, settings.process_count(usable_cores))
    if mode == "threads":
        return min(settings.tasks, settings.threads or settings.tasks)
    if mode == "asyncio_to_thread":
        return min(settings.tasks, settings.threads or default_executor_size())
    return settings.tasks


def mode_seconds(settings: RunSettings, mode: str, cores: float) -> float:
    """One mode's wall time: CPU work spread over the cores it can use, plus waiting in rounds."""
    in_flight = mode_concurrency(settings, mode, cores)
    cpu_parallel = in_flight if mode == "processes" else 1
    if settings.workload in GIL_FREE_WORKLOADS and mode in THREAD_MODES:
        cpu_parallel = in_flight
    cpu_speed = min(cpu_parallel, cores)
    rounds = math.ceil(settings.tasks / in_flight)
    if settings.workload == "squares":
        seconds = settings.tasks * settings.size * SQUARES_S_PER_ITERATION / cpu_speed
    elif settings.workload == "sha256":
        seconds = settings.tasks * settings.size * SHA256_S_PER_BYTE / cpu_speed
    elif settings.workload == "sleep":
        seconds = rounds * settings.size / 1000
    else:
        if settings.uses_embedded_server:
            wait_s, body = settings.latency_ms / 1000, settings.bytes
        else:
            wait_s, body = EXTERNAL_REQUEST_S, 0
        seconds = rounds * wait_s + settings.tasks * (HTTP_S_PER_REQUEST + body * HTTP_S_PER_BYTE) / cpu_speed
    if mode == "processes":
        seconds += settings.process_count(cores) * PROCESS_START_S
    return seconds


def clamp_settings(settings: RunSettings, limits: Limits) -> RunSettings:
    """Public caps for what the visitor did not choose: the per-response body cap of a download."""
    return replace(settings, max_body_bytes=min(settings.max_body_bytes, limits.max_body_bytes))


def check_settings(settings: RunSettings, limits: Limits, usable_cores: float) -> None:
    """Refuse a run public mode will not take, with a message saying what to lower.

    Raises InvalidSettings for a setting over its own cap, OverBudget for a run
    that would take too long as a whole. Both exit the CLI with status 2.
    """
    if settings.repeats > limits.max_repeats:
        raise InvalidSettings(f"at most {limits.max_repeats} repeats here; lower Repeats")
    if "processes" in settings.modes and settings.process_count(usable_cores) > limits.max_processes:
        raise InvalidSettings(
            f"at most {limits.max_processes} processes here "
            f"(asked for {settings.process_count(usable_cores)}); lower Workers"
        )
    for mode in settings.modes:
        in_flight = mode_concurrency(settings, mode, usable_cores)
        if mode != "processes" and in_flight > limits.max_concurrency:
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


def concurrency_advice(settings: RunSettings, mode: str) -> str:
    if mode in THREAD_MODES:
        return "lower Threads" if settings.threads else "lower Task count or set Threads"
    return "lower Task count"


def budget_advice(settings: RunSettings) -> str:
    if settings.workload != "http":
        return "Task count, Workload size, modes or Repeats"
    if settings.uses_embedded_server:
        return "Task count, Latency, Response bytes, modes or Repeats"
    return "Task count, modes or Repeats"


def check_download_size(settings: RunSettings, limits: Limits) -> None:
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
