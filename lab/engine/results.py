"""Results as a versioned data model: run -> mode repeats -> task spans.

Statistics (median, spread, speedup, cores busy) are methods here, so the CLI,
the page, the CSV and the tests all read the same numbers. The JSON form holds
the raw repeats (lossless round trip) plus a derived `modes` summary for
readers; `from_dict` rebuilds from the raw repeats only.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from lab.core.contract import RUN_LAB, Measured, RunListing, listing_of
from lab.core.errors import ResultsFormatError
from lab.core.interpreters import RunInterpreter
from lab.core.machine import Machine
from lab.core.records import new_run_id, now_iso, parse_json
from lab.core.steadiness import Steadiness
from lab.engine.settings import RunSettings
from lab.engine.spans import TaskSpan

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 had no interpreter and no X-ray; it still loads
STATUSES = ("complete", "cancelled", "cut_short", "crashed")


@dataclass(frozen=True)
class ModeRun:
    """One repeat of one mode: wall time (pool start-up included), CPU time and spans."""

    mode: str
    repeat: int
    seconds: float
    startup_seconds: float
    cpu_seconds: float
    workers: int
    spans: tuple[TaskSpan, ...]
    error: str | None = None
    xray: dict[str, Any] | None = None  # lab.xray's figures for this repeat, when the run was X-rayed
    origin: float | None = None  # perf_counter at the mode's start, where the spans' times count from

    @property
    def ok(self) -> int:
        return sum(1 for span in self.spans if span.ok)

    @property
    def failed(self) -> int:
        return len(self.spans) - self.ok

    @property
    def cores_busy(self) -> float:
        """Average number of cores kept busy: CPU seconds / wall seconds."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [span.to_dict() for span in self.spans]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModeRun:
        return cls(
            mode=data["mode"],
            repeat=int(data["repeat"]),
            seconds=float(data["seconds"]),
            startup_seconds=float(data["startup_seconds"]),
            cpu_seconds=float(data["cpu_seconds"]),
            workers=int(data["workers"]),
            spans=tuple(TaskSpan.from_dict(span) for span in data["spans"]),
            error=data.get("error"),
            xray=data.get("xray"),
            origin=data.get("origin"),
        )


