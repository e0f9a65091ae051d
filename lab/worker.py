"""The experiment's own process: runs every mode and streams JSON-lines events.

Started by `lab.runner` as `python -m lab.worker --pipe FD ...`. Events go to a
dedicated pipe, as pyperf does, so whatever the measured code prints cannot
corrupt the stream. Standard library only (the HTTP clients load when the
`http` workload needs them): a `squares` worker must start in well under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from dataclasses import dataclass, replace
from typing import IO, Any

from lab.machine import current_machine
from lab.modes import ModePlan, run_mode
from lab.procs import raise_open_file_limit, tie_to_parent
from lab.results import TaskSpan
from lab.settings import RunSettings
from lab.workloads import TaskSpec, preload, reference_value


class EventWriter:
    """Writes one JSON object per line; tasks finish on many threads, so writes are locked."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}, separators=(",", ":"))
        with self.lock:
            self.stream.write(line + "\n")
            self.stream.flush()


@dataclass(frozen=True)
class WorkerArgs:
    settings: RunSettings
    target_url: str | None
    download_dir: str | None


def task_spec(args: WorkerArgs) -> TaskSpec:
    settings = args.settings
    http = settings.workload == "http"
    spec = TaskSpec(
        workload=settings.workload,
        size=settings.size,
        url=args.target_url if http else None,
        timeout_s=settings.timeout_s,
        max_body_bytes=settings.max_body_bytes,
        expected_bytes=settings.bytes if http and settings.uses_embedded_server else None,
        download_dir=args.download_dir,
    )
    return replace(spec, expected_value=reference_value(spec))


def run(args: WorkerArgs, writer: EventWriter) -> None:
    """Run the modes interleaved, `repeats` times, emitting an event at every step."""
    settings = args.settings
    machine = current_machine(settings.start_method)
    preload(settings.workload, native_async="asyncio" in settings.modes)
    spec = task_spec(args)
    plan = ModePlan(
        spec=spec,
        tasks=settings.tasks,
        processes=settings.process_count(machine.usable_cores),
        threads=settings.threads,
        start_method=settings.start_method,
    )
    writer.emit("started", machine=machine.to_dict(), settings=settings.to_dict(), target_url=args.target_url)
    for repeat in range(settings.repeats):
        for mode in settings.modes:
            writer.emit("mode_started", mode=mode, repeat=repeat)

            def on_span(span: TaskSpan, mode: str = mode, repeat: int = repeat) -> None:
                writer.emit("task", mode=mode, repeat=repeat, span=span.to_dict())

            result = run_mode(mode, repeat, plan, on_span)
            writer.emit("mode_finished", mode=mode, repeat=repeat, run=result.to_dict())
    writer.emit("done")


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
            writer.emit("error", message=f"{type(exc).__name__}: {exc}")
            return 1
    return 0


def cli(argv: list[str] | None = None) -> int:
    """The worker's own small command line: the measured process skips the CLI's other imports."""
    parser = argparse.ArgumentParser(prog="python -m lab.worker")
    parser.add_argument("--pipe", type=int, required=True)
    parser.add_argument("--settings", required=True)
    parser.add_argument("--target-url")
    parser.add_argument("--download-dir")
    parser.add_argument("--parent-pid", type=int)
    args = parser.parse_args(argv)
    return main(args.pipe, args.settings, args.target_url, args.download_dir, args.parent_pid)


if __name__ == "__main__":
    sys.exit(cli())
