"""Waiting for the host's turn, for any experiment of any lab: the one way every run queues.

`InLine` wraps an experiment (anything with start/poll/done/cancel/close/
result, as every lab's runner has) and starts it only once this run holds the
host (`lab.hosting.runqueue`). Until then `poll()` reports "queued" events with
the number of runs ahead, never blocking beyond its timeout, so the page can
show the line and Streamlit can stop the script; the CLI polls it the same way.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from lab.core.events import Event
from lab.hosting.runqueue import QueueTimeout, RunQueue, Ticket

QUEUED = "queued"
DEQUEUED = "dequeued"


class Runnable(Protocol):
    """What every lab's experiment offers: started once, polled, ended on every way out."""

    @property
    def done(self) -> bool: ...

    def start(self) -> Any: ...

    def poll(self, timeout: float = 0.1) -> list[Event]: ...

    def cancel(self, message: str | None = None) -> None: ...

    def close(self) -> None: ...


R = TypeVar("R", bound=Runnable)


class InLine(Generic[R]):
    """An experiment that first waits its turn on the host; `ahead` is its place while it waits."""

    def __init__(self, experiment: R, queue: RunQueue) -> None:
        self.experiment = experiment
        self.queue = queue
        self.ahead: int | None = None
        self._ticket: Ticket | None = None
        self._started = False

    @property
    def done(self) -> bool:
        return self.experiment.done

    @property
    def waiting(self) -> bool:
        return not self._started and not self.done

    def start(self) -> InLine[R]:
        if self._ticket is None and not self._started:
            self._ticket = self.queue.join()
        return self

    def poll(self, timeout: float = 0.1) -> list[Event]:
        if self._started:
            return self.experiment.poll(timeout)
        if self.done:
            return []
        assert self._ticket is not None, "start() first"
        try:
            ahead = self._ticket.poll()
        except QueueTimeout as exc:
            self.experiment.cancel(str(exc))
            self.close()
            return [{"event": "error", "message": str(exc)}]
        self.ahead = ahead
        if ahead > 0:
            time.sleep(timeout)
            return [{"event": QUEUED, "ahead": ahead}]
        self._started = True
        try:
            self.experiment.start()
        except BaseException:
            self.close()
            raise
        return [{"event": DEQUEUED}]

    def cancel(self, message: str | None = None) -> None:
        self.experiment.cancel(message)
        self.close()

    def close(self) -> None:
        """End the experiment and give up our place (or the host). Idempotent."""
        self.experiment.close()
        if self._ticket is not None:
            self._ticket.leave()
            self._ticket = None

    def __enter__(self) -> InLine[R]:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
