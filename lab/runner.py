"""The caller's side of an experiment: start the worker process, read its events, end it.

`Experiment` never blocks for long: `poll()` waits at most its timeout, so the
page can redraw and Streamlit can stop the script between polls. Every way
out (done, error, cancel, deadline, an exception in the caller) goes through
`close()`, which ends the worker's whole process group and reaps it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from lab.errors import RunFailed
from lab.machine import Machine, current_machine
from lab.procs import (
    child_env,
    describe_exit,
    end_process_group,
    python_module_args,
    start_child,
    stderr_tail,
)
from lab.results import ModeRun, RunResult
from lab.runqueue import QueueTimeout, RunQueue, Ticket
from lab.settings import RunSettings
from lab.urlguard import allow_env, allow_for

Event = dict[str, Any]
EXIT_GRACE_S = 1.0
PIPE_BYTES = 1 << 20


@dataclass(frozen=True)
class ModeProgress:
    """How far one mode has got, over all repeats, for a progress bar."""

    mode: str
    done: int
    total: int
    state: str  # "waiting", "running" or "finished"
    elapsed: float


class Experiment:
    """One experiment in its own `python -m lab.worker` process.

    `python` is the interpreter that runs the worker (as in pyperf), so the same
    experiment can be measured under another Python. `target_url` points the
    `http` workload at a server the caller keeps (the page reuses one); without
    it, an `http` run with no URL starts and stops its own embedded server.
    `deadline_s` ends the run after that many seconds and reports it cut short.
    With a `queue`, the run first waits its turn on the host (`poll()` reports
    "queued" events meanwhile); `public` runs the worker under public mode's
    URL guard, with the embedded server as the one loopback address allowed.
    """

    def __init__(
        self,
        settings: RunSettings,
        *,
        python: str | None = None,
        target_url: str | None = None,
        deadline_s: float | None = None,
        queue: RunQueue | None = None,
        public: bool = False,
    ) -> None:
        self.settings = settings
        self.queue = queue
        self.public = public
        self.ahead: int | None = None
        self.python = python or sys.executable
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
        self._proc: Any = None
        self._server: Any = None
        self._pipe: int | None = None
        self._buffer = b""
        self._selector: selectors.BaseSelector | None = None
        self._tmp: Path | None = None
        self._ticket: Ticket | None = None

    def start(self) -> Experiment:
        if self._tmp is not None:
            return self
        self._tmp = Path(tempfile.mkdtemp(prefix="gil-lab-"))
        try:
            self._start_server()
            if self.queue is None:
                self._start_worker()
            else:
                self._ticket = self.queue.join()
        except BaseException:
            self.close()
            raise
        return self

    def _start_server(self) -> None:
        if not self.settings.uses_embedded_server or self.target_url is not None:
            return
        from lab.server import EmbeddedServer

        self._server = EmbeddedServer(
            latency_ms=self.settings.latency_ms, nbytes=self.settings.bytes, python=self.python
        )
        self._server.start()
        self.target_url = self._server.url(self.settings.latency_ms, self.settings.bytes)

    def _start_worker(self) -> None:
        assert self._tmp is not None
        downloads = self._tmp / "downloads"
        downloads.mkdir()
        read_fd, write_fd = os.pipe()
        widen_pipe(write_fd)
        self._pipe = read_fd  # from here on, close() owns it
        args = ["--pipe", str(write_fd), "--settings", json.dumps(self.settings.to_dict())]
        args += ["--download-dir", str(downloads), "--parent-pid", str(os.getpid())]
        if self.target_url:
            args += ["--target-url", self.target_url]
        env = child_env({"GIL_LAB_PUBLIC": "1" if self.public else "0"})
        if self.public and self.settings.uses_embedded_server and self.target_url:
            env.update(allow_env(allow_for(self.target_url)))
        try:
            with open(self._tmp / "worker.stderr", "wb") as stderr:
                command = python_module_args("lab.worker", *args, python=self.python)
                self._proc = start_child(command, pass_fds=(write_fd,), stderr=stderr.fileno(), env=env)
        except OSError as exc:
            raise RunFailed(f"cannot start the worker with {self.python}: {exc.strerror or exc}") from None
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(read_fd, selectors.EVENT_READ)
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started_at if self.started_at is not None else 0.0

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds; ends the run when it is over."""
        if self.done:
            return []
        if self._proc is None and self._ticket is not None:
            return self._wait_in_line(timeout)
        if self._selector is None or self._pipe is None:
            return []
        events: list[Event] = []
        if self._selector.select(timeout):
            data, ended = self._read_available()
            *lines, self._buffer = (self._buffer + data).split(b"\n")
            for line in lines:
                if line.strip():
                    event = json.loads(line)
                    self._apply(event)
                    events.append(event)
            if ended and not self.done:
                self._finish_eof()
        if not self.done and self.deadline_s is not None and self.elapsed > self.deadline_s:
            self._finish(
                "cut_short", f"run cut short after {self.deadline_s:g} s, the limit for one run here"
            )
        return events

    def _read_available(self) -> tuple[bytes, bool]:
        """Everything the worker has written so far, and whether it closed its end."""
        assert self._pipe is not None
        chunks = []
        while True:
            try:
                chunk = os.read(self._pipe, 1 << 16)
            except BlockingIOError:
                return b"".join(chunks), False
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)

    def wait(self, on_event: Callable[[Event], None] | None = None, timeout: float = 0.2) -> RunResult:
        """Block until the run ends (for the CLI and tests; the page polls instead)."""
        self.start()
        while not self.done:
            for event in self.poll(timeout):
                if on_event is not None:
                    on_event(event)
        return self.result()

    def _wait_in_line(self, timeout: float) -> list[Event]:
        """One look at the host's line: start the worker once it is our turn."""
        assert self._ticket is not None
        try:
            ahead = self._ticket.poll()
        except QueueTimeout as exc:
            self._finish("cancelled", str(exc))
            return [{"event": "error", "message": str(exc)}]
        self.ahead = ahead
        if ahead > 0:
            time.sleep(timeout)
            return [{"event": "queued", "ahead": ahead}]
        try:
            self._start_worker()
        except BaseException:
            self.close()
            raise
        return [{"event": "dequeued"}]

    def _apply(self, event: Event) -> None:
        kind = event.get("event")
        mode = event.get("mode", "")
        if kind == "started":
            self.machine = Machine.from_dict(event["machine"])
        elif kind == "mode_started":
            self.mode_started_at[mode] = self.mode_started_at.get(mode, time.monotonic())
        elif kind == "task":
            self.task_counts[mode] = self.task_counts.get(mode, 0) + 1
        elif kind == "mode_finished":
            self.runs.append(ModeRun.from_dict(event["run"]))
            self.mode_finished_at[mode] = time.monotonic()
        elif kind == "error":
            self.errors.append(str(event.get("message")))
        elif kind == "done":
            self._finish("complete", None)

    def _finish_eof(self) -> None:
        """The worker closed its pipe without saying done: it failed or was killed."""
        code = end_process_group(self._proc) if self._proc is not None else None
        stderr = stderr_tail(self._tmp / "worker.stderr") if self._tmp is not None else ""
        reason = "; ".join(self.errors) or stderr or "no message"
        self._finish("crashed", f"the experiment's process ended early ({describe_exit(code)}): {reason}")

    def _finish(self, status: str, message: str | None) -> None:
        self.status = status
        self.message = message
        if status == "complete" and self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=EXIT_GRACE_S)  # let it exit on its own; close() ends the rest
        self.close()

    def cancel(self) -> None:
        if not self.done:
            self._finish("cancelled", "cancelled before it finished")
        self.close()

    def close(self) -> None:
        """End the worker's process group, the embedded server and the temp folder. Idempotent."""
        if self._proc is not None:
            end_process_group(self._proc)
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._ticket is not None:
            self._ticket.leave()
            self._ticket = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self.status is None and self.started_at is not None:
            self.status, self.message = "cancelled", "ended before it finished"

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

    def result(self) -> RunResult:
        """What was measured so far: the whole run, or the modes that finished before it ended."""
        return RunResult(
            settings=self.settings,
            machine=self.machine or current_machine(self.settings.start_method),
            runs=tuple(self.runs),
            status=self.status or "cancelled",
            message=self.message,
            target_url=self.target_url,
        )

    def __enter__(self) -> Experiment:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


def widen_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux), so a burst of task events never makes a measured task wait on a write."""
    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, size, PIPE_BYTES)


def run_experiment(
    settings: RunSettings,
    on_event: Callable[[Event], None] | None = None,
    *,
    python: str | None = None,
    target_url: str | None = None,
    deadline_s: float | None = None,
    queue: RunQueue | None = None,
    public: bool = False,
) -> RunResult:
    """Run one experiment to the end in a child process and return its result."""
    options = {
        "python": python,
        "target_url": target_url,
        "deadline_s": deadline_s,
        "queue": queue,
        "public": public,
    }
    with Experiment(settings, **options) as experiment:
        result = experiment.wait(on_event)
    if result.status == "crashed" and not result.runs:
        raise RunFailed(result.message or "the experiment's process failed")
    return result
