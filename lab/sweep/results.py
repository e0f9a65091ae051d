"""A sweep's results: one point per mode × interpreter × worker count, and a fitted model per line.

A point keeps its rounds' median, fastest and slowest seconds (what the fit
weighs), CPU use and failures. Speedup, efficiency and the fits are derived
here from those figures, never stored, so the JSON file, the CSV file and the
page all read the same numbers, and a file read back gives the same fit.
The JSON form adds the derived figures for readers (as `RunResult` adds its
`modes` summary); `from_dict` reads only the measured ones.

Speedup is against the one-worker point of the same line: T1 / Tn for strong
scaling; for weak scaling the scaled speedup n · T1 / Tn, with efficiency
T1 / Tn (the pace each worker keeps). A point whose tasks failed did not do
the work: it has no speedup and stays out of the fit.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lab.core.contract import RunListing
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine import Machine
from lab.core.records import new_run_id, now_iso, parse_json
from lab.engine.results import STATUSES, ModeRun
from lab.sweep.fit import Fit, Model, ScalingPoint, fit_strong, fit_weak, usable_parallelism
from lab.sweep.settings import SweepSettings

SWEEP_SCHEMA_VERSION = 1
KIND = "sweep"


@dataclass(frozen=True)
class SweepPoint:
    """One mode under one interpreter at one worker count, over the sweep's rounds.

    `seconds` is the rounds' median wall time (pool start-up included, as in
    every run), `seconds_min`/`seconds_max` the fastest and slowest round;
    `cpu_seconds` and `cores_busy` are medians; `failed` counts failed tasks
    over all rounds; `gil_enabled` is whether the GIL was on at the end of any
    round (None when the worker never said).
    """

    mode: str
    interpreter: str
    workers: int
    tasks: int
    repeats: int
    seconds: float
    seconds_min: float
    seconds_max: float
    cpu_seconds: float
    cores_busy: float
    failed: int = 0
    error: str | None = None
    gil_enabled: bool | None = None
    steady: bool | None = None  # False when any round ran on an unsteady machine; None: unknown

    @property
    def clean(self) -> bool:
        """Every task of every round succeeded: only such a point has a speedup and enters the fit."""
        return self.failed == 0 and self.error is None and self.seconds_min > 0

    def scaling_point(self) -> ScalingPoint:
        return ScalingPoint(
            self.workers, self.seconds, self.seconds_min, self.seconds_max, self.repeats, self.steady
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "interpreter": self.interpreter,
            "workers": self.workers,
            "tasks": self.tasks,
            "repeats": self.repeats,
            "seconds": self.seconds,
            "min": self.seconds_min,
            "max": self.seconds_max,
            "cpu_seconds": self.cpu_seconds,
            "cores_busy": self.cores_busy,
            "failed": self.failed,
            "error": self.error,
            "gil_enabled": self.gil_enabled,
            "steady": self.steady,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepPoint:
        gil, steady = data.get("gil_enabled"), data.get("steady")
        error = data.get("error")
        return checked_point(
            cls(
                mode=str(data["mode"]),
                interpreter=str(data["interpreter"]),
                workers=int(data["workers"]),
                tasks=int(data["tasks"]),
                repeats=int(data["repeats"]),
                seconds=float(data["seconds"]),
                seconds_min=float(data["min"]),
                seconds_max=float(data["max"]),
                cpu_seconds=float(data["cpu_seconds"]),
                cores_busy=float(data["cores_busy"]),
                failed=int(data["failed"]),
                error=None if error is None else str(error),
                gil_enabled=None if gil is None else bool(gil),
                steady=None if steady is None else bool(steady),
            )
        )


def point_problem(point: SweepPoint) -> str | None:
    """What makes a point read from a file impossible, or None: files are input like any other."""
    if point.workers < 1 or point.tasks < 1 or point.repeats < 1:
        return "workers, tasks and repeats start at 1"
    if point.failed < 0 or point.failed > point.tasks * point.repeats:
        return "failed counts more tasks than the point ran"
    values = (point.seconds_min, point.seconds, point.seconds_max, point.cpu_seconds, point.cores_busy)
    if not all(math.isfinite(value) and value >= 0 for value in values):
        return "seconds and CPU figures must be finite and not negative"
    if not point.seconds_min <= point.seconds <= point.seconds_max:
        return "seconds lie outside min..max"
    return None


def checked_point(point: SweepPoint) -> SweepPoint:
    problem = point_problem(point)
    if problem is not None:
        raise ResultsFormatError(f"point {point.mode} at {point.workers} workers: {problem}")
    return point


def merge_point(
    mode: str,
    interpreter: str,
    workers: int,
    tasks: int,
    runs: Sequence[ModeRun],
    gil: Sequence[bool],
    steady: Sequence[bool] = (),
) -> SweepPoint:
    """A point from its rounds' runs of one mode (each round ran it once, at this worker count).

    `steady` holds each round's steadiness verdict, where it was measured: the
    point is unsteady when any round was.
    """

    errors = [run.error for run in runs if run.error]
    return SweepPoint(
        mode=mode,
        interpreter=interpreter,
        workers=workers,
        tasks=tasks,
        repeats=len(runs),
        seconds=statistics.median(run.seconds for run in runs),
        seconds_min=min(run.seconds for run in runs),
        seconds_max=max(run.seconds for run in runs),
        cpu_seconds=statistics.median(run.cpu_seconds for run in runs),
        cores_busy=statistics.median(run.cores_busy for run in runs),
        failed=sum(run.failed for run in runs),
        error=errors[0] if errors else None,
        gil_enabled=any(gil) if gil else None,
        steady=all(steady) if steady else None,
    )


@dataclass(frozen=True)
class LineFit:
    """The fitted model of one line (a mode under one interpreter)."""

    mode: str
    interpreter: str
    fit: Fit

    def to_dict(self) -> dict[str, Any]:
        data = self.fit.to_dict()
        del data["points"]  # the sweep's points carry them, with their seconds
        return {"mode": self.mode, "interpreter": self.interpreter, **data}


@dataclass(frozen=True)
class SweepResult:
    """A whole sweep: its settings, the machine, the line labels, every point, and how it ended.

    `interpreters` are the lines' labels in the order of the settings'
    interpreters (`3.13t:gil=off`, or the lab's own Python's name).
    """

    settings: SweepSettings
    machine: Machine
    interpreters: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = SWEEP_SCHEMA_VERSION

    @property
    def lab(self) -> str:
        return KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        """In a list of runs: the workload, the interpreters and the best speedup any line reached."""
        speedups = [speed for point in self.points if (speed := self.speedup(point)) is not None]
        return RunListing(
            lab=KIND,
            run_id=self.run_id,
            created=self.created,
            status=self.status,
            workload=self.settings.base.workload,
            interpreters=self.interpreters,
            headline=max(speedups, default=None),
            headline_label="best speedup",
            usable_cores=self.machine.usable_cores,
            cpu_model=self.machine.cpu_model,
            steady=self.steady,
        )

    @property
    def steady(self) -> bool | None:
        """Whether every point ran on a steady machine (each point's rounds are metered in its worker):
        False if any did not, None where no point was metered."""
        flags = [point.steady for point in self.points if point.steady is not None]
        return all(flags) if flags else None

    @property
    def scale(self) -> str:
        return self.settings.scale

    @property
    def model(self) -> Model:
        return "amdahl" if self.scale == "strong" else "gustafson"

    @property
    def cores(self) -> float:
        """The usable cores of the machine the sweep ran on: the limit every curve and the band use."""
        return self.machine.usable_cores

    def lines(self) -> list[tuple[str, str]]:
        """(mode, interpreter) of every line that has a point, modes first, in the settings' order."""
        present = {(point.mode, point.interpreter) for point in self.points}
        return [
            (mode, label)
            for mode in self.settings.base.modes
            for label in self.interpreters
            if (mode, label) in present
        ]

    def line_points(self, mode: str, interpreter: str) -> list[SweepPoint]:
        points = [p for p in self.points if p.mode == mode and p.interpreter == interpreter]
        return sorted(points, key=lambda point: point.workers)

    def baseline(self, mode: str, interpreter: str) -> SweepPoint | None:
        """The line's clean one-worker point, which every speedup of the line divides."""
        return next(
            (p for p in self.line_points(mode, interpreter) if p.workers == 1 and p.clean),
            None,
        )

    def _scaled(self, point: SweepPoint, seconds: float) -> float | None:
        base = self.baseline(point.mode, point.interpreter)
        if base is None or not point.clean or seconds <= 0:
            return None
        factor = point.workers if self.scale == "weak" else 1
        return factor * base.seconds / seconds

    def speedup(self, point: SweepPoint) -> float | None:
        """T1 / Tn (strong) or n · T1 / Tn (weak, the scaled speedup); None without a clean base and point."""
        return self._scaled(point, point.seconds)

    def speedup_range(self, point: SweepPoint) -> tuple[float, float] | None:
        """The speedup of the point's slowest and fastest round, against the base's median."""
        low, high = self._scaled(point, point.seconds_max), self._scaled(point, point.seconds_min)
        return None if low is None or high is None else (low, high)

    def efficiency(self, point: SweepPoint) -> float | None:
        """Speedup per worker: S/n (strong), T1/Tn (weak). 1 is perfect, 1/n is no gain at all."""
        speedup = self.speedup(point)
        return None if speedup is None else speedup / point.workers

    def ideal(self, workers: float) -> float:
        """The most n workers can give on these cores: min(n, cores), and never below 1."""
        return usable_parallelism(workers, self.cores)

    def fit(self, mode: str, interpreter: str) -> Fit:
        """The line's model through its clean points; poor with the reason when it cannot be trusted."""
        points = self.line_points(mode, interpreter)
        clean = [point.scaling_point() for point in points if point.clean]
        fitted = fit_strong(clean, self.cores) if self.scale == "strong" else fit_weak(clean, self.cores)
        lost = [point for point in points if not point.clean]
        if any(point.workers == 1 for point in lost):
            return replace(fitted, reason="the one-worker point lost tasks, so nothing has a speedup to fit")
        return fitted

    def fits(self) -> list[LineFit]:
        return [LineFit(mode, label, self.fit(mode, label)) for mode, label in self.lines()]

    @property
    def all_ok(self) -> bool:
        return self.status == "complete" and all(point.clean for point in self.points)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": KIND,
            "lab": KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "scale": self.scale,
            "model": self.model,
            "settings": self.settings.to_dict(),
            "interpreters": list(self.interpreters),
            "points": [self.point_dict(point) for point in self.points],
            "fits": [line.to_dict() for line in self.fits()],
            "machine": self.machine.to_dict(),
        }

    def point_dict(self, point: SweepPoint) -> dict[str, Any]:
        """A point's measured figures and, for readers, its derived speedup, range and efficiency."""
        span = self.speedup_range(point)
        return {
            **point.to_dict(),
            "speedup": self.speedup(point),
            "speedup_min": span[0] if span else None,
            "speedup_max": span[1] if span else None,
            "efficiency": self.efficiency(point),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> SweepResult:
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise ResultsFormatError("not a GIL Lab sweep: its kind is not 'sweep'")
        if data.get("schema_version") != SWEEP_SCHEMA_VERSION:
            raise ResultsFormatError(
                f"sweep has schema version {str(data.get('schema_version'))[:20]}, "
                f"this GIL Lab reads {SWEEP_SCHEMA_VERSION}"
            )
        try:
            result = cls(
                settings=SweepSettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                interpreters=tuple(str(label) for label in data["interpreters"]),
                points=tuple(SweepPoint.from_dict(point) for point in data["points"]),
                status=str(data["status"]),
                message=data.get("message"),
                run_id=str(data["run_id"]),
                created=str(data["created"]),
            )
        except (KeyError, TypeError, ValueError, InvalidSettings) as exc:
            raise ResultsFormatError(f"not a GIL Lab sweep: {exc}") from None
        problem = result_problem(result)
        if problem is not None:
            raise ResultsFormatError(f"not a GIL Lab sweep: {problem}")
        return result

    @classmethod
    def from_json(cls, text: str) -> SweepResult:
        return cls.from_dict(parse_json(text))


def result_problem(result: SweepResult) -> str | None:
    """What makes a sweep read back from a file inconsistent, or None."""
    if result.status not in STATUSES:
        return f"unknown status {result.status[:40]!r}"
    if len(result.interpreters) != result.settings.python_count:
        return (
            f"{len(result.interpreters)} interpreter labels for {result.settings.python_count} interpreters"
        )
    seen: set[tuple[str, str, int]] = set()
    for point in result.points:
        key = (point.mode, point.interpreter, point.workers)
        if key in seen:
            return f"{point.mode} on {point.interpreter} at {point.workers} workers appears twice"
        seen.add(key)
        if point.mode not in result.settings.base.modes:
            return f"point of mode {point.mode[:20]!r}, which the sweep did not run"
        if point.interpreter not in result.interpreters:
            return f"point of interpreter {point.interpreter[:40]!r}, which the sweep did not list"
        if point.workers not in result.settings.workers:
            return f"point at {point.workers} workers, which the sweep did not list"
        if point.tasks != result.settings.tasks_at(point.workers):
            ran = result.settings.tasks_at(point.workers)
            return f"{point.tasks} tasks at {point.workers} workers, where the sweep ran {ran}"
    return None
