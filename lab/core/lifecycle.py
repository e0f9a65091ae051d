"""The life of one lab run, the same for every lab: started once, polled, ended on every way out.

Every lab's experiment (the engine's modes, the web lab's endpoints, the convoy's
points, the cluster's layouts, a comparison of interpreters, a sweep) drives
child processes and turns their events into a result. What differs is how; what
must not differ is the contract the page, the CLI and the host's queue rely on:

- `start()` launches the first child and returns the run; calling it again does nothing.
- `poll(timeout)` returns the events that arrived within `timeout` and never
  blocks longer, so Streamlit can stop the script between two calls.
- `done` is true once a status is set ("complete", "failed", "cancelled", "cut_short").
- `cancel()` and `close()` end every child's process group on any way out
  (a click that raises StopException, an exception, the end of a `with` block);
  both are idempotent, and `result()` then holds what was measured so far.

`LabRun` writes the parts that are the same for all of them once.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Self, TypeVar

from lab.core.events import Event

ResultT = TypeVar("ResultT")


class LabRun(ABC, Generic[ResultT]):
    """The shared half of every lab's experiment; subclasses launch, poll, close and build the result."""

    status: str | None = None
    message: str | None = None
    started_at: float | None = None  # time.monotonic() when the run started

    @abstractmethod
    def start(self) -> Self:
        """Launch the run if it has not started; return it."""

    @abstractmethod
    def poll(self, timeout: float = 0.1) -> list[Event]:
        """The events that arrived within `timeout` seconds; ends the run when it is over."""

    @abstractmethod
    def close(self) -> None:
        """End every child's process group and remove temporary files. Idempotent."""

    @abstractmethod
    def result(self) -> ResultT:
        """What was measured so far: the whole run, or the part that finished before it ended."""

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def elapsed(self) -> float:
        """Seconds since the run started (0 before it starts)."""
        return time.monotonic() - self.started_at if self.started_at is not None else 0.0

    def _pending(self) -> bool:
        """Whether events are still held back for `poll` after the run is done (none by default)."""
        return False

    def _finish(self, status: str, message: str | None) -> None:
        self.status, self.message = status, message
        self.close()

    def cancel(self, message: str | None = None) -> None:
        if not self.done:
            self._finish("cancelled", message or "cancelled before it finished")
        self.close()

    def wait(self, on_event: Callable[[Event], None] | None = None, timeout: float = 0.2) -> ResultT:
        """Block until the run ends (for the CLI, scripts and tests; the page polls instead)."""
        self.start()
        while not self.done or self._pending():
            for event in self.poll(timeout):
                if on_event is not None:
                    on_event(event)
        return self.result()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