@dataclass(frozen=True)
class ModeSummary:
    """A mode over all its repeats: the figures the CLI, page and CSV show."""

    mode: str
    repeats: int
    seconds: float
    seconds_min: float
    seconds_max: float
    speedup: float | None
    cpu_seconds: float
    cores_busy: float
    startup_seconds: float
    workers: int
    ok: int
    failed: int
    tasks: tuple[TaskSpan, ...]
    error: str | None
    xray: dict[str, Any] | None = None

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagree."""
        return (self.seconds_max - self.seconds_min) / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tasks"] = [span.to_dict() for span in self.tasks]
        data["spread"] = self.spread
        return data


@dataclass(frozen=True)
class RunResult:
    """A whole experiment: settings, machine, interpreter, every mode repeat, and how it ended."""

    settings: RunSettings
    machine: Machine
    runs: tuple[ModeRun, ...]
    status: str = "complete"
    message: str | None = None
    target_url: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = SCHEMA_VERSION
    interpreter: RunInterpreter | None = None
    series: str | None = None  # the comparison this run is one interpreter of, by its run id
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness); None: unknown

    @property
    def lab(self) -> str:
        return RUN_LAB

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return run_listing(self)

    @property
    def modes(self) -> tuple[str, ...]:
        """Modes that produced at least one repeat, in the order they ran."""
        seen: list[str] = []
        for run in self.runs:
            if run.mode not in seen:
                seen.append(run.mode)
        return tuple(seen)

    def runs_of(self, mode: str) -> list[ModeRun]:
        return [run for run in self.runs if run.mode == mode]

    @property
    def baseline_mode(self) -> str | None:
        """Speedups are relative to batch, or to the first mode when batch did not run."""
        modes = self.modes
        if not modes:
            return None
        return "batch" if "batch" in modes else modes[0]

    def median_seconds(self, mode: str) -> float:
        return statistics.median(run.seconds for run in self.runs_of(mode))

    def speedup(self, mode: str) -> float | None:
        """Baseline seconds / mode seconds; None when either side lost tasks.

        A mode whose tasks failed did not do the work, so its time compares with
        nothing: a pool that broke after 50 ms must not read as a 40x speedup.
        """
        base = self.baseline_mode
        if base is None or self.lost_tasks(base) or self.lost_tasks(mode):
            return None
        seconds = self.median_seconds(mode)
        return self.median_seconds(base) / seconds if seconds > 0 else None

    def lost_tasks(self, mode: str) -> int:
        return sum(run.failed for run in self.runs_of(mode))

    def summary(self, mode: str) -> ModeSummary:
        runs = self.runs_of(mode)
        if not runs:
            raise KeyError(mode)
        median = statistics.median(run.seconds for run in runs)
        typical = min(runs, key=lambda run: abs(run.seconds - median))
        errors = [run.error for run in runs if run.error]
        return ModeSummary(
            mode=mode,
            repeats=len(runs),
            seconds=median,
            seconds_min=min(run.seconds for run in runs),
            seconds_max=max(run.seconds for run in runs),
            speedup=self.speedup(mode),
            cpu_seconds=statistics.median(run.cpu_seconds for run in runs),
            cores_busy=statistics.median(run.cores_busy for run in runs),
            startup_seconds=statistics.median(run.startup_seconds for run in runs),
            workers=typical.workers,
            ok=sum(run.ok for run in runs),
            failed=sum(run.failed for run in runs),
            tasks=typical.spans,
            error=errors[0] if errors else None,
            xray=typical.xray,
        )

    def summaries(self) -> list[ModeSummary]:
        return [self.summary(mode) for mode in self.modes]

    def failures(self) -> list[tuple[str, int, TaskSpan]]:
        """(mode, repeat, span) of every task that failed, for the report's 'which and why'."""
        return [(run.mode, run.repeat, span) for run in self.runs for span in run.spans if not span.ok]

    @property
    def all_ok(self) -> bool:
        return self.status == "complete" and not self.failures() and not any(run.error for run in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "lab": RUN_LAB,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "target_url": self.target_url,
            "settings": self.settings.to_dict(),
            "machine": self.machine.to_dict(),
            "interpreter": self.interpreter.to_dict() if self.interpreter is not None else None,
            "series": self.series,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "modes": [summary.to_dict() for summary in self.summaries()],
            "runs": [run.to_dict() for run in self.runs],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ResultsFormatError("not a GIL Lab result: no schema_version")
        if data["schema_version"] not in READABLE_VERSIONS:
            readable = " and ".join(str(version) for version in READABLE_VERSIONS)
            raise ResultsFormatError(
                f"result has schema version {data['schema_version']}, this GIL Lab reads {readable}"
            )
        try:
            return cls(
                settings=RunSettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                runs=tuple(ModeRun.from_dict(run) for run in data["runs"]),
                status=data["status"],
                message=data.get("message"),
                target_url=data.get("target_url"),
                run_id=data["run_id"],
                created=data["created"],
                interpreter=RunInterpreter.from_dict(data["interpreter"])
                if data.get("interpreter")
                else None,
                series=data.get("series"),
                steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(parse_json(text))


class ModeRecord(Measured, Protocol):
    """What a run of the CPU/I-O lab offers readers, measured (RunResult) or read from a CSV."""

    @property
    def settings(self) -> RunSettings: ...

    @property
    def interpreter(self) -> RunInterpreter | None: ...

    @property
    def baseline_mode(self) -> str | None: ...

    def summaries(self) -> list[ModeSummary]: ...


def run_listing(run: ModeRecord) -> RunListing:
    """A CPU/I-O run in a list of runs: its workload, interpreter and best speedup over the baseline."""
    speedups = [
        summary.speedup
        for summary in run.summaries()
        if summary.mode != run.baseline_mode and summary.speedup is not None
    ]
    return listing_of(
        run,
        RUN_LAB,
        workload=run.settings.describe_work,
        interpreters=(run.interpreter.name,) if run.interpreter is not None else (),
        headline=max(speedups, default=None),
        headline_label="best speedup",
    )
