"""Running a scaling sweep: its experiments one after another, polled like one experiment.

`Sweep` runs the steps `SweepSettings.steps()` plans (one `Experiment`, so
one worker process, per round × worker count × interpreter, with every swept
mode inside it) and merges each mode's rounds at each count into a point of
`lab.sweep.results`. Like `lab.compare.runner.Comparison` it never
blocks beyond a poll's timeout, passes the host's deadline on to each
experiment as what is left of it, and ends its current experiment's processes
on every way out through `close()`. Events from the experiments come through
with the step's round, worker count and interpreter label added, so a
progress line can say which point a repeat belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.core.events import Event
from lab.core.interpreters import Interpreter, current_interpreter
from lab.core.lifecycle import SequenceRun
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


class Sweep(SequenceRun[SweepResult, SweepStep, Experiment]):
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
        super().__init__(settings.steps(), deadline_s)
        self.settings = settings
        self.interpreters = list(interpreters) or [current_interpreter()]
        if len(self.interpreters) != settings.python_count:
            raise ValueError(f"{len(self.interpreters)} interpreters for {settings.python_count} choices")
        self.labels = tuple(
            line_label(interpreter, self._gil(index)) for index, interpreter in enumerate(self.interpreters)
        )
        self.target_url = target_url
        self.public = public
        self._make = experiment
        self.finished: list[tuple[SweepStep, RunResult]] = []
        self.run_id = new_run_id()
        self.created = now_iso()

    def _gil(self, python: int) -> str | None:
        choice = self.settings.choice(python)
        return choice.gil if choice is not None else self.settings.base.gil

    def launch(self, step: SweepStep, deadline_s: float | None) -> Experiment:
        return self._make(
            self.settings.for_step(step),
            interpreter=self.interpreters[step.python],
            target_url=self.target_url,
            deadline_s=deadline_s,
            public=self.public,
        )

    def keep(self, step: SweepStep, run: Experiment) -> RunResult:
        result = run.result()
        self.finished.append((step, result))
        return result

    def tag(self, step: SweepStep, events: list[Event]) -> list[Event]:
        """Each event with its step's round, worker count and interpreter."""
        where = {"round": step.round, "workers": step.workers, "interpreter": self.labels[step.python]}
        return [{**event, **where} for event in events]

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
        current, step = self.current, self.current_step
        if current is not None and step is not None:
            running = {
                (row.mode, step.python, step.workers) for row in current.progress() if row.state == "running"
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
