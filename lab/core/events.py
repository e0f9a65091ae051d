"""JSON-lines events on a dedicated pipe: the one channel from every measuring child to its caller.

Every experiment runs in a child process (the engine's worker, the web lab's
load generator, the X-ray sampler) and reports back the same way, as pyperf
does: one JSON object per line on a pipe of its own, never on stdout, so
whatever the measured code prints cannot corrupt the stream.

    caller                                         child
    ------                                         -----
    read_fd, write_fd = open_pipe()
    start_child(..., pass_fds=(write_fd,)) ----->  EventWriter(os.fdopen(fd, "w"))
    close(write_fd)                                  .emit("started", ...)
    reader = EventReader(read_fd)                    .emit(...)            (any thread)
    reader.read(0.1) -> [events]     <-----------    .emit("done")
    reader.ended  (the child closed its end: done, crashed or killed)

Each event is `{"event": NAME, ...fields}`. The names and fields of each
lab's events are written down beside its child (`lab.engine.protocol`,
`lab.web.protocol`, `lab.xray`); this module only carries them. A reader never
blocks beyond its timeout, so a page can redraw between reads and Streamlit
can stop the script there.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import threading
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

Event = dict[str, Any]
PIPE_BYTES = 1 << 20
READ_BYTES = 1 << 16


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


def open_pipe() -> tuple[int, int]:
    """A pipe for events, its write end widened so a burst of events never makes a measured task wait."""
    read_fd, write_fd = os.pipe()
    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_fd, size, PIPE_BYTES)
    return read_fd, write_fd


class EventReader:
    """The caller's end: reads whatever has arrived within a timeout and splits it into events.

    `read` drains everything the child has written so far in one call (a
    burst of task events is not spread over many polls). `ended` turns true
    once the child has closed its end, whether it finished, crashed or was
    killed; the caller then decides which from the events it saw.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.ended = False
        self._buffer = b""
        os.set_blocking(fd, False)
        self._selector: selectors.BaseSelector | None = selectors.DefaultSelector()
        self._selector.register(fd, selectors.EVENT_READ)

    def read(self, timeout: float) -> list[Event]:
        if self.ended or self._selector is None:
            return []
        if not self._selector.select(timeout):
            return []
        chunks = []
        while True:
            try:
                chunk = os.read(self.fd, READ_BYTES)
            except BlockingIOError:
                break
            if not chunk:
                self.ended = True
                break
            chunks.append(chunk)
        *lines, self._buffer = (self._buffer + b"".join(chunks)).split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def close(self) -> None:
        """Close the pipe's read end. Idempotent."""
        if self._selector is not None:
            self._selector.close()
            self._selector = None
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.ended = True
