"""The caller's side of the convoy lab: each point's probe, X-ray and client, in series, polled like one run.

For each point `Convoy` binds a UDP socket on loopback and starts, all at
once, the measured process (`lab.convoy.probe`, under the chosen
interpreter and GIL switch, answering on that socket), the X-ray sampler on
its process group, and the client (`lab.convoy.client`, under the lab's
own Python: the instrument stays the same whatever is measured). The client's
first ping, a hello that is not counted, waits in the socket until the probe
runs, so no start-up is measured and no process waits for another to report.
When the client has its round trips, the runner closes the probe's stdin: the
probe reports the GIL state it ended with and exits, and the sampler, seeing
the group empty, flushes and ends by itself, so even the end of a point never
blocks. The protocol is in `lab.convoy.protocol`.

`poll()` never blocks beyond its timeout, so the page can redraw and
Streamlit can stop the script between polls. Every way out (done, a crash,
cancel, the deadline, an exception in the caller) goes through `close()`,
which ends the probe's, the client's and the sampler's process groups and
reaps them.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.convoy import protocol
from lab.convoy.results import ConvoyPoint, ConvoyResult
from lab.convoy.settings import PING_TIMEOUT_MS, ConvoySettings, ping_gap_ms
from lab.core import config
from lab.core.errors import LabError, RunFailed
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
from lab.core.records import new_run_id
from lab.xray.client import XraySampler
from lab.xray.figures import window_figures
from lab.xray.sampler import DEFAULT_RATE_HZ

STARTUP_TIMEOUT_S = 30.0  # a cold interpreter on a busy machine; a healthy probe is ready in ~0.1 s
ENDING_TIMEOUT_S = 5.0  # for the probe's last report and the sampler's last flush
WINDOW_SLACK_S = 30.0  # on top of the window and one ping's timeout, before a stalled client is given up


@dataclass
class Stage:
    """One point's processes and what they have said so far. Only the runner touches it."""

    index: int
    cpu_threads: int
    switch_interval_ms: float
    folder: Path
    probe: subprocess.Popen[bytes]
    probe_events: EventReader
    phase: str
    phase_started: float
    ready: Event | None = None
    sampler: XraySampler | None = None
    xray_note: str | None = None
    client: subprocess.Popen[bytes] | None = None
    client_events: EventReader | None = None
    pings: int = 0
    elapsed: float = 0.0
    finished: Event | None = None
    client_error: str | None = None
    probe_done: Event | None = None

    def enter(self, phase: str) -> None:
        self.phase, self.phase_started = phase, time.monotonic()

    @property
    def in_phase_s(self) -> float:
        return time.monotonic() - self.phase_started


@dataclass(frozen=True)
class PointProgress:
    """How far one point has got, for a progress bar."""

    cpu_threads: int
    switch_interval_ms: float
    state: str  # "waiting", "starting", "pinging", "ending" or "finished"
    pings: int
    elapsed: float
    window_s: float


class PointFailed(LabError):
    """A child of the current point failed; the run ends crashed with this one line."""


