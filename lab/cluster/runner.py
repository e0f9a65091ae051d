"""The caller's side of a Cluster-lab run: start the driver process, read its events, end it.

`ClusterExperiment` has the shape of every lab's experiment (start, poll,
done, cancel, close, result), so the host's line, the CLI's `follow` and the
page's loop drive it like the others. `poll()` never blocks beyond its
timeout. Every way out (done, error, cancel, deadline, an exception in the
caller) goes through `close()`, which ends the driver's whole process group:
with it the LocalCluster's scheduler, nannies and worker processes. Dask
itself is imported only in the driver, never here.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.cluster import protocol
from lab.cluster.results import LOST, ClusterResult, ClusterTask, LayoutRun
from lab.cluster.settings import ClusterLayout, ClusterSettings
from lab.core.errors import RunFailed
from lab.core.events import Event, EventReader, open_pipe
from lab.core.lifecycle import LabRun
from lab.core.machine import Machine, current_machine
from lab.core.procs import describe_exit, end_process_group, python_module_args, start_child, stderr_tail
from lab.core.records import new_run_id, now_iso

EXIT_GRACE_S = 5.0  # a driver that said DONE is closing its cluster: let it, then end what is left
# A driver on an existing cluster gets SIGTERM and this long to unregister the run's code from the cluster
# (lab.cluster.travel) before SIGKILL; a LocalCluster's driver is killed at once, its cluster with it.
UNREGISTER_GRACE_S = 2.0


@dataclass(frozen=True)
class LayoutProgress:
    """How far one layout has got, over all repeats, for a progress bar."""

    position: int
    name: str
    state: str  # "waiting", "starting" (the cluster), "running" or "finished"
    done: int
    total: int
    elapsed: float


@dataclass
class Current:
    """The layout repeat in progress: what it ran on and the tasks that came back so far."""

    position: int
    repeat: int
    layout: ClusterLayout
    started_at: float
    tasks: list[ClusterTask]


class ClusterExperiment(LabRun[ClusterResult]):
    """One Cluster-lab run in its own `python -m lab.cluster.driver` process.

    `deadline_s` ends the run after that many seconds and reports it cut short
    (public mode's wall-clock cap).
    """

    def __init__(
        self, settings: ClusterSettings, *, deadline_s: float | None = None, python: str = sys.executable
    ) -> None:
        self.run_id = new_run_id()  # one id for the run, however often its result is read
        self.created = now_iso()
        self.settings = settings
        self.deadline_s = deadline_s
        self.python = python
        self.machine: Machine | None = None
        self.runs: list[LayoutRun] = []
        self.errors: list[str] = []
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.layout_names: dict[int, str] = dict(enumerate(settings.layout_names))
        self._starting: dict[int, float] = {}
        self._finished_at: dict[int, float] = {}
        self._task_counts: dict[int, int] = {}
        self._current: Current | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: EventReader | None = None

    def start(self) -> ClusterExperiment:
        if self._tmp is not None:
            return self
        folder = self._work_folder("gil-lab-cluster-")
        read_fd, write_fd = open_pipe()
        self._reader = EventReader(read_fd)  # from here on, close() owns it
        args = ["--settings", json.dumps(self.settings.to_dict()), "--pipe", str(write_fd)]
        args += ["--parent-pid", str(os.getpid())]
        try:
            with open(folder / "driver.stderr", "wb") as stderr:
                command = python_module_args("lab.cluster.driver", *args, python=self.python)
                self._proc = start_child(command, pass_fds=(write_fd,), stderr=stderr.fileno())
        except OSError as exc:
            self.close()
            raise RunFailed(
                f"cannot start the cluster driver with {self.python}: {exc.strerror or exc}"
            ) from None
        finally:
            os.close(write_fd)
        self.started_at = time.monotonic()
        return self

    @property
    def pid(self) -> int | None:
        """The driver's pid, which is also its process group's id."""
        return self._proc.pid if self._proc is not None else None

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds; ends the run when it is over."""
        if self.done or self._reader is None:
            return []
        events = self._reader.read(timeout)
        for event in events:
            self._apply(event)
        if self._reader is not None and self._reader.ended and not self.done:
            self._finish_eof()
        self._check_deadline()
        return events

    def _apply(self, event: Event) -> None:
        kind = event.get("event")
        position = int(event.get("position", 0))
        if kind == protocol.STARTED:
            self.machine = Machine.from_dict(event["machine"])
        elif kind == protocol.LAYOUT_STARTING:
            self._starting[position] = time.monotonic()
        elif kind == protocol.LAYOUT_STARTED:
            layout = ClusterLayout.from_dict(event["layout"])
            self.layout_names[position] = layout.name
            self._current = Current(position, int(event["repeat"]), layout, time.monotonic(), [])
        elif kind == protocol.TASK:
            self._task_counts[position] = self._task_counts.get(position, 0) + 1
            if self._current is not None:
                self._current.tasks.append(ClusterTask.from_dict(event["task"]))
        elif kind == protocol.LAYOUT_FINISHED:
            self.runs.append(LayoutRun.from_dict(event["run"]))
            self._finished_at[position] = time.monotonic()
            self._current = None
        elif kind == protocol.ERROR:
            self.errors.append(str(event.get("message")))
        elif kind == protocol.DONE:
            self._finish("complete", None)

    def _finish_eof(self) -> None:
        """The driver closed its pipe without saying done: it reported an error, failed or was killed.

        The layout repeat it was in the middle of becomes a result of its own:
        the tasks that came back, and every other one lost with the reason.
        """
        code = end_process_group(self._proc) if self._proc is not None else None
        stderr = stderr_tail(self._tmp / "driver.stderr") if self._tmp is not None else ""
        if self.errors:
            message = "; ".join(self.errors)
        else:
            message = f"the cluster driver ended early ({describe_exit(code)}): {stderr or 'no message'}"
        if self._current is not None:
            self.runs.append(self._broken_run(self._current, message))
        self._finish("crashed", message)

    def _broken_run(self, current: Current, reason: str) -> LayoutRun:
        seen = {task.index: task for task in current.tasks}
        now = time.monotonic() - current.started_at
        tasks = tuple(
            seen.get(index) or ClusterTask(index, "", 0, None, "", LOST, now, now, 0.0, False, reason)
            for index in range(self.settings.tasks)
        )
        return LayoutRun(current.position, current.repeat, current.layout, now, 0.0, tasks, reason)

    def _finish(self, status: str, message: str | None) -> None:
        self.status = status
        self.message = message
        if status == "complete" and self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=EXIT_GRACE_S)  # let it close its cluster; close() ends the rest
        self.close()

    def close(self) -> None:
        """End the driver's process group (its cluster with it) and remove its files. Idempotent."""
        if self._proc is not None:
            end_process_group(self._proc, UNREGISTER_GRACE_S if self.settings.scheduler is not None else 0.0)
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._end()

    def progress(self) -> list[LayoutProgress]:
        per_layout = self.settings.tasks * self.settings.repeats
        now = time.monotonic()
        rows = []
        for position in range(self.settings.positions):
            name = self.layout_names.get(position) or f"the cluster at {self.settings.scheduler}"
            repeats = sum(1 for run in self.runs if run.position == position)
            started = self._starting.get(position)
            measuring = self._current is not None and self._current.position == position
            if repeats == self.settings.repeats:
                state = "finished"
            elif measuring or repeats:
                state = "running"
            else:
                state = "waiting" if started is None else "starting"
            end = self._finished_at.get(position, now) if state == "finished" else now
            elapsed = end - started if started is not None else 0.0
            done = min(self._task_counts.get(position, 0), per_layout)
            rows.append(LayoutProgress(position, name, state, done, per_layout, elapsed))
        return rows

    def result(self) -> ClusterResult:
        """What was measured so far: every layout, or those that finished before the run ended."""
        return ClusterResult(
            settings=self.settings,
            machine=self.machine or current_machine(),
            runs=tuple(self.runs),
            status=self.status or "cancelled",
            message=self.message,
            steadiness=self.steadiness,
            run_id=self.run_id,
            created=self.created,
        )


def run_cluster(
    settings: ClusterSettings,
    on_event: Callable[[Event], None] | None = None,
    *,
    deadline_s: float | None = None,
) -> ClusterResult:
    """Run every layout to the end in a driver process and return the result.

    A run that measured nothing because it could not start (an unreachable
    scheduler, a cluster on another Python or Dask) raises RunFailed with the
    driver's one line.
    """
    with ClusterExperiment(settings, deadline_s=deadline_s) as experiment:
        result = experiment.wait(on_event)
    if result.status == "crashed" and not result.runs:
        raise RunFailed(result.message or "the cluster driver failed")
    return result
