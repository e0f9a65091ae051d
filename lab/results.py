"""Results as a versioned data model: run -> mode repeats -> task spans.

Statistics (median, spread, speedup, cores busy) are methods here, so the CLI,
the page, the CSV and the tests all read the same numbers. The JSON form holds
the raw repeats (lossless round trip) plus a derived `modes` summary for
readers; `from_dict` rebuilds from the raw repeats only.
"""

from __future__ import annotations

import json
import statistics
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lab.errors import ResultsFormatError
from lab.machine import Machine
from lab.settings import RunSettings

SCHEMA_VERSION = 1
STATUSES = ("complete", "cancelled", "cut_short", "crashed")


@dataclass(frozen=True)
class TaskSpan:
    """One task: who ran it, when (seconds from the mode's start), and its CPU time.

    `cpu` is the CPU time of the thread that ran the task, measured around the
    call inside that thread. For the native asyncio mode it is the event loop
    thread's CPU while the task was pending, which it shares with the tasks
    that overlap it.
    """

    index: int
    worker: str
    pid: int
    start: float
    end: float
    cpu: float
    ok: bool = True
    error: str | None = None
    value: str | None = None

    @property
    def wall(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def waited(self) -> float:
        """Wall time this task spent not running on a CPU: the GIL, I/O or sleep."""
        return max(0.0, self.wall - self.cpu)

    @property
    def cpu_share(self) -> float:
        """CPU time / wall span in [0, 1]: near 1 for real work, near 0 for waiting."""
        if self.wall <= 0:
            return 0.0
        return min(1.0, max(0.0, self.cpu / self.wall))

    def shifted(self, origin: float) -> TaskSpan:
        return replace(self, start=self.start - origin, end=self.end - origin)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskSpan:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


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

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the repeats disagree."""
        return (self.seconds_max - self.seconds_min) / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tasks"] = [span.to_dict() for span in self.tasks]
        data["spread"] = self.spread
        return data


def parse_json(text: str) -> Any:
    """JSON text, or a ResultsFormatError saying it is not JSON (both result kinds read through it)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFormatError(f"not JSON: {exc}") from None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunResult:
    """A whole experiment: settings, machine, every mode repeat, and how it ended."""

    settings: RunSettings
    machine: Machine
    runs: tuple[ModeRun, ...]
    status: str = "complete"
    message: str | None = None
    target_url: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = SCHEMA_VERSION

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
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "target_url": self.target_url,
            "settings": self.settings.to_dict(),
            "machine": self.machine.to_dict(),
            "modes": [summary.to_dict() for summary in self.summaries()],
            "runs": [run.to_dict() for run in self.runs],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        if not isinstance(data, dict) or "schema_version" not in data:
            raise ResultsFormatError("not a GIL Lab result: no schema_version")
        if data["schema_version"] != SCHEMA_VERSION:
            raise ResultsFormatError(
                f"result has schema version {data['schema_version']}, this GIL Lab reads {SCHEMA_VERSION}"
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
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(parse_json(text))