class Convoy(LabRun[ConvoyResult]):
    """The points of a convoy run, one at a time; the same shape as every lab's experiment.

    `interpreter` runs the measured process, with the settings' GIL switch in
    its environment (`PYTHON_GIL`: a `-X gil=` option would not reach a
    `python -m` child). `deadline_s` ends the run after that many seconds and
    reports it cut short. `xray_hz` is the X-ray's sampling rate.
    """

    def __init__(
        self,
        settings: ConvoySettings,
        *,
        interpreter: Interpreter | None = None,
        deadline_s: float | None = None,
        xray_hz: float = DEFAULT_RATE_HZ,
    ) -> None:
        self.settings = settings
        self.interpreter = interpreter or current_interpreter()
        self.deadline_s = deadline_s
        self.xray_hz = xray_hz
        self.points: list[ConvoyPoint] = []
        self.machine: Machine | None = None
        self.final_state: dict[str, Any] | None = None
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.run_id = new_run_id()  # one id, however often `result()` is asked for
        self._environment = gil_environment(self.interpreter, settings.gil)  # refuses a switch it lacks
        self._plan = settings.points()
        self._stage: Stage | None = None
        self._queued: list[Event] = []

    @property
    def probe_pid(self) -> int | None:
        """The current point's measured process (it leads its own process group)."""
        return self._stage.probe.pid if self._stage is not None else None

    @property
    def client_pid(self) -> int | None:
        stage = self._stage
        return stage.client.pid if stage is not None and stage.client is not None else None

    def start(self) -> Convoy:
        if self._tmp is not None:
            return self
        self._work_folder("gil-lab-convoy-")
        self.started_at = time.monotonic()
        try:
            self._launch(0)
        except BaseException:
            self.close()
            raise
        return self

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds; moves on to the next point, or ends the run."""
        stage = self._stage
        if self.done or stage is None:
            events, self._queued = self._queued, []
            return events
        try:
            events = self._advance(stage, timeout)
        except PointFailed as exc:
            self._finish("crashed", str(exc))
            events = []
        self._check_deadline()
        events, self._queued = events + self._queued, []
        return events

    def close(self) -> None:
        """End the current point's processes (probe, client, X-ray) and remove their files. Idempotent."""
        if self._stage is not None:
            self._end_stage(self._stage)
        self._end()

    def progress(self) -> list[PointProgress]:
        window = self.settings.seconds
        stage = self._stage
        rows = []
        for index, (count, interval) in enumerate(self._plan):
            if index < len(self.points):
                point = self.points[index]
                rows.append(
                    PointProgress(count, interval, "finished", len(point.latency_ms), point.seconds, window)
                )
            elif stage is not None and stage.index == index:
                rows.append(PointProgress(count, interval, stage.phase, stage.pings, stage.elapsed, window))
            else:
                rows.append(PointProgress(count, interval, "waiting", 0, 0.0, window))
        return rows

    def run_interpreter(self) -> RunInterpreter:
        """The interpreter record: the measured process's own report at the end of the last point."""
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

    def _pending(self) -> bool:
        return bool(self._queued)

    def result(self) -> ConvoyResult:
        """What was measured so far: every point, or those that finished before the run ended."""
        return ConvoyResult(
            settings=self.settings,
            machine=self.machine or current_machine(),
            points=tuple(self.points),
            interpreter=self.run_interpreter(),
            status=self.status or "cancelled",
            message=self.message,
            run_id=self.run_id,
            steadiness=self.steadiness,
        )

    # --- one point

    def _launch(self, index: int) -> None:
        """Start the point's probe, its X-ray and its client at once; the client's hello waits for the probe.

        The runner binds the probe's UDP socket itself and hands it down, so
        the client knows the port before the probe has even started.
        """
        assert self._tmp is not None
        count, interval = self._plan[index]
        folder = self._tmp / f"{index}-{count}-threads-{interval:g}-ms"
        folder.mkdir()
        env = child_env({config.PUBLIC: "0", **self._environment})
        if not self._environment:
            env.pop(config.PYTHON_GIL, None)  # the build's own default, not whatever the caller had set
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", 0))
            args = ["--socket-fd", str(sock.fileno()), "--cpu-threads", str(count)]
            args += ["--switch-interval-ms", repr(interval)]
            probe, reader = self._start(
                "lab.convoy.probe",
                args,
                folder / "probe.stderr",
                self.interpreter.path,
                env,
                pass_fds=(sock.fileno(),),
                stdin=True,
            )
            port = sock.getsockname()[1]
        finally:
            sock.close()
        stage = Stage(index, count, interval, folder, probe, reader, "starting", time.monotonic())
        self._stage = stage  # from here on, close() ends whatever has started
        try:
            stage.sampler = XraySampler(probe.pid, self.xray_hz).start()
        except LabError as exc:  # a point without its X-ray is still a measurement: the refusal is a note
            stage.xray_note = f"no X-ray: {exc}"
        client_args = ["--port", str(port), "--seconds", repr(self.settings.seconds)]
        client_args += ["--gap-ms", repr(ping_gap_ms(count, interval)), "--timeout-ms", repr(PING_TIMEOUT_MS)]
        client_args += ["--hello-timeout-ms", repr(STARTUP_TIMEOUT_S * 1000)]
        client_env = child_env()
        client_env.pop(config.PYTHON_GIL, None)
        stage.client, stage.client_events = self._start(
            "lab.convoy.client", client_args, folder / "client.stderr", sys.executable, client_env
        )

    def _start(
        self,
        module: str,
        args: list[str],
        stderr_path: Path,
        python: str,
        env: dict[str, str],
        *,
        pass_fds: tuple[int, ...] = (),
        stdin: bool = False,
    ) -> tuple[subprocess.Popen[bytes], EventReader]:
        read_fd, write_fd = open_pipe()
        reader = EventReader(read_fd)
        command = python_module_args(
            module, "--pipe", str(write_fd), *args, "--parent-pid", str(os.getpid()), python=python
        )
        try:
            with open(stderr_path, "wb") as stderr:
                proc = start_child(
                    command,
                    pass_fds=(write_fd, *pass_fds),
                    stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                    stderr=stderr.fileno(),
                    env=env,
                )
        except OSError as exc:
            reader.close()
            raise RunFailed(f"cannot start {module} with {python}: {exc.strerror or exc}") from None
        finally:
            os.close(write_fd)
        return proc, reader

    def _advance(self, stage: Stage, timeout: float) -> list[Event]:
        if stage.phase == "ending":
            self._advance_ending(stage, timeout)
            return []
        assert stage.client_events is not None and stage.client is not None
        events = stage.client_events.read(timeout)
        self._on_client(stage, events)
        self._on_probe(stage, stage.probe_events.read(0.0))
        if stage.sampler is not None:
            stage.sampler.poll(0.0)
        if stage.finished is not None:
            self._end_probe(stage)
        elif stage.probe_events.ended:
            raise PointFailed(self._probe_failure(stage))
        elif stage.client_events.ended or stage.client_error is not None:
            raise PointFailed(self._client_failure(stage))
        else:
            limit = STARTUP_TIMEOUT_S + self.settings.seconds + PING_TIMEOUT_MS / 1000 + WINDOW_SLACK_S
            if stage.in_phase_s > limit:
                raise PointFailed(f"the point did not finish within {limit:g} s")
        return events

    def _advance_ending(self, stage: Stage, timeout: float) -> None:
        """The probe's last report, then the sampler's last flush (it ends once the group is empty)."""
        if stage.probe_done is None and not stage.probe_events.ended:
            self._on_probe(stage, stage.probe_events.read(timeout))
        elif stage.sampler is not None and not stage.sampler.done:
            stage.sampler.poll(timeout)
        sampler_done = stage.sampler is None or stage.sampler.done
        probe_over = stage.probe_done is not None or stage.probe_events.ended
        if (probe_over and sampler_done) or stage.in_phase_s > ENDING_TIMEOUT_S:
            self._conclude(stage)

    def _on_probe(self, stage: Stage, events: list[Event]) -> None:
        for event in events:
            kind = event.get("event")
            if kind == protocol.READY:
                stage.ready = event
                self.machine = Machine.from_dict(event["machine"])
            elif kind == protocol.DONE:
                stage.probe_done = event
                self.final_state = event["interpreter"]
            elif kind == protocol.ERROR:
                raise PointFailed(str(event.get("message")))

    def _on_client(self, stage: Stage, events: list[Event]) -> None:
        for event in events:
            kind = event.get("event")
            if kind == protocol.STARTED:
                stage.enter("pinging")
            elif kind == protocol.PROGRESS:
                stage.pings, stage.elapsed = int(event["pings"]), float(event["elapsed"])
            elif kind == protocol.FINISHED:
                stage.finished = event
                stage.pings = len(event["latency_ms"])
                stage.elapsed = float(event["ended"]) - float(event["origin"])
            elif kind == protocol.ERROR:
                stage.client_error = str(event.get("message"))

    def _client_failure(self, stage: Stage) -> str:
        """Why the client ended early, or why the probe did when it went first (its pings were refused)."""
        assert stage.client is not None
        with contextlib.suppress(subprocess.TimeoutExpired):
            stage.client.wait(timeout=1.0)  # its exit status, not our SIGKILL, says what happened
        with contextlib.suppress(subprocess.TimeoutExpired):
            stage.probe.wait(timeout=0.2)
        if stage.probe.returncode is not None:
            return self._probe_failure(stage)
        detail = stage.client_error or stderr_tail(stage.folder / "client.stderr") or "no message"
        return f"the ping client ended early ({describe_exit(stage.client.returncode)}): {detail}"

    def _probe_failure(self, stage: Stage) -> str:
        when = "while it was measured" if stage.ready is not None else "before it was ready"
        with contextlib.suppress(subprocess.TimeoutExpired):
            stage.probe.wait(timeout=1.0)  # its own exit status, not our SIGKILL, says what happened
        detail = stderr_tail(stage.folder / "probe.stderr") or "no message"
        code = describe_exit(stage.probe.returncode)
        return f"the measured process ({self.interpreter.name}) ended {when} ({code}): {detail}"

    def _end_probe(self, stage: Stage) -> None:
        """Ask the measured process for its last report: closing its stdin is its signal to end."""
        if stage.probe.stdin is not None:
            with contextlib.suppress(OSError):
                stage.probe.stdin.close()
        stage.enter("ending")

    def _conclude(self, stage: Stage) -> None:
        point = self._point(stage)
        self._end_stage(stage)
        self.points.append(point)
        self._queued.append({"event": protocol.POINT_FINISHED, "point": point.summary().to_dict()})
        if stage.index + 1 < len(self._plan):
            try:
                self._launch(stage.index + 1)
            except RunFailed as exc:
                self._finish("crashed", str(exc))
        else:
            self._finish("complete", None)

    def _point(self, stage: Stage) -> ConvoyPoint:
        finished, ready = stage.finished, stage.ready
        assert finished is not None and ready is not None
        origin, ended = float(finished["origin"]), float(finished["ended"])
        xray, note = None, stage.xray_note
        if stage.sampler is not None:
            stage.sampler.close()
            pid = int(ready["pid"])
            labels = {(pid, int(ready["probe_tid"])): "probe"}
            labels |= {(pid, int(tid)): f"cpu-{number}" for number, tid in enumerate(ready["cpu_tids"], 1)}
            xray = window_figures(stage.sampler.recording(), origin, ended, labels).to_dict()
            if stage.sampler.errors:
                note = f"X-ray: {'; '.join(stage.sampler.errors)}"
        done = stage.probe_done
        gil_enabled = bool(done["interpreter"]["gil_enabled"] if done is not None else ready["gil_enabled"])
        return ConvoyPoint(
            cpu_threads=stage.cpu_threads,
            switch_interval_ms=stage.switch_interval_ms,
            seconds=round(ended - origin, 4),
            at=tuple(float(value) for value in finished["at"]),
            latency_ms=tuple(float(value) for value in finished["latency_ms"]),
            lost=int(finished["lost"]),
            gil_enabled=gil_enabled,
            xray=xray,
            xray_note=note,
        )

    def _end_stage(self, stage: Stage) -> None:
        for proc in (stage.client, stage.probe):
            if proc is not None:
                end_process_group(proc)
        if stage.sampler is not None:
            stage.sampler.close()
        for reader in (stage.client_events, stage.probe_events):
            if reader is not None:
                reader.close()
        self._stage = None


def run_convoy(
    settings: ConvoySettings,
    on_event: Callable[[Event], None] | None = None,
    *,
    interpreter: Interpreter | None = None,
    deadline_s: float | None = None,
) -> ConvoyResult:
    """Run every point to the end and return the result (a crashed run too: see its status)."""
    with Convoy(settings, interpreter=interpreter, deadline_s=deadline_s) as convoy:
        return convoy.wait(on_event)
