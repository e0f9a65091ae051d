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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lab.compare.settings import CompareSettings, parse_pythons
from lab.core.contract import COMPARE_LAB, RunListing, imported_record
from lab.core.errors import ResultsFormatError
from lab.core.interpreters import PythonChoice
from lab.core.machine import Machine
from lab.core.records import new_run_id, now_iso, parse_json
from lab.core.steadiness import Steadiness
from lab.engine.results import RunResult, run_listing
from lab.run.csvio import ImportedRun, to_csv

COMPARE_SCHEMA_VERSION = 1


STATUS_ORDER = ("complete", "cut_short", "cancelled", "crashed")


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
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness)

    @property
    def lab(self) -> str:
        return COMPARE_LAB

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        """In a list of runs: the workload, the interpreters and the best speedup of any of them."""
        speedups = [
            listing.headline for listing in map(run_listing, self.runs) if listing.headline is not None
        ]
        return RunListing(
            lab=COMPARE_LAB,
            run_id=self.run_id,
            created=self.created,
            status=self.status,
            workload=self.settings.base.workload,
            interpreters=tuple(label_of(run) for run in self.runs),
            headline=max(speedups, default=None),
            headline_label="best speedup",
            usable_cores=self.machine.usable_cores if self.machine else None,
            cpu_model=self.machine.cpu_model if self.machine else None,
            steady=self.steadiness.steady if self.steadiness is not None else None,
        )

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
            steadiness=least_steady(run.steadiness for run in runs),
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
        if not all(isinstance(run, RunResult) for run in self.runs):  # read back from a CSV
            return imported_record(self, to_csv(list(self.runs)))
        return {
            "schema_version": self.schema_version,
            "kind": COMPARE_LAB,
            "lab": COMPARE_LAB,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "pythons": [choice.label for choice in self.settings.pythons],
            "runs": [run.to_dict() for run in self.runs],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompareResult:
        if not isinstance(data, dict) or data.get("kind") != COMPARE_LAB:
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
            steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
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


def least_steady(found: Iterable[Steadiness | None]) -> Steadiness | None:
    """A comparison read back from its runs is as steady as its least steady run (None: none measured)."""
    known = [steadiness for steadiness in found if steadiness is not None]
    return next((steadiness for steadiness in known if not steadiness.steady), known[0] if known else None)
