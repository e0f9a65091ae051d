"""Running a scaling sweep: its experiments one after another, polled like one experiment.

`Sweep` runs the steps `SweepSettings.steps()` plans (one `Experiment`, so
one worker process, per round × worker count × interpreter, with every swept
mode inside it) and merges each mode's rounds at each count into a point of
`lab.sweep.results`. Like `lab.engine.compare.Comparison` it never
blocks beyond a poll's timeout, passes the host's deadline on to each
experiment as what is left of it, and ends its current experiment's processes
on every way out through `close()`. Events from the experiments come through
with the step's round, worker count and interpreter label added, so a
progress line can say which point a repeat belongs to.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.core.events import Event
from lab.core.interpreters import Interpreter, current_interpreter
from lab.core.lifecycle import LabRun
from lab.core.machine import current_machine
from lab.core.records import new_run_id, now_iso
from lab.engine.results import ModeRun, RunResult
from lab.engine.runner import Experiment
from lab.sweep.results import SweepPoint, SweepResult, merge_point
from lab.sweep.settings import SweepSettings, SweepStep


def line_label(interpreter: Interpreter, gil: str | None) -> str:
    """How a line names its interpreter: `3.12`, or `3.13t:gil=off` when a GIL switch was asked for."""
    return f"{interpreter.name}:gil={gil}" if gil else interpreter.name


@dataclass(frozen=True)
class PointProgress:
    """How far one point (mode × interpreter × worker count) has got: rounds done, and its state."""

    mode: str
    interpreter: str
    workers: int
    rounds_done: int
    rounds: int
    state: str  # "waiting", "running" or "finished"


class Sweep(LabRun[SweepResult]):
    """A sweep's experiments, run in the planned order; polled like any experiment.

    `interpreters` are the resolved Pythons of the settings' choices, in their
    order (one, the lab's own, when the settings name none). `experiment`
    makes each experiment (tests pass a stand-in).
    """

    def __init__(
        self,
        settings: SweepSettings,
        interpreters: Sequence[Interpreter] = (),
        *,
        target_url: str | None = None,
        deadline_s: float | None = None,
        public: bool = False,
        experiment: Callable[..., Experiment] = Experiment,
    ) -> None:
        self.settings = settings
        self.interpreters = list(interpreters) or [current_interpreter()]
        if len(self.interpreters) != settings.python_count:
            raise ValueError(f"{len(self.interpreters)} interpreters for {settings.python_count} choices")
        self.labels = tuple(
            line_label(interpreter, self._gil(index)) for index, interpreter in enumerate(self.interpreters)
        )
        self.target_url = target_url
        self.deadline_s = deadline_s
        self.public = public
        self._make = experiment
        self.steps = settings.steps()
        self.finished: list[tuple[SweepStep, RunResult]] = []
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.run_id = new_run_id()
        self.created = now_iso()
        self._next_step = 0
        self._current: Experiment | None = None
        self._current_step: SweepStep | None = None

    def _gil(self, python: int) -> str | None:
        choice = self.settings.choice(python)
        return choice.gil if choice is not None else self.settings.base.gil

    def start(self) -> Sweep:
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
        if self.deadline_s is not None and self.started_at is not None:
            remaining = max(0.1, self.deadline_s - (time.monotonic() - self.started_at))
        self._current_step = step
        self._current = self._make(
            self.settings.for_step(step),
            interpreter=self.interpreters[step.python],
            target_url=self.target_url,
            deadline_s=remaining,
            public=self.public,
        )
        self._current.start()

    def poll(self, timeout: float = 0.1) -> list[Event]:
        """The current experiment's events, each with its step's round, worker count and interpreter."""
        if self.done or self._current is None or self._current_step is None:
            return []
        step = self._current_step
        where = {"round": step.round, "workers": step.workers, "interpreter": self.labels[step.python]}
        events = [{**event, **where} for event in self._current.poll(timeout)]
        if self._current.done:
            result = self._current.result()
            self.finished.append((step, result))
            self._current = None
            if result.status != "complete":
                self._finish(result.status, result.message)
            else:
                self._next()
        return events

    def close(self) -> None:
        """End the current experiment's processes. Idempotent."""
        if self._current is not None:
            self._current.close()
            self._current = None
        if self.status is None and self.started_at is not None:
            self.status, self.message = "cancelled", "ended before it finished"

    def _runs(self) -> dict[tuple[str, int, int], list[ModeRun]]:
        """Each (mode, interpreter index, worker count)'s runs so far, one per round."""
        runs: dict[tuple[str, int, int], list[ModeRun]] = {}
        for step, result in self.finished:
            for run in result.runs:
                runs.setdefault((run.mode, step.python, step.workers), []).append(run)
        return runs

    def progress(self) -> list[PointProgress]:
        """Every point, in the settings' order of modes, interpreters and counts, with its rounds done."""
        runs = self._runs()
        running: set[tuple[str, int, int]] = set()
        if self._current is not None and self._current_step is not None:
            step = self._current_step
            running = {
                (row.mode, step.python, step.workers)
                for row in self._current.progress()
                if row.state == "running"
            }
        rows = []
        for mode in self.settings.base.modes:
            for python, label in enumerate(self.labels):
                for count in self.settings.workers:
                    done = len(runs.get((mode, python, count), []))
                    state = "running" if (mode, python, count) in running else "waiting"
                    if done == self.settings.rounds:
                        state = "finished"
                    rows.append(PointProgress(mode, label, count, done, self.settings.rounds, state))
        return rows

    def result(self) -> SweepResult:
        """What was measured so far: every point with at least one round, and how the sweep ended."""
        runs = self._runs()
        gil: dict[tuple[int, int], list[bool]] = {}
        steady: dict[tuple[int, int], list[bool]] = {}
        for step, result in self.finished:
            if result.interpreter is not None:
                gil.setdefault((step.python, step.workers), []).append(result.interpreter.gil_enabled)
            if result.steadiness is not None:
                steady.setdefault((step.python, step.workers), []).append(result.steadiness.steady)
        points: list[SweepPoint] = []
        for mode in self.settings.base.modes:
            for python, label in enumerate(self.labels):
                for count in self.settings.workers:
                    rounds = runs.get((mode, python, count))
                    if rounds:
                        tasks = self.settings.tasks_at(count)
                        points.append(
                            merge_point(
                                mode,
                                label,
                                count,
                                tasks,
                                rounds,
                                gil.get((python, count), []),
                                steady.get((python, count), []),
                            )
                        )
        machine = (
            self.finished[0][1].machine if self.finished else current_machine(self.settings.base.start_method)
        )
        return SweepResult(
            settings=self.settings,
            machine=machine,
            interpreters=self.labels,
            points=tuple(points),
            status=self.status or "cancelled",
            message=self.message,
            run_id=self.run_id,
            created=self.created,
        )
