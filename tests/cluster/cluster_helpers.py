"""A real Dask cluster started the way a person starts one: a `dask scheduler` and `dask worker`s.

Each process starts in the test's temporary folder with no PYTHONPATH and a
safe path (PYTHONSAFEPATH: not even its own folder on it), so neither the
scheduler nor the workers can import GIL Lab: the lab's tasks must travel
with the run (`lab.cluster.travel`), as on anyone's cluster.
`HandStartedCluster.lab_importable()` checks that of the same environment.
The processes listen on loopback ports, each in a process group of its own,
and `HandStartedCluster.close()` ends every group on every way out. Waits
poll a condition against a deadline; nothing sleeps and hopes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

from lab.cluster.runner import ClusterExperiment
from lab.core.events import Event
from lab.core.machine import current_machine
from lab.core.procs import end_process_group, python_module_args

START_DEADLINE_S = 60.0


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float = START_DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {deadline_s:g} s")
        time.sleep(0.05)


def wait_for(
    experiment: ClusterExperiment, predicate: Callable[[Event], bool], deadline_s: float = 90.0
) -> Event:
    """Poll until an event satisfies `predicate` and return it; fail after `deadline_s` seconds."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and not experiment.done:
        for event in experiment.poll(0.1):
            if predicate(event):
                return event
    raise AssertionError(f"no matching event within {deadline_s:g} s (done: {experiment.done})")


def is_task(event: Event) -> bool:
    return bool(event["event"] == "task")


def without_the_lab() -> dict[str, str]:
    """This environment without PYTHONPATH, and with a safe path: `python -m` puts no folder on sys.path."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, "PYTHONSAFEPATH": "1", "PYTHONUNBUFFERED": "1"}


# Timing claims about parallel work need two cores this process may really use.
TWO_CORES = pytest.mark.skipif(current_machine().usable_cores < 2, reason="needs two usable cores")


@dataclass
class HandStartedCluster:
    """One scheduler and `workers` single-thread workers, started in `folder` without GIL Lab on their path.

    `scheduler_env` and `worker_env`, when given, are added to those
    processes' environments (`without_the_lab()`).
    """

    folder: Path
    workers: int = 2
    scheduler_env: dict[str, str] | None = None
    worker_env: dict[str, str] | None = None
    scheduler: subprocess.Popen[bytes] | None = None
    worker_procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_process(
        self, args: list[str], log: Path, extra: dict[str, str] | None
    ) -> subprocess.Popen[bytes]:
        """`args` from the cluster's folder, as the leader of a new process group, its stderr to `log`."""
        with open(log, "wb") as stderr:
            return subprocess.Popen(
                args,
                cwd=self.folder,
                env={**without_the_lab(), **(extra or {})},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    def lab_importable(self) -> bool:
        """Whether a Python started like the cluster's processes (same folder, environment) finds GIL Lab."""
        code = "import importlib.util; print(importlib.util.find_spec('lab') is not None)"
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.folder,
            env=without_the_lab(),
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() != "False"

    @property
    def scheduler_file(self) -> Path:
        return self.folder / "scheduler.json"

    @property
    def address(self) -> str:
        return str(json.loads(self.scheduler_file.read_text())["address"])

    def start(self) -> HandStartedCluster:
        try:
            self._start_scheduler()
            for number in range(self.workers):
                self.worker_procs.append(self._start_worker(number))
            self.wait_for_workers(self.workers)
        except BaseException:
            self.close()
            raise
        return self

    def _start_scheduler(self) -> None:
        args = ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file"]
        command = python_module_args("distributed.cli.dask_scheduler", *args, str(self.scheduler_file))
        self.scheduler = self.start_process(command, self.folder / "scheduler.log", self.scheduler_env)
        wait_until(self._scheduler_ready, "the scheduler writing its address")

    def _scheduler_ready(self) -> bool:
        assert self.scheduler is not None
        if self.scheduler.poll() is not None:
            raise AssertionError(
                f"the scheduler exited: {(self.folder / 'scheduler.log').read_text()[-500:]}"
            )
        try:
            return self.address.startswith("tcp://")
        except (OSError, ValueError, KeyError):
            return False

    def _start_worker(self, number: int) -> subprocess.Popen[bytes]:
        args = ["--scheduler-file", str(self.scheduler_file), "--nthreads", "1", "--host", "127.0.0.1"]
        args += ["--no-dashboard", "--name", f"hand-{number}"]
        command = python_module_args("distributed.cli.dask_worker", *args)
        return self.start_process(command, self.folder / f"worker-{number}.log", self.worker_env)

    def registered_workers(self) -> int:
        """Workers the scheduler has said hello to, from the workers' own logs."""
        logs = [self.folder / f"worker-{number}.log" for number in range(len(self.worker_procs))]
        return sum(
            1 for path in logs if path.exists() and "Registered to" in path.read_text(errors="replace")
        )

    def wait_for_workers(self, count: int) -> None:
        wait_until(lambda: self.registered_workers() >= count, f"{count} workers registering")

    def close(self) -> None:
        """End every worker's group (nanny and worker process), then the scheduler's. Idempotent."""
        for proc in self.worker_procs:
            end_process_group(proc)
        if self.scheduler is not None:
            end_process_group(self.scheduler)

    def __enter__(self) -> HandStartedCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
