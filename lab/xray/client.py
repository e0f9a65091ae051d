"""The caller's side of the X-ray: start the sampler process on a process group, read it, stop it.

Like `Experiment`, `XraySampler` never blocks for long: `poll()` waits at
most its timeout, so a page can draw the recording as it grows. Every way
out goes through `close()`, which ends the sampler's process group and
reaps it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
from types import TracebackType
from typing import IO

from lab.core.errors import InvalidSettings, LabError
from lab.core.procs import end_process_group, python_module_args, start_child
from lab.xray.model import Recording
from lab.xray.procfs import GroupWatch, TaskFiles, may_read_wchan, proc_available, thread_ids
from lab.xray.protocol import Event, RecordingBuilder
from lab.xray.sampler import CPU_BUDGET, DEFAULT_RATE_HZ, MAX_RATE_HZ, MIN_RATE_HZ

STOP_GRACE_S = 2.0
PIPE_BYTES = 1 << 20


def check_target(pgid: int) -> None:
    """Raise a one-line LabError unless the group exists and its threads' states can be read."""
    if not proc_available():
        raise LabError("the GIL X-ray needs Linux's /proc, which this system does not have")
    members = GroupWatch(pgid).refresh(full=True)
    if not members:
        raise LabError(f"no running process is in process group {pgid}: nothing to X-ray")
    pid = min(members)
    if not (_stat_readable(pid) and may_read_wchan(pid)):
        raise LabError(f"cannot read the thread states of process {pid} in /proc (another user's process?)")


def _stat_readable(pid: int) -> bool:
    tids = thread_ids(pid)
    if not tids:
        return False
    files = TaskFiles.open(pid, tids[0])
    if files is None:
        return False
    try:
        return files.stat() is not None
    finally:
        files.close()


class XraySampler:
    """One `python -m lab.xray.sampler` process attached to process group `pgid`.

    `cpu_budget` caps the sampler's own CPU (a share of one core): past it,
    the sampler sweeps less often than `rate_hz` (see `lab.xray.sampler`).
    """

    def __init__(
        self,
        pgid: int,
        rate_hz: float = DEFAULT_RATE_HZ,
        *,
        cpu_budget: float = CPU_BUDGET,
        python: str | None = None,
    ) -> None:
        if not MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ:
            raise InvalidSettings(
                f"X-ray rate {rate_hz:g} Hz is out of range ({MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz)"
            )
        if not 0 < cpu_budget <= 1:
            raise InvalidSettings(
                f"X-ray CPU budget {cpu_budget:g} is out of range (above 0, at most 1 core)"
            )
        self.pgid = pgid
        self.rate_hz = rate_hz
        self.cpu_budget = cpu_budget
        self.python = python
        self._builder = RecordingBuilder(pgid, rate_hz)
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe: int | None = None
        self._selector: selectors.BaseSelector | None = None
        self._stderr: IO[bytes] | None = None
        self._buffer = b""
        self._eof = False

    def start(self) -> XraySampler:
        """Check the target, then start the sampler; raises LabError with one line if it cannot."""
        if self._proc is not None:
            return self
        check_target(self.pgid)
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError, AttributeError):
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # bursts never stall the sampler
        self._pipe = read_fd
        self._stderr = tempfile.TemporaryFile(prefix="gil-lab-xray-")  # noqa: SIM115 (closed by close())
        args = python_module_args(
            "lab.xray.sampler",
            *("--pgid", str(self.pgid), "--rate-hz", repr(self.rate_hz)),
            *("--pipe", str(write_fd), "--parent-pid", str(os.getpid())),
            *("--cpu-budget", repr(self.cpu_budget)),
            python=self.python,
        )
        try:
            self._proc = start_child(args, pass_fds=(write_fd,), stderr=self._stderr.fileno())
        except OSError as exc:
            self.close()
            raise LabError(f"cannot start the X-ray sampler: {exc.strerror or exc}") from None
        finally:
            os.close(write_fd)
        os.set_blocking(read_fd, False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(read_fd, selectors.EVENT_READ)
        return self

    @property
    def started(self) -> bool:
        """The sampler has found the group and begun its sweeps."""
        return self._builder.started_at is not None

    @property
    def done(self) -> bool:
        """The sampler has ended (stopped, the group ended, or it died) and all it sent is read."""
        return self._eof

    @property
    def sampler_pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def errors(self) -> list[str]:
        return list(self._builder.errors)

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """Events that arrived within `timeout` seconds (never blocks longer)."""
        if self._selector is None or self._eof:
            return []
        if not self._selector.select(timeout):
            return []
        data, self._eof = self._read_available()
        *lines, self._buffer = (self._buffer + data).split(b"\n")
        events: list[Event] = [json.loads(line) for line in lines if line.strip()]
        for event in events:
            self._builder.apply(event)
        if self._eof:
            self.close()
        return events

    def _read_available(self) -> tuple[bytes, bool]:
        assert self._pipe is not None
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(self._pipe, 1 << 16)
            except BlockingIOError:
                return b"".join(chunks), False
            if not chunk:
                return b"".join(chunks), True
            chunks.append(chunk)

    def recording(self) -> Recording:
        """What has arrived so far (end reason "running" while the sampler goes on)."""
        return self._builder.recording("running" if self._proc is not None and not self._eof else "lost")

    def stop(self, grace_s: float = STOP_GRACE_S) -> Recording:
        """Ask the sampler to flush and stop, read its last events (at most `grace_s`), end it.

        A sampler still starting up gets that time to install its SIGTERM
        handler first (it says so with "started"); otherwise the signal
        would kill it before its final flush.
        """
        deadline = time.monotonic() + grace_s
        if self._proc is not None and not self._eof:
            while not self.started and not self._eof and (left := deadline - time.monotonic()) > 0:
                self.poll(min(left, 0.05))
            with contextlib.suppress(ProcessLookupError):
                self._proc.send_signal(signal.SIGTERM)
            while not self._eof and (left := deadline - time.monotonic()) > 0:
                self.poll(min(left, 0.1))
        self.close()
        return self.recording()

    def close(self) -> None:
        """End the sampler's process group and release the pipe. Idempotent; keeps the recording.

        A sampler that ended without saying how leaves the last line of its
        stderr (usually the exception) in `errors`.
        """
        if self._proc is not None:
            end_process_group(self._proc)
        if self._selector is not None:
            self._selector.close()
            self._selector = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
        if self._stderr is not None:
            if self._builder.end_reason is None:
                self._keep_stderr_tail(self._stderr)
            self._stderr.close()
            self._stderr = None
        self._eof = True

    def _keep_stderr_tail(self, stderr: IO[bytes]) -> None:
        stderr.seek(0)
        lines = [line.strip() for line in stderr.read().decode(errors="replace").splitlines() if line.strip()]
        if lines:
            self._builder.errors.append(lines[-1])

    def __enter__(self) -> XraySampler:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
