"""The experiment's own process: runs every mode and streams JSON-lines events (see `lab.engine.protocol`).

Started by `lab.engine.runner` as `python -m lab.engine.worker --pipe FD ...`,
possibly under another interpreter than the caller's. Events go to a dedicated
pipe, as pyperf does, so whatever the measured code prints cannot corrupt the
stream. Standard library only, and Python 3.10+ (the HTTP clients load when the
`http` workload needs them): a `squares` worker must start in well under 150 ms,
and run under bare interpreters that have no third-party packages at all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import sysconfig
from dataclasses import dataclass, replace
from typing import Any

from lab.core.events import EventWriter
from lab.core.machine import current_machine, gil_enabled
from lab.core.procs import raise_open_file_limit, tie_to_parent
from lab.core.steadiness import Meter
from lab.engine import protocol
from lab.engine.modes import ModePlan, preload, run_mode
from lab.engine.settings import RunSettings
from lab.engine.spans import TaskSpan
from lab.engine.workloads import TaskSpec, workload_for


@dataclass(frozen=True)
class WorkerArgs:
    settings: RunSettings
    target_url: str | None
    download_dir: str | None


def task_spec(args: WorkerArgs) -> TaskSpec:
    settings = args.settings
    downloads = settings.info.downloads
    spec = TaskSpec(
        workload=settings.workload,
        size=settings.size,
        url=args.target_url if downloads else None,
        timeout_s=settings.timeout_s,
        max_body_bytes=settings.max_body_bytes,
        expected_bytes=settings.bytes if downloads and settings.uses_embedded_server else None,
        download_dir=args.download_dir,
        function=settings.function,
        args_json=settings.args,
    )
    return replace(spec, expected_value=workload_for(spec).reference_value(spec))


class ResultCheck:
    """The function workload's check: every task, in every mode, must return what the first one did.

    A function that answers differently under threads (a race, shared state)
    is worth knowing about, so a differing task is marked failed with both values.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.first: tuple[str, int, str] | None = None

    def __call__(self, mode: str, span: TaskSpan) -> TaskSpan:
        if not self.enabled or not span.ok or span.value is None:
            return span
        if self.first is None:
            self.first = (mode, span.index, span.value)
            return span
        first_mode, first_index, first_value = self.first
        if span.value == first_value:
            return span
        return replace(
            span,
            ok=False,
            error=(
                f"returned {span.value[:80]}, but task {first_index} in {first_mode} "
                f"returned {first_value[:80]}"
            ),
        )


def interpreter_state() -> dict[str, Any]:
    """What ran the experiment, read at the end: the GIL may have been turned back on during the run."""
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        "gil_enabled": gil_enabled(),
        "path": sys.executable,
    }


def run(args: WorkerArgs, writer: EventWriter) -> None:
    """Run the modes interleaved, `repeats` times, emitting an event at every step.

    The steadiness meter calibrates before the first mode and after every
    repeat of every mode, never inside one: each MODE_FINISHED carries the
    calibrations taken since the last (the first one's includes the one before
    it), and DONE the run's steadiness.
    """
    settings = args.settings
    if settings.switch_interval_ms is not None:
        sys.setswitchinterval(settings.switch_interval_ms / 1000)
    machine = current_machine(settings.start_method)
    spec = task_spec(args)
    workload_for(spec).preload(spec, native_async="asyncio" in settings.modes)
    preload(settings.modes)
    plan = ModePlan(
        spec=spec,
        tasks=settings.tasks,
        processes=settings.process_count(machine.usable_cores),
        threads=settings.threads,
        start_method=settings.start_method,
        switch_interval_s=None if settings.switch_interval_ms is None else settings.switch_interval_ms / 1000,
    )
    check = ResultCheck(settings.info.checks_across_tasks and settings.check)
    writer.emit(
        protocol.STARTED, machine=machine.to_dict(), settings=settings.to_dict(), target_url=args.target_url
    )
    meter = Meter()  # after STARTED, so the calibration adds nothing to the worker's start-up
    meter.start()
    sent = 0
    for repeat in range(settings.repeats):
        for mode in settings.modes:
            origins: list[float] = []

            def on_start(
                origin: float, mode: str = mode, repeat: int = repeat, origins: list[float] = origins
            ) -> None:
                origins.append(origin)
                writer.emit(protocol.MODE_STARTED, mode=mode, repeat=repeat, origin=origin)

            def on_span(span: TaskSpan, mode: str = mode, repeat: int = repeat) -> None:
                writer.emit(protocol.TASK, mode=mode, repeat=repeat, span=span.to_dict())

            def checked(span: TaskSpan, mode: str = mode) -> TaskSpan:
                return check(mode, span)

            result = run_mode(mode, repeat, plan, on_span, on_start, checked)
            meter.mark()
            writer.emit(
                protocol.MODE_FINISHED,
                mode=mode,
                repeat=repeat,
                origin=origins[0],
                run=result.to_dict(),
                calibration_ms=meter.calibrations[sent:],
            )
            sent = len(meter.calibrations)
    steadiness = meter.finish(calibrate_now=False)
    writer.emit(protocol.DONE, interpreter=interpreter_state(), steadiness=steadiness.to_dict())


def main(
    pipe_fd: int, settings_json: str, target_url: str | None, download_dir: str | None, parent_pid: int | None
) -> int:
    if parent_pid is not None:
        tie_to_parent(parent_pid)
    raise_open_file_limit()
    with os.fdopen(pipe_fd, "w", encoding="utf-8") as stream:
        writer = EventWriter(stream)
        try:
            settings = RunSettings.from_dict(json.loads(settings_json))
            run(WorkerArgs(settings, target_url, download_dir), writer)
        except Exception as exc:  # reported to the caller as the run's failure
            writer.emit(protocol.ERROR, message=f"{type(exc).__name__}: {exc}")
            return 1
    return 0


def cli(argv: list[str] | None = None) -> int:
    """The worker's own small command line: the measured process skips the CLI's other imports."""
    parser = argparse.ArgumentParser(prog="python -m lab.engine.worker")
    parser.add_argument("--pipe", type=int, required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--target-url")
    parser.add_argument("--download-dir")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    return main(args.pipe, args.settings, args.target_url, args.download_dir, args.parent_pid)


if __name__ == "__main__":
    sys.exit(cli())
