"""Synthetic RunResults shaped like real measurements, for the page-side tests.

Each `ModeProfile` says how a mode behaved (seconds per repeat, cores busy,
workers, failures); `make_result` lays its tasks out worker by worker with a
CPU share that matches the cores busy, like the real runner would record.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.core.machine import Machine
from lab.engine.results import ModeRun, RunResult, TaskSpan
from lab.engine.settings import RunSettings


def make_machine(usable_cores: float = 2.0, gil_enabled: bool = True) -> Machine:
    return Machine(
        python_version="3.11.9",
        implementation="CPython",
        gil_enabled=gil_enabled,
        free_threaded_build=not gil_enabled,
        logical_cores=4,
        physical_cores=2,
        affinity_cores=4,
        cpu_quota=usable_cores if usable_cores < 4 else None,
        usable_cores=usable_cores,
        os="Linux 6.1.0",
        machine="x86_64",
        start_method="fork",
    )


@dataclass(frozen=True)
class ModeProfile:
    """How one mode behaved: seconds of each repeat, cores it kept busy, its pool and failures."""

    seconds: tuple[float, ...]
    cores_busy: float
    workers: int = 1
    failed: int = 0
    error: str | None = None
    failure_reason: str = "ConnectionError: connection refused"
    startup_seconds: float = 0.001


def make_spans(profile: ModeProfile, seconds: float, tasks: int) -> tuple[TaskSpan, ...]:
    """Tasks dealt round-robin to workers, each worker running its share back to back."""
    workers = max(1, min(profile.workers, tasks))
    per_worker = -(-tasks // workers)
    wall = seconds / per_worker
    share = min(1.0, profile.cores_busy / workers)
    spans = []
    for index in range(tasks):
        worker, slot = index % workers, index // workers
        start = slot * wall
        ok = index >= profile.failed
        spans.append(
            TaskSpan(
                index=index,
                worker=f"worker-{worker + 1}",
                pid=1000 + worker,
                start=start,
                end=start + wall,
                cpu=wall * share,
                ok=ok,
                error=None if ok else profile.failure_reason,
                value="ok" if ok else None,
            )
        )
    return tuple(spans)


def make_result(
    workload: str,
    profiles: dict[str, ModeProfile],
    *,
    tasks: int = 8,
    usable_cores: float = 2.0,
    gil_enabled: bool = True,
    status: str = "complete",
    message: str | None = None,
    run_id: str = "run0001",
    created: str = "2025-11-25T10:00:00+00:00",
    **settings: object,
) -> RunResult:
    repeats = max(len(profile.seconds) for profile in profiles.values())
    options = {"modes": list(profiles), "repeats": repeats, **settings}
    run_settings = RunSettings.create(workload, tasks=tasks, **options)
    runs = tuple(
        ModeRun(
            mode=mode,
            repeat=repeat,
            seconds=seconds,
            startup_seconds=profile.startup_seconds,
            cpu_seconds=profile.cores_busy * seconds,
            workers=profile.workers,
            spans=make_spans(profile, seconds, tasks),
            error=profile.error,
        )
        for repeat in range(repeats)
        for mode, profile in profiles.items()
        if repeat < len(profile.seconds)
        for seconds in (profile.seconds[repeat],)
    )
    return RunResult(
        settings=run_settings,
        machine=make_machine(usable_cores, gil_enabled),
        runs=runs,
        status=status,
        message=message,
        run_id=run_id,
        created=created,
    )


def squares_result(**options: object) -> RunResult:
    """Pure Python on 2 usable cores: threads stuck at 1 core, processes near 2x."""
    return make_result(
        "squares",
        {
            "batch": ModeProfile((2.0,), 1.0),
            "threads": ModeProfile((2.06,), 1.0, workers=8),
            "processes": ModeProfile((1.05,), 1.92, workers=2, startup_seconds=0.04),
        },
        **options,
    )


def sha256_result(**options: object) -> RunResult:
    """C code that releases the GIL: threads scale like processes."""
    return make_result(
        "sha256",
        {
            "batch": ModeProfile((1.6,), 1.0),
            "threads": ModeProfile((0.84,), 1.9, workers=8),
            "processes": ModeProfile((0.88,), 1.85, workers=2, startup_seconds=0.04),
        },
        **options,
    )


def sleep_result(**options: object) -> RunResult:
    """Waiting work: every overlapping mode approaches the task count, cores stay near 0."""
    return make_result(
        "sleep",
        {
            "batch": ModeProfile((2.01,), 0.01),
            "threads": ModeProfile((0.21,), 0.03, workers=10),
            "processes": ModeProfile((1.1,), 0.05, workers=2, startup_seconds=0.05),
            "asyncio": ModeProfile((0.205,), 0.02, workers=1),
            "asyncio_to_thread": ModeProfile((0.42,), 0.03, workers=5),
            "asyncio_blocking": ModeProfile((2.02,), 0.01, workers=1),
        },
        tasks=10,
        size=200,
        **options,
    )


def repeated_result() -> RunResult:
    """Three repeats per mode, with spread, for error bars and medians."""
    return make_result(
        "squares",
        {
            "batch": ModeProfile((2.0, 2.2, 1.9), 1.0),
            "threads": ModeProfile((2.1, 2.3, 2.0), 1.0, workers=8),
            "processes": ModeProfile((1.1, 1.0, 1.3), 1.9, workers=2),
        },
        run_id="run0002",
    )


def failed_http_result() -> RunResult:
    """Some downloads failed in threads; the whole asyncio mode broke."""
    return make_result(
        "http",
        {
            "batch": ModeProfile((2.2,), 0.05),
            "threads": ModeProfile((0.25,), 0.1, workers=10, failed=3),
            "asyncio": ModeProfile(
                (0.01,),
                0.0,
                failed=10,
                error="asyncio failed: no module named aiohttp",
                failure_reason="asyncio failed: no module named aiohttp",
            ),
        },
        tasks=10,
        url="http://example.test/file",
        run_id="run0003",
    )
