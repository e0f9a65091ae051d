"""A comparison's rounds, one experiment at a time: every interpreter once per round.

Round 1 runs every interpreter once, round 2 again, ..., so drift on a shared
machine hits all of them alike; each interpreter's rounds merge into one
`RunResult` whose repeats are the rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from lab.compare.results import STATUS_ORDER, CompareResult, least_steady
from lab.compare.settings import CompareSettings
from lab.core.interpreters import Interpreter, PythonChoice, RunInterpreter
from lab.core.lifecycle import SequenceRun
from lab.core.records import new_run_id, now_iso
from lab.engine.results import RunResult
from lab.engine.runner import Experiment


@dataclass(frozen=True)
class ComparisonProgress:
    label: str
    rounds_done: int
    rounds: int
    state: str  # "waiting", "running" or "finished"


class Comparison(SequenceRun["CompareResult", tuple[int, int], Experiment]):
    """The rounds of a comparison, one experiment at a time: each step is (round, interpreter index)."""

    def __init__(
        self,
        settings: CompareSettings,
        interpreters: list[Interpreter],
        *,
        target_url: str | None = None,
        deadline_s: float | None = None,
        public: bool = False,
        experiment: Callable[..., Experiment] = Experiment,
    ) -> None:
        steps = [(round_, index) for round_ in range(settings.rounds) for index in range(len(interpreters))]
        super().__init__(steps, deadline_s)
        self.settings = settings
        self.interpreters = interpreters
        self.target_url = target_url
        self.public = public
        self._make = experiment
        self.results: dict[int, list[RunResult]] = {index: [] for index in range(len(interpreters))}
        self.run_id = new_run_id()
        self.created = now_iso()

    def launch(self, step: tuple[int, int], deadline_s: float | None) -> Experiment:
        _round, index = step
        return self._make(
            self.settings.for_choice(self.settings.pythons[index]),
            interpreter=self.interpreters[index],
            target_url=self.target_url,
            deadline_s=deadline_s,
            public=self.public,
        )

    def keep(self, step: tuple[int, int], run: Experiment) -> RunResult:
        result = run.result()
        self.results[step[1]].append(result)
        return result

    def progress(self) -> list[ComparisonProgress]:
        rows = []
        for index, choice in enumerate(self.settings.pythons):
            done = len(self.results[index])
            running = self.current_step is not None and self.current_step[1] == index
            state = "running" if running else "waiting"
            if done == self.settings.rounds:
                state = "finished"
            rows.append(ComparisonProgress(choice.label, done, self.settings.rounds, state))
        return rows

    def result(self) -> CompareResult:
        runs = tuple(
            replace(merge_rounds(self.results[index], self.settings, choice), series=self.run_id)
            for index, choice in enumerate(self.settings.pythons)
            if self.results[index]
        )
        return CompareResult(
            settings=self.settings,
            runs=runs,
            status=self.status or "cancelled",
            message=self.message,
            run_id=self.run_id,
            created=runs[0].created if runs else self.created,  # as a CSV gives it back: its first run's
            steadiness=self.steadiness,
        )


def merge_rounds(rounds: list[RunResult], settings: CompareSettings, choice: PythonChoice) -> RunResult:
    """One interpreter's rounds as one run whose repeats are the rounds."""
    first = rounds[0]
    runs = tuple(replace(run, repeat=number) for number, result in enumerate(rounds) for run in result.runs)
    interpreters = [result.interpreter for result in rounds if result.interpreter is not None]
    interpreter: RunInterpreter | None = None
    if interpreters:
        # The GIL counts as on when it was on at the end of any round: one import can turn it back on.
        interpreter = replace(interpreters[-1], gil_enabled=any(item.gil_enabled for item in interpreters))
    status = max((result.status for result in rounds), key=STATUS_ORDER.index)
    return RunResult(
        settings=replace(settings.base, python=choice.name, gil=choice.gil, repeats=len(rounds)),
        machine=first.machine,
        runs=runs,
        status=status,
        message=next((result.message for result in rounds if result.message), None),
        target_url=first.target_url,
        interpreter=interpreter,
        steadiness=least_steady(result.steadiness for result in rounds),
    )
