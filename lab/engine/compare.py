"""The same run under several Pythons, interleaved round by round: what would my threads do on 3.13t?

`Comparison` runs one `Experiment` per interpreter per round (round 1: every
interpreter once, round 2: again, ...), so drift on a shared machine hits all
of them alike, and merges each interpreter's rounds into one `RunResult`
whose repeats are the rounds. A choice is an interpreter's name plus, for a
free-threaded build, its GIL switch: `3.13t:gil=off`. Each interpreter's
single-thread cost is its batch time against the first one's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.events import Event
from lab.core.interpreters import GIL_SETTINGS, Interpreter, RunInterpreter
from lab.core.lifecycle import LabRun
from lab.core.machine import Machine
from lab.core.records import new_run_id, now_iso, parse_json
from lab.engine.csvio import ImportedRun
from lab.engine.results import RunResult
from lab.engine.runner import Experiment
from lab.engine.settings import RunSettings

COMPARE_SCHEMA_VERSION = 1
MAX_PYTHONS = 8
STATUS_ORDER = ("complete", "cut_short", "cancelled", "crashed")


@dataclass(frozen=True)
class PythonChoice:
    """An interpreter by name, with the GIL switch of a free-threaded build ("on", "off" or None)."""

    name: str
    gil: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:gil={self.gil}" if self.gil else self.name

    @classmethod
    def parse(cls, text: str) -> PythonChoice:
        """'3.13t:gil=off' -> PythonChoice('3.13t', 'off'); a plain name has the build's default."""
        name, _, option = text.strip().partition(":gil=")
        if not name:
            raise InvalidSettings(f"{text!r} names no interpreter; write NAME or NAME:gil=on|off")
        if option and option not in GIL_SETTINGS:
            raise InvalidSettings(f"{text!r}: the GIL switch is gil=on or gil=off")
        return cls(name, option or None)


def parse_pythons(value: str | list[str] | tuple[str, ...]) -> tuple[PythonChoice, ...]:
    """'3.11,3.13t:gil=off' -> choices, in order, each once; at least two, at most MAX_PYTHONS."""
    items = value.split(",") if isinstance(value, str) else list(value)
    choices = tuple(dict.fromkeys(PythonChoice.parse(item) for item in items if item.strip()))
    if len(choices) < 2:
        raise InvalidSettings("--pythons needs at least two interpreters to compare, e.g. 3.13,3.13t:gil=off")
    if len(choices) > MAX_PYTHONS:
        raise InvalidSettings(f"--pythons takes at most {MAX_PYTHONS} interpreters, got {len(choices)}")
    return choices


@dataclass(frozen=True)
class CompareSettings:
    """One run's settings (its repeats are the rounds) and the interpreters to run it under."""

    base: RunSettings
    pythons: tuple[PythonChoice, ...]

    @property
    def rounds(self) -> int:
        return self.base.repeats

    def for_choice(self, choice: PythonChoice) -> RunSettings:
        """The settings of one round under one interpreter."""
        return replace(self.base, python=choice.name, gil=choice.gil, repeats=1)

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "pythons": [choice.label for choice in self.pythons]}


@dataclass(frozen=True)
class ComparisonProgress:
    label: str
    rounds_done: int
    rounds: int
    state: str  # "waiting", "running" or "finished"


