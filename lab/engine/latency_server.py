"""The parent side of the embedded latency server: start it in a child process, find its port, end it.

The server itself (`lab.engine.latency_app`, on aiohttp) always runs in a
process of its own, away from the GIL being measured. This module imports
no aiohttp, so the process that starts a run does not pay for it. The child
is started and ended through the project's one kill-and-reap path,
`lab.core.procs.start_child` and `end_process_group`.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from types import TracebackType
from typing import IO

from lab.core.errors import InvalidSettings, RunFailed
from lab.core.procs import end_process_group, python_module_args, start_child
from lab.engine.settings import DEFAULT_BODY_BYTES, DEFAULT_LATENCY_MS, MAX_BODY_BYTES, MAX_LATENCY_MS

APP_MODULE = "lab.engine.latency_app"
STARTUP_TIMEOUT_S = 10.0


def check_range(name: str, value: int, high: int) -> int:
    """`value` if it is a whole number in [0, high], else InvalidSettings with a one-line message."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise InvalidSettings(f"{name} must be a whole number from 0 to {high:,}, got {value!r}")
    return value


class EmbeddedServer:
    """The latency server in a child process of its own, on 127.0.0.1 and a free port.

    The child leads its own process group, so `stop` ends everything it
    started, and it exits by itself when this process dies (its stdin, whose
    write end only this process holds, reaches EOF). `start` and `stop` hold a
    lock: one server may be shared by the threads of a web app.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        latency_ms: int = DEFAULT_LATENCY_MS,
        nbytes: int = DEFAULT_BODY_BYTES,
        python: str = sys.executable,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.latency_ms = check_range("latency_ms", latency_ms, MAX_LATENCY_MS)
        self.nbytes = check_range("bytes", nbytes, MAX_BODY_BYTES)
        self.python = python
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._lock = threading.RLock()  # re-entrant: a failed start calls stop while holding it

    def start(self) -> EmbeddedServer:
        """Start the child and wait until it listens; a no-op while it is alive."""
        with self._lock:
            if not self.alive:
                self.stop()
                self._spawn()
        return self

    def _spawn(self) -> None:
        args = python_module_args(
            APP_MODULE,
            *("--host", self.host, "--port", "0"),
            *("--latency-ms", str(self.latency_ms), "--bytes", str(self.nbytes)),
            "--watch-stdin",
            python=self.python,
        )
        # A file, not a pipe, for stderr: nobody reads it while the server runs, so it must never fill up.
        with tempfile.TemporaryFile() as errors:
            try:
                self._process = start_child(
                    args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors.fileno()
                )
            except OSError as exc:
                reason = exc.strerror or exc
                raise RunFailed(f"could not start the embedded server with {self.python}: {reason}") from None
            try:
                self._port = self._read_port(errors)
            except RunFailed:
                self.stop()
                raise

    def _read_port(self, errors: IO[bytes]) -> int:
        """The port from the child's handshake line, or RunFailed saying why there is none."""
        assert self._process is not None and self._process.stdout is not None
        line = read_line(self._process.stdout, self.startup_timeout_s)
        if line is None:
            raise RunFailed(f"the embedded server did not start within {self.startup_timeout_s:g} s")
        prefix = f"listening on http://{self.host}:"
        if line.startswith(prefix) and line[len(prefix) :].isdigit():
            return int(line[len(prefix) :])
        if line:
            raise RunFailed(f"the embedded server printed {line[:80]!r} instead of its address")
        with suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=self.startup_timeout_s)
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else "no output"
        raise RunFailed(f"the embedded server exited with status {self._process.returncode}: {reason}")

    @property
    def port(self) -> int:
        if self._port is None:
            raise RunFailed("the embedded server is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def url(self, latency_ms: int, nbytes: int) -> str:
        return f"{self.base_url}/?latency_ms={latency_ms}&bytes={nbytes}"

    @property
    def alive(self) -> bool:
        """True while the child runs; one non-blocking waitpid, cheap enough to call per page view."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """End the child's process group and reap it; never raises, safe to repeat."""
        with self._lock:
            process, self._process, self._port = self._process, None, None
        if process is not None:
            end_process_group(process)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def read_line(pipe: IO[bytes], timeout_s: float) -> str | None:
    """The child's first line (or all it wrote before closing); None after the timeout, never blocks."""
    deadline = time.monotonic() + timeout_s
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(pipe, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(pipe.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace").split("\n", 1)[0].strip()
