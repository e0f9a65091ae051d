"""The caller's side of a web-lab run: for each endpoint, start a server and a load generator, end both.

Each endpoint gets a fresh server, so the backlog a stalled endpoint leaves
behind (100 clients cut off from a blocking `async def` leave 20 s of queued
work) cannot slow the next one. The runner binds the server's port itself and
passes the socket down (see `lab.web.serve`); the load generator waits until
every server worker is up, then loads the endpoint and streams JSON-lines
events on a pipe. `poll()` never blocks beyond its timeout, so the page can
redraw between polls. Both children go through `lab.core.procs.start_child` and
`end_process_group`, on every way out: done, crash, cancel, Ctrl-C, an
exception in the caller.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab.core.events import Event, EventReader, open_pipe
from lab.core.lifecycle import LabRun
from lab.core.machine import Machine, current_machine
from lab.core.procs import describe_exit, end_process_group, python_module_args, start_child, stderr_tail
from lab.core.records import new_run_id, now_iso
from lab.web import protocol
from lab.web.results import EndpointRun, WebResult
from lab.web.settings import LISTEN_BACKLOG, WebSettings

EXIT_GRACE_S = 1.0
STAGE_SLACK_S = 60.0  # start-up, calibration and cut-off on top of the load window, before giving up


def listening_sockets(processes: int) -> list[socket.socket]:
    """Listening loopback sockets on one free port: one per server process where the kernel balances them.

    On Linux, sockets bound to one port with SO_REUSEPORT share its new
    connections by address, so every server process gets its share whatever
    the scheduler does; elsewhere one socket is shared (see `lab.web.serve`).
    """
    balanced = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
    sockets: list[socket.socket] = []
    try:
        for _ in range(processes if balanced else 1):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(listener)
            if balanced:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(("127.0.0.1", sockets[0].getsockname()[1] if len(sockets) > 1 else 0))
            listener.listen(LISTEN_BACKLOG)
    except BaseException:
        for listener in sockets:
            listener.close()
        raise
    return sockets


@dataclass
class Stage:
    """One endpoint's server and load generator, the pipe the load's events come on, and their files."""

    endpoint: str
    folder: Path
    server: subprocess.Popen[bytes]
    load: subprocess.Popen[bytes]
    events: EventReader
    started_at: float
    loading: bool = False
    finished: bool = False


@dataclass(frozen=True)
class EndpointProgress:
    """How far one endpoint has got, for a progress bar."""

    endpoint: str
    state: str  # "waiting", "running" or "finished"
    requests: int
    elapsed: float
    window_s: float


class WebExperiment(LabRun[WebResult]):
    """One web-lab run: the same shape as `lab.engine.runner.Experiment` (start, poll, done, result, cancel).

    `python` is the interpreter that runs the server and the clients, so the
    same run can be measured under another Python.
    """

    def __init__(self, settings: WebSettings, python: str = sys.executable) -> None:
        self.run_id = new_run_id()  # one id for the run, however often its result is read
        self.created = now_iso()
        self.settings = settings
        self.python = python
        self.machine: Machine | None = None
        self.runs: list[EndpointRun] = []
        self.errors: list[str] = []
        self.status: str | None = None
        self.message: str | None = None
        self._queued: list[Event] = []
        self._stage: Stage | None = None
        self._progress: dict[str, tuple[int, float]] = {}

    def start(self) -> WebExperiment:
        if self._tmp is not None:
            return self
        self.machine = current_machine()
        self.started_at = time.monotonic()
        self._work_folder("gil-lab-web-")
        started = {"settings": self.settings.to_dict(), "machine": self.machine.to_dict()}
        self._queued.append({"event": protocol.STARTED, **started})
        try:
            self._launch(self.settings.endpoints[0])
        except BaseException:
            self.close()
            raise
        return self

    @property
    def server_pid(self) -> int | None:
        """The current endpoint's server process (uvicorn, or its supervisor with several workers)."""
        return self._stage.server.pid if self._stage is not None else None

    @property
    def load_pid(self) -> int | None:
        return self._stage.load.pid if self._stage is not None else None

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds; moves on to the next endpoint, or ends the run."""
        events, self._queued = self._queued, []
        stage = self._stage
        if self.done or stage is None:
            return events
        for event in stage.events.read(0.0 if events else timeout):
            events.append(event)
            self._apply(stage, event)
        self._check(stage)
        events.extend(self._queued)
        self._queued = []
        return events

    def close(self) -> None:
        """End the current server and load generator, and remove their files. Idempotent."""
        if self._stage is not None:
            self._end_stage(self._stage)
        self._end()

    def _pending(self) -> bool:
        return bool(self._queued)

    def result(self) -> WebResult:
        """What was measured so far: every endpoint, or those that finished before the run ended."""
        return WebResult(
            settings=self.settings,
            machine=self.machine or current_machine(),
            endpoints=tuple(self.runs),
            status=self.status or "cancelled",
            message=self.message,
            steadiness=self.steadiness,
            run_id=self.run_id,
            created=self.created,
        )

    def progress(self) -> list[EndpointProgress]:
        finished = {run.endpoint for run in self.runs}
        rows = []
        for endpoint in self.settings.endpoints:
            requests, elapsed = self._progress.get(endpoint, (0, 0.0))
            state = (
                "finished" if endpoint in finished else "running" if endpoint in self._progress else "waiting"
            )
            rows.append(EndpointProgress(endpoint, state, requests, elapsed, self.settings.window_s))
        return rows

    def _launch(self, endpoint: str) -> None:
        assert self._tmp is not None and self.machine is not None
        folder = self._tmp / f"{len(self.runs)}-{endpoint}"
        ready = folder / "ready"
        ready.mkdir(parents=True)
        listeners: list[socket.socket] = []
        read_fd, write_fd = open_pipe()
        server = load = None
        try:
            listeners = listening_sockets(self.settings.server_workers)
            port = listeners[0].getsockname()[1]
            fds = [listener.fileno() for listener in listeners]
            server_args = [arg for fd in fds for arg in ("--fd", str(fd))]
            server_args += ["--workers", str(self.settings.server_workers)]
            server_args += ["--threadpool", str(self.settings.threadpool), "--ready-dir", str(ready)]
            server_args += ["--parent-pid", str(os.getpid())]
            with open(folder / "server.stderr", "wb") as stderr:
                server = start_child(
                    python_module_args("lab.web.serve", *server_args, python=self.python),
                    pass_fds=fds,
                    stderr=stderr.fileno(),
                )
            load_args = ["--events-fd", str(write_fd), "--port", str(port), "--endpoint", endpoint]
            load_args += ["--settings", json.dumps(self.settings.to_dict()), "--ready-dir", str(ready)]
            load_args += [
                "--server-group",
                str(server.pid),
                "--usable-cores",
                repr(self.machine.usable_cores),
            ]
            load_args += ["--parent-pid", str(os.getpid())]
            with open(folder / "load.stderr", "wb") as stderr:
                load = start_child(
                    python_module_args("lab.web.load", *load_args, python=self.python),
                    pass_fds=(write_fd,),
                    stderr=stderr.fileno(),
                )
        except BaseException:
            for proc in (server, load):
                if proc is not None:
                    end_process_group(proc)
            os.close(read_fd)
            raise
        finally:
            for listener in listeners:
                listener.close()
            os.close(write_fd)
        self._stage = Stage(endpoint, folder, server, load, EventReader(read_fd), time.monotonic())

    def _apply(self, stage: Stage, event: Event) -> None:
        kind = event.get("event")
        if kind == protocol.ENDPOINT_STARTED:
            stage.loading = True
            self._progress[stage.endpoint] = (0, 0.0)
        elif kind == protocol.PROGRESS:
            self._progress[stage.endpoint] = (int(event["requests"]), float(event["elapsed"]))
        elif kind == protocol.ENDPOINT_FINISHED:
            run = EndpointRun.from_dict(event["result"])
            self.runs.append(run)
            self._progress[stage.endpoint] = (run.requests, run.seconds)
            stage.finished = True
        elif kind == protocol.ERROR:
            self.errors.append(str(event.get("message")))

    def _check(self, stage: Stage) -> None:
        """Move on when the endpoint finished; end the run when either child failed or overran."""
        server_code = stage.server.poll()
        if server_code is not None:
            when = "under load" if stage.loading else "starting"
            detail = stderr_tail(stage.folder / "server.stderr") or "no message"
            self._finish(
                "crashed",
                f"the web server stopped while {stage.endpoint} was {when} "
                f"({describe_exit(server_code)}): {detail}",
            )
        elif stage.finished:
            self._end_stage(stage)
            position = self.settings.endpoints.index(stage.endpoint)
            if position + 1 < len(self.settings.endpoints):
                self._launch(self.settings.endpoints[position + 1])
            else:
                self._finish("complete", None)
        elif stage.events.ended or stage.load.poll() is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                stage.load.wait(timeout=EXIT_GRACE_S)  # its exit status, not our SIGKILL, tells what happened
            self._end_stage(stage)
            code = stage.load.returncode
            reason = "; ".join(self.errors) or stderr_tail(stage.folder / "load.stderr") or "no message"
            self._finish(
                "crashed",
                f"the load generator for {stage.endpoint} ended early ({describe_exit(code)}): {reason}",
            )
        elif time.monotonic() - stage.started_at > self.settings.window_s + STAGE_SLACK_S:
            self._finish(
                "crashed",
                f"{stage.endpoint} did not finish within {self.settings.window_s + STAGE_SLACK_S:g} s",
            )

    def _finish(self, status: str, message: str | None) -> None:
        self.status, self.message = status, message
        self._queued.append({"event": protocol.DONE, "status": status, "message": message})
        self.close()

    def _end_stage(self, stage: Stage) -> None:
        end_process_group(stage.load)
        end_process_group(stage.server)
        stage.events.close()
        self._stage = None


def run_web(
    settings: WebSettings, on_event: Callable[[Event], None] | None = None, *, python: str = sys.executable
) -> WebResult:
    """Run every endpoint to the end and return the result (crashed runs included: see its status)."""
    with WebExperiment(settings, python=python) as experiment:
        return experiment.wait(on_event)