class Comparison(LabRun["CompareResult"]):
    """The rounds of a comparison, one experiment at a time; polled like any experiment."""

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
        self.settings = settings
        self.interpreters = interpreters
        self.target_url = target_url
        self.deadline_s = deadline_s
        self.public = public
        self._make = experiment
        self.steps = [
            (round_, index) for round_ in range(settings.rounds) for index in range(len(interpreters))
        ]
        self.results: dict[int, list[RunResult]] = {index: [] for index in range(len(interpreters))}
        self.status: str | None = None
        self.message: str | None = None
        self.started_at: float | None = None
        self.run_id = new_run_id()
        self._step = 0
        self._current: Experiment | None = None
        self._current_index: int | None = None

    def start(self) -> Comparison:
        if self.started_at is None:
            self.started_at = time.monotonic()
            self._next()
        return self

    def _next(self) -> None:
        if self._step >= len(self.steps):
            self._finish("complete", None)
            return
        _round, index = self.steps[self._step]
        self._step += 1
        remaining = None
        if self.deadline_s is not None and self.started_at is not None:
            remaining = max(0.1, self.deadline_s - (time.monotonic() - self.started_at))
        settings = self.settings.for_choice(self.settings.pythons[index])
        self._current_index = index
        self._current = self._make(
            settings,
            interpreter=self.interpreters[index],
            target_url=self.target_url,
            deadline_s=remaining,
            public=self.public,
        ).start()

    def poll(self, timeout: float = 0.1) -> list[Event]:
        if self.done or self._current is None:
            return []
        events = self._current.poll(timeout)
        if self._current.done:
            result = self._current.result()
            assert self._current_index is not None
            self.results[self._current_index].append(result)
            self._current = None
            if result.status != "complete":
                self._finish(result.status, result.message)
            else:
                self._next()
        return events

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None
        if self.status is None and self.started_at is not None:
            self.status, self.message = "cancelled", "ended before it finished"

    def progress(self) -> list[ComparisonProgress]:
        rows = []
        for index, choice in enumerate(self.settings.pythons):
            done = len(self.results[index])
            state = "running" if index == self._current_index and self._current is not None else "waiting"
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
    )


Run = RunResult | ImportedRun


@dataclass(frozen=True)
class CompareResult:
    """A comparison: one run per interpreter, all with the same settings."""

    settings: CompareSettings
    runs: tuple[Run, ...]
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = COMPARE_SCHEMA_VERSION

    @property
    def machine(self) -> Machine | None:
        return self.runs[0].machine if self.runs else None

    @property
    def all_ok(self) -> bool:
        return self.status == "complete" and all(run.all_ok for run in self.runs)

    @classmethod
    def from_runs(cls, runs: Sequence[Run]) -> CompareResult:
        """A comparison rebuilt from its runs (as a CSV gives them back): they share one `series`."""
        first = runs[0]
        pythons = tuple(PythonChoice(label_of(run).split(":gil=")[0], run.settings.gil) for run in runs)
        base = replace(first.settings, python=None, gil=None)
        statuses = [run.status for run in runs]
        return cls(
            settings=CompareSettings(base, pythons),
            runs=tuple(runs),
            status=max(statuses, key=STATUS_ORDER.index),
            message=next((run.message for run in runs if run.message), None),
            run_id=first.series or first.run_id,
            created=first.created,
        )

    def single_thread_cost(self) -> list[tuple[str, float | None]]:
        """Each interpreter's batch seconds over the first one's: the price of a free-threaded build, say."""

        def batch(run: Run) -> float | None:
            return run.summary("batch").seconds if "batch" in run.modes else None

        base = batch(self.runs[0]) if self.runs else None
        rows = []
        for run in self.runs:
            own = batch(run)
            rows.append((label_of(run), own / base if own is not None and base else None))
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": "compare",
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "pythons": [choice.label for choice in self.settings.pythons],
            "runs": [run.to_dict() for run in self.runs if isinstance(run, RunResult)],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareResult:
        if not isinstance(data, dict) or data.get("kind") != "compare":
            raise ResultsFormatError("not a GIL Lab comparison: its kind is not 'compare'")
        runs = tuple(RunResult.from_dict(run) for run in data["runs"])
        if not runs:
            raise ResultsFormatError("a comparison without runs")
        pythons = parse_pythons(data["pythons"])
        base = replace(runs[0].settings, python=None, gil=None)
        return cls(
            settings=CompareSettings(base, pythons),
            runs=runs,
            status=data["status"],
            message=data.get("message"),
            run_id=data["run_id"],
            created=data["created"],
        )

    @classmethod
    def from_json(cls, text: str) -> CompareResult:
        return cls.from_dict(parse_json(text))


def label_of(run: Run) -> str:
    """An interpreter run's label: its name, with the GIL switch asked for."""
    name = run.interpreter.name if run.interpreter is not None else run.settings.python or "this Python"
    return f"{name}:gil={run.settings.gil}" if run.settings.gil else name
