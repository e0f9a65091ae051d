"""The caller's side of an experiment: start the worker process, read its events, end it.

`Experiment` never blocks for long: `poll()` waits at most its timeout, so the
page can redraw and Streamlit can stop the script between polls. Every way
out (done, error, cancel, deadline, an exception in the caller) goes through
`close()`, which ends the worker's whole process group (and the X-ray sampler
watching it) and reaps them. Waiting for the host's turn is not this
module's business: `lab.hosting` wraps any experiment in its line.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lab.core import config
from lab.core.errors import RunFailed
from lab.core.events import Event, EventReader, open_pipe
from lab.core.interpreters import Interpreter, RunInterpreter, current_interpreter, gil_environment
from lab.core.lifecycle import LabRun
from lab.core.machine import Machine, current_machine
from lab.core.procs import (
    child_env,
    describe_exit,
    end_process_group,
    python_module_args,
    start_child,
    stderr_tail,
)
from lab.core.steadiness import Steadiness, judge
from lab.core.urlguard import allow_env, allow_for
from lab.engine import protocol
from lab.engine.modes import LOST
from lab.engine.results import ModeRun, RunResult
from lab.engine.settings import RunSettings
from lab.engine.spans import TaskSpan
from lab.engine.xray_link import XrayLink

EXIT_GRACE_S = 1.0


@dataclass(frozen=True)
class ModeProgress:
    """How far one mode has got, over all repeats, for a progress bar."""

    mode: str
    done: int
    total: int
    state: str  # "waiting", "running" or "finished"
    elapsed: float


class Experiment(LabRun[RunResult]):
    """One experiment in its own `python -m lab.engine.worker` process.

    `interpreter` is the Python that runs the worker (as in pyperf), with the
    settings' GIL switch passed to it and every process it starts through
    `PYTHON_GIL` (a `-X gil=` option would not reach `python -m` children).
    `target_url` points the `http` workload at a server the caller keeps (the
    page reuses one); without it, an `http` run with no URL starts and stops
    its own embedded server. `deadline_s` ends the run after that many seconds
    and reports it cut short. `public` runs the worker under public mode's URL
    guard, with the embedded server as the one loopback address allowed.
    """

    def __init__(
        self,
        settings: RunSettings,
        *,
        interpreter: Interpreter | None = None,
        target_url: str | None = None,
        deadline_s: float | None = None,
        public: bool = False,
    ) -> None:
        self.settings = settings
        self.interpreter = interpreter or current_interpreter()
        self.public = public
        self.target_url = target_url or settings.url
        self.deadline_s = deadline_s
        self.machine: Machine | None = None
        self.runs: list[ModeRun] = []
        self.errors: list[str] = []
        self.task_counts: dict[str, int] = {}
        self.mode_started_at: dict[str, float] = {}
        self.mode_finished_at: dict[str, float] = {}
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.final_state: dict[str, Any] | None = None
        self.calibration_ms: list[float] = []  # the worker's calibrations so far, for a run cut off
        self.worker_steadiness: Steadiness | None = None  # the worker's verdict, in DONE
        self._environment = gil_environment(self.interpreter, settings.gil)
        self._current: tuple[str, int, float] | None = None  # the mode in progress, its repeat and origin
        self._current_spans: list[TaskSpan] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._server: Any = None
        self._reader: EventReader | None = None
        self._xray: XrayLink | None = None

    @property
    def python(self) -> str:
        return self.interpreter.path

    def start(self) -> Experiment:
        if self._tmp is not None:
            return self
        self._work_folder("gil-lab-")
        try:
            self._start_server()
            self._start_worker()
        except BaseException:
            self.close()
            raise
        return self

    def _start_server(self) -> None:
        if not self.settings.uses_embedded_server or self.target_url is not None:
            return
        from lab.engine.latency_server import EmbeddedServer

        self._server = EmbeddedServer(latency_ms=self.settings.latency_ms, nbytes=self.settings.bytes)
        self._server.start()
        self.target_url = self._server.url(self.settings.latency_ms, self.settings.bytes)

    def _start_worker(self) -> None:
        assert self._tmp is not None
        downloads = self._tmp / "downloads"
        downloads.mkdir()
        read_fd, write_fd = open_pipe()
        self._reader = EventReader(read_fd)  # from here on, close() owns it
        args = ["--pipe", str(write_fd), "--settings", json.dumps(self.settings.to_dict())]
        args += ["--download-dir", str(downloads), "--parent-pid", str(os.getpid())]
        if self.target_url:
            args += ["--target-url", self.target_url]
        env = child_env({config.PUBLIC: "1" if self.public else "0", **self._environment})
        if not self._environment:
            env.pop(config.PYTHON_GIL, None)  # the build's own default, not whatever the caller had set
        if self.public and self.settings.uses_embedded_server and self.target_url:
            env.update(allow_env(allow_for(self.target_url)))
        try:
            with open(self._tmp / "worker.stderr", "wb") as stderr:
                command = python_module_args("lab.engine.worker", *args, python=self.python)
                self._proc = start_child(command, pass_fds=(write_fd,), stderr=stderr.fileno(), env=env)
        except OSError as exc:
            raise RunFailed(f"cannot start the worker with {self.python}: {exc.strerror or exc}") from None
        finally:
            os.close(write_fd)
        self.started_at = time.monotonic()
        if self.settings.xray:
            self._xray = XrayLink.start(self._proc.pid, self.settings.xray_hz)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds; ends the run when it is over."""
        if self.done or self._reader is None:
            return []
        events = self._reader.read(timeout)
        for event in events:
            self._apply(event)
        if self.status is not None:  # DONE arrived: the run is over and closed
            return events
        if self._xray is not None:
            self._xray.poll()
        if self._reader is not None and (self._reader.ended or self._worker_exited()):
            # The worker is gone. Its pool processes, when forked, hold the pipe too and can keep it
            # open for a whole task after the worker died, so its exit counts as well as the pipe's
            # end: what it wrote before exiting is read first, then a run without DONE is a crash.
            late = self._reader.read(0)
            for event in late:
                self._apply(event)
            events += late
            if self.status is None:
                self._finish_eof()
        self._check_deadline()
        return events

    def _worker_exited(self) -> bool:
        return self._proc is not None and self._proc.poll() is not None

    def _apply(self, event: Event) -> None:
        kind = event.get("event")
        mode = event.get("mode", "")
        if kind == protocol.STARTED:
            self.machine = Machine.from_dict(event["machine"])
        elif kind == protocol.MODE_STARTED:
            self.mode_started_at[mode] = self.mode_started_at.get(mode, time.monotonic())
            self._current = (mode, int(event["repeat"]), float(event["origin"]))
            self._current_spans = []
        elif kind == protocol.TASK:
            self.task_counts[mode] = self.task_counts.get(mode, 0) + 1
            self._current_spans.append(TaskSpan.from_dict(event["span"]))
        elif kind == protocol.MODE_FINISHED:
            run = replace(ModeRun.from_dict(event["run"]), origin=float(event["origin"]))
            if self._xray is not None:
                self._xray.mark(run)
            self.runs.append(run)
            self.calibration_ms += event.get("calibration_ms", [])
            self.mode_finished_at[mode] = time.monotonic()
            self._current = None
        elif kind == protocol.ERROR:
            self.errors.append(str(event.get("message")))
        elif kind == protocol.DONE:
            self.final_state = event.get("interpreter")
            if event.get("steadiness"):
                self.worker_steadiness = Steadiness.from_dict(event["steadiness"])
            self._finish("complete", None)

    def _finish_eof(self) -> None:
        """The worker closed its pipe without saying done: it failed or was killed.

        The mode it was in the middle of becomes a result of its own: the tasks
        that finished, and every other one failed with the reason (a person's
        function that calls os._exit or crashes in C ends up here).
        """
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=EXIT_GRACE_S)  # its own exit status, not our SIGKILL, tells why
        code = end_process_group(self._proc) if self._proc is not None else None
        stderr = stderr_tail(self._tmp / "worker.stderr") if self._tmp is not None else ""
        reason = "; ".join(self.errors) or stderr or "no message"
        message = f"the experiment's process ended early ({describe_exit(code)}): {reason}"
        if self._current is not None:
            mode, repeat, origin = self._current
            self.runs.append(self._broken_run(mode, repeat, origin, message))
        self._finish("crashed", message)

    def _broken_run(self, mode: str, repeat: int, origin: float, reason: str) -> ModeRun:
        seen = {span.index: span for span in self._current_spans}
        now = time.perf_counter() - origin
        spans = tuple(
            seen.get(index) or TaskSpan(index, LOST, 0, now, now, 0.0, False, reason)
            for index in range(self.settings.tasks)
        )
        return ModeRun(mode, repeat, now, 0.0, 0.0, 1, spans, reason)

    def _finish(self, status: str, message: str | None) -> None:
        self.status = status
        self.message = message
        if status == "complete" and self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=EXIT_GRACE_S)  # let it exit on its own; close() ends the rest
        self.close()

    def close(self) -> None:
        """End the worker's process group, the sampler, the embedded server, the temp folder. Idempotent."""
        if self._proc is not None:
            end_process_group(self._proc)
        if self._xray is not None:
            self.runs = self._xray.finish(self.runs)
            self._xray = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._end()

    def progress(self) -> list[ModeProgress]:
        per_mode = self.settings.tasks * self.settings.repeats
        now = time.monotonic()
        rows = []
        for mode in self.settings.modes:
            started = self.mode_started_at.get(mode)
            finished = sum(1 for run in self.runs if run.mode == mode) == self.settings.repeats
            state = "finished" if finished else "running" if started is not None else "waiting"
            end = self.mode_finished_at.get(mode, now) if finished else now
            elapsed = end - started if started is not None else 0.0
            rows.append(
                ModeProgress(mode, min(self.task_counts.get(mode, 0), per_mode), per_mode, state, elapsed)
            )
        return rows

    def run_interpreter(self) -> RunInterpreter:
        """The interpreter record: the worker's own report at the end when it got that far."""
        state = self.final_state or {}
        found = self.interpreter
        return RunInterpreter(
            name=found.name,
            version=str(state.get("version", found.version)),
            implementation=str(state.get("implementation", found.implementation)),
            free_threaded=bool(state.get("free_threaded", found.free_threaded)),
            gil_enabled=bool(state.get("gil_enabled", self.machine.gil_enabled if self.machine else True)),
            path=found.path,
            gil_setting=self.settings.gil,
        )

    def run_steadiness(self) -> Steadiness | None:
        """The worker's verdict; for a run that ended early, its calibrations so far with the busy
        figures of the caller's meter (which watched the whole run), or what there is of either."""
        if self.worker_steadiness is not None:
            return self.worker_steadiness
        ours = self.steadiness
        if len(self.calibration_ms) < 2:
            return ours
        others, steal = (ours.others_busy_cores, ours.steal) if ours is not None else (None, None)
        return judge(tuple(self.calibration_ms), others, steal)

    def result(self) -> RunResult:
        """What was measured so far: the whole run, or the modes that finished before it ended."""
        return RunResult(
            settings=self.settings,
            machine=self.machine or current_machine(self.settings.start_method),
            runs=tuple(self.runs),
            status=self.status or "cancelled",
            message=self.message,
            target_url=self.target_url,
            interpreter=self.run_interpreter(),
            steadiness=self.run_steadiness(),
        )


def run_experiment(
    settings: RunSettings,
    on_event: Callable[[Event], None] | None = None,
    *,
    interpreter: Interpreter | None = None,
    target_url: str | None = None,
    deadline_s: float | None = None,
    public: bool = False,
) -> RunResult:
    """Run one experiment to the end in a child process and return its result."""
    with Experiment(
        settings, interpreter=interpreter, target_url=target_url, deadline_s=deadline_s, public=public
    ) as experiment:
        result = experiment.wait(on_event)
    if result.status == "crashed" and not result.runs:
        raise RunFailed(result.message or "the experiment's process failed")
    return result
