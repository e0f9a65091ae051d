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

`LabRun` writes the parts that are the same for all of them once, and
`SequenceRun` the life of a run made of child runs one after another (a
comparison's rounds, a sweep's points): each child is given what is left of
the deadline, the first child that does not complete ends the whole run with
its status, and every way out ends the child that is running.

Both carry the steadiness meter (lab.core.steadiness), seen from the caller's side: every
lab's `start`, `poll` and `close` are wrapped so the meter calibrates when the
run starts, at most once per METER_EVERY_S of polling, and when it closes
(after its children are reaped, so their CPU is the run's own). `steadiness`
then holds the verdict, with no change to any lab. A calibration costs about
2 ms of one core per second of run, 0.2 %: under the 1 % the meter may cost
(`benchmarks/steadiness_overhead.py` measures it). A lab that measures inside its
child (the engine's worker) can report its own figures, which are finer: the
child calibrates only between timed parts, the caller's meter at any poll.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from lab.core.events import Event
from lab.core.steadiness import Meter, Steadiness

ResultT = TypeVar("ResultT")
StepT = TypeVar("StepT")
METER_EVERY_S = 1.0


class LabRun(ABC, Generic[ResultT]):
    """The shared half of every lab's experiment; subclasses launch, poll, close and build the result."""

    status: str | None = None
    message: str | None = None
    started_at: float | None = None  # time.monotonic() when the run started
    deadline_s: float | None = None  # seconds the run may take (public mode's cap), None: no limit
    _tmp: Path | None = None  # the run's own temporary folder, if it made one (`_work_folder`)
    steadiness: Steadiness | None = None  # set when the run closes (see the module's docstring)
    _meter: Meter | None = None
    _meter_marked_at: float = 0.0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Meter every lab: wrap the `start`, `poll` and `close` a subclass defines."""
        super().__init_subclass__(**kwargs)
        for name, wrap in (("start", _metered_start), ("poll", _metered_poll), ("close", _metered_close)):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_metered", False):
                setattr(cls, name, wrap(method))

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

    def _work_folder(self, prefix: str) -> Path:
        """A fresh temporary folder for the run's files (its children's spill, downloads, code);
        `_end` removes it, so every way out leaves nothing on disk."""
        self._tmp = Path(tempfile.mkdtemp(prefix=prefix))
        return self._tmp

    def _check_deadline(self) -> None:
        """Cut the run short once it has run past its deadline (public mode's wall-clock cap)."""
        if not self.done and self.deadline_s is not None and self.elapsed > self.deadline_s:
            self._finish(
                "cut_short", f"run cut short after {self.deadline_s:g} s, the limit for one run here"
            )

    def _end(self) -> None:
        """What every `close` does last, once its children are gone: remove the run's folder, and call a
        run that started but has no status yet cancelled (it was ended from outside: a click, an
        exception, the end of a `with` block)."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self.status is None and self.started_at is not None:
            self.status, self.message = "cancelled", "ended before it finished"

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


def _metered_start(start: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(start)
    def metered(self: LabRun[Any]) -> Any:
        if self._meter is None:
            self._meter = Meter()
            self._meter.start()  # before the first child: nothing is timed yet
            self._meter_marked_at = time.monotonic()
        return start(self)

    metered._metered = True  # type: ignore[attr-defined]
    return metered


def _metered_poll(poll: Callable[..., list[Event]]) -> Callable[..., list[Event]]:
    @functools.wraps(poll)
    def metered(self: LabRun[Any], *args: Any, **kwargs: Any) -> list[Event]:
        events = poll(self, *args, **kwargs)
        meter = self._meter
        if (
            meter is not None
            and self.steadiness is None
            and time.monotonic() - self._meter_marked_at >= METER_EVERY_S
        ):
            meter.mark()
            self._meter_marked_at = time.monotonic()
        return events

    metered._metered = True  # type: ignore[attr-defined]
    return metered


def _metered_close(close: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(close)
    def metered(self: LabRun[Any]) -> None:
        close(self)
        if self._meter is not None and self.steadiness is None:
            self.steadiness = self._meter.finish()

    metered._metered = True  # type: ignore[attr-defined]
    return metered


RunT = TypeVar("RunT", bound="LabRun[Any]")


class Ended(Protocol):
    """How a child's result ended, which decides whether the sequence goes on."""

    @property
    def status(self) -> str: ...

    @property
    def message(self) -> str | None: ...


class SequenceRun(LabRun[ResultT], Generic[ResultT, StepT, RunT]):
    """Child runs, one per step, one after another; polled like one run.

    Subclasses say how to `launch` a step's child (given the seconds left of
    the deadline, or None) and what to `keep` of it once it is done; `tag` may
    add the step to each of the child's events. Never blocks beyond a poll's
    timeout.
    """

    def __init__(self, steps: Sequence[StepT], deadline_s: float | None) -> None:
        self.steps: list[StepT] = list(steps)
        self.deadline_s = deadline_s
        self._next_step = 0
        self._current: RunT | None = None
        self._current_step: StepT | None = None

    @abstractmethod
    def launch(self, step: StepT, deadline_s: float | None) -> RunT:
        """The step's child run, not yet started."""

    @abstractmethod
    def keep(self, step: StepT, run: RunT) -> Ended:
        """Record what a finished child measured (`run.result()`) and return it."""

    def tag(self, step: StepT, events: list[Event]) -> list[Event]:
        """The child's events as the sequence reports them (as they are, by default)."""
        return events

    @property
    def current_step(self) -> StepT | None:
        """The step whose child is running now, if any."""
        return self._current_step if self._current is not None else None

    @property
    def current(self) -> RunT | None:
        return self._current

    def start(self) -> Self:
        if self.started_at is None:
            self.started_at = time.monotonic()
            self._next()
        return self

    def _next(self) -> None:
        if self._next_step >= len(self.steps):
            self._finish("complete", None)
            return
        step = self.steps[self._next_step]
        self._next_step += 1
        remaining = None
        if self.deadline_s is not None:
            remaining = max(0.1, self.deadline_s - self.elapsed)
        self._current_step = step
        self._current = self.launch(step, remaining).start()

    def poll(self, timeout: float = 0.1) -> list[Event]:
        current, step = self._current, self._current_step
        if self.done or current is None or step is None:
            return []
        events = self.tag(step, current.poll(timeout))
        if current.done:
            result = self.keep(step, current)
            self._current = None
            if result.status != "complete":
                self._finish(result.status, result.message)
            else:
                self._next()
        return events

    def close(self) -> None:
        """End the running child's processes. Idempotent."""
        if self._current is not None:
            self._current.close()
            self._current = None
        self._end()
