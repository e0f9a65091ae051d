"""Sweeps as one tidy CSV (one row per point), and back, through the lab's typed CSV codec.

Every row carries its sweep's settings and machine, so a file cut down to a
few rows still says what was measured where; the `scale` column is what tells
the page's importer this is a sweep file (only sweeps have it). Speedup,
efficiency and each line's fit are written for people reading the file in a
spreadsheet, and recomputed from the seconds on import, so the numbers can
never disagree with the points they come from. Import is all or nothing and
every problem is a one-line `ResultsFormatError` naming the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lab.core.csvtable import Legacy, Row, as_text, check, check_run, group_by_run, read_table, write_table
from lab.core.csvtable import parse_cells as parse_row
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine_columns import MACHINE_COLUMNS, MACHINE_LEGACY, build_machine, machine_values
from lab.engine.results import STATUSES
from lab.engine.settings import RunSettings
from lab.engine.workloads import WORKLOADS
from lab.sweep.results import KIND, LineFit, SweepPoint, SweepResult, point_problem, result_problem
from lab.sweep.settings import (
    SweepSettings,
    parse_python_choices,
    parse_sweep_modes,
    parse_worker_counts,
)

SWEEP_CSV_SCHEMA_VERSION = 1
SWEEP_COLUMNS: tuple[tuple[str, str], ...] = (
    ("lab", "text"),
    ("schema_version", "int"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("scale", "text"),
    ("workload", "text"),
    ("size", "int"),
    ("modes_setting", "text"),
    ("worker_counts", "text"),
    ("added_one", "bool"),
    ("tasks_setting", "int"),
    ("repeats", "int"),
    ("pythons", "text?"),
    ("interpreters", "text"),
    ("url", "text?"),
    ("latency_ms", "int"),
    ("bytes", "int"),
    ("start_method", "text?"),
    ("timeout_s", "float"),
    ("max_body_bytes", "int"),
    ("function", "text?"),
    ("args", "text"),
    ("check", "bool"),
    ("python", "text?"),
    ("gil", "text?"),
    ("switch_interval_ms", "float?"),
)
POINT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("mode", "text?"),
    ("interpreter", "text?"),
    ("workers", "int?"),
    ("tasks", "int?"),
    ("repeats_run", "int?"),
    ("seconds", "float?"),
    ("seconds_min", "float?"),
    ("seconds_max", "float?"),
    ("cpu_seconds", "float?"),
    ("cores_busy", "float?"),
    ("failed", "int?"),
    ("error", "text?"),
    ("interpreter_gil_enabled", "bool?"),
    ("steady", "bool?"),  # the machine's steadiness over the point's rounds; absent from older files
)
DERIVED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("speedup", "float?"),
    ("efficiency", "float?"),
    ("serial_fraction", "float?"),
    ("serial_fraction_err", "float?"),
    ("max_speedup", "float?"),
    ("fit_quality", "text?"),
)
COLUMNS: tuple[tuple[str, str], ...] = (
    *SWEEP_COLUMNS,
    *POINT_COLUMNS,
    *DERIVED_COLUMNS,
    *MACHINE_COLUMNS,
    ("message", "text?"),
)
COLUMN_TYPES: dict[str, str] = dict(COLUMNS)
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_TYPES)
SHARED_COLUMNS: tuple[str, ...] = tuple(
    name for name, _ in (*SWEEP_COLUMNS, *MACHINE_COLUMNS, ("message", "text?"))
)
OPTIONAL_POINT_COLUMNS = frozenset({"error", "interpreter_gil_enabled", "steady"})
REQUIRED_COLUMNS: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name != "steady")


# Sweep files written before every CSV named its lab had no `lab` column.
LEGACY = {"lab": Legacy(value=KIND), **MACHINE_LEGACY}


def to_csv(sweeps: Sequence[SweepResult]) -> str:
    """One tidy CSV of many sweeps; a sweep that measured no point still gets one row."""
    rows = (
        {**sweep_values(sweep), **values}
        for sweep in sweeps
        for values in (point_rows(sweep) or [empty_point()])
    )
    return write_table(COLUMN_TYPES, rows)


def sweep_values(sweep: SweepResult) -> dict[str, Any]:
    settings = sweep.settings
    base = settings.base
    return {
        "lab": KIND,
        "schema_version": SWEEP_CSV_SCHEMA_VERSION,
        "run_id": sweep.run_id,
        "created": sweep.created,
        "status": sweep.status,
        "scale": settings.scale,
        "workload": base.workload,
        "size": base.size,
        "modes_setting": ",".join(base.modes),
        "worker_counts": ",".join(str(count) for count in settings.workers),
        "added_one": settings.added_one,
        "tasks_setting": base.tasks,
        "repeats": base.repeats,
        "pythons": ",".join(choice.label for choice in settings.pythons) or None,
        "interpreters": ",".join(sweep.interpreters),
        "url": base.url,
        "latency_ms": base.latency_ms,
        "bytes": base.bytes,
        "start_method": base.start_method,
        "timeout_s": base.timeout_s,
        "max_body_bytes": base.max_body_bytes,
        "function": base.function,
        "args": base.args,
        "check": base.check,
        "python": base.python,
        "gil": base.gil,
        "switch_interval_ms": base.switch_interval_ms,
        **machine_values(sweep.machine),
        "message": sweep.message,
    }


def point_rows(sweep: SweepResult) -> list[dict[str, Any]]:
    fits = {(line.mode, line.interpreter): line for line in sweep.fits()}
    return [point_values(sweep, point, fits[(point.mode, point.interpreter)]) for point in sweep.points]


def point_values(sweep: SweepResult, point: SweepPoint, line: LineFit) -> dict[str, Any]:
    fit = line.fit
    trusted = fit.quality != "poor"
    return {
        "mode": point.mode,
        "interpreter": point.interpreter,
        "workers": point.workers,
        "tasks": point.tasks,
        "repeats_run": point.repeats,
        "seconds": point.seconds,
        "seconds_min": point.seconds_min,
        "seconds_max": point.seconds_max,
        "cpu_seconds": point.cpu_seconds,
        "cores_busy": point.cores_busy,
        "failed": point.failed,
        "error": point.error,
        "interpreter_gil_enabled": point.gil_enabled,
        "steady": point.steady,
        "speedup": sweep.speedup(point),
        "efficiency": sweep.efficiency(point),
        "serial_fraction": fit.serial_fraction if trusted else None,
        "serial_fraction_err": fit.serial_fraction_err if trusted else None,
        "max_speedup": fit.max_speedup if trusted else None,
        "fit_quality": fit.quality,
    }


def empty_point() -> dict[str, Any]:
    return dict.fromkeys(name for name, _ in (*POINT_COLUMNS, *DERIVED_COLUMNS))


def parse_cells(line: int, raw: dict[str, str]) -> dict[str, Any]:
    version = raw["schema_version"]
    if version != str(SWEEP_CSV_SCHEMA_VERSION):
        raise ResultsFormatError(
            f"line {line}: the sweep CSV has schema version {version[:20]!r}, "
            f"this GIL Lab reads {SWEEP_CSV_SCHEMA_VERSION}"
        )
    return parse_row(line, {"steady": "", **raw}, dict(COLUMNS))


def from_csv(text: str | bytes) -> list[SweepResult]:
    """Every sweep of a CSV written by `to_csv`, or ResultsFormatError; never a part of one."""
    rows = read_table(as_text(text), REQUIRED_COLUMNS, parse_cells, what="GIL Lab sweep", legacy=LEGACY)
    return [build_sweep(group) for group in group_by_run(rows)]


def build_sweep(rows: list[Row]) -> SweepResult:
    header = check_run(
        rows,
        SHARED_COLUMNS,
        lab=KIND,
        schema_version=SWEEP_CSV_SCHEMA_VERSION,
        statuses=STATUSES,
        what="sweep",
    )
    first, values = rows[0], rows[0].values
    run_id, status, created = header.run_id, header.status, header.created
    settings = build_settings(first)
    interpreters = tuple(label for label in values["interpreters"].split(",") if label)
    points = build_points(rows)
    sweep = SweepResult(
        settings=settings,
        machine=build_machine(first),
        interpreters=interpreters,
        points=points,
        status=status,
        message=values["message"],
        run_id=run_id,
        created=created,
    )
    problem = result_problem(sweep)
    check(first.line, problem is None, f"sweep {run_id!r}: {problem}")
    return sweep


def build_settings(row: Row) -> SweepSettings:
    values = row.values
    workload = values["workload"]
    check(row.line, workload in WORKLOADS, f"unknown workload {workload[:40]!r}")
    try:
        base = RunSettings.create(
            workload,
            tasks=values["tasks_setting"],
            size=values["size"],
            modes=parse_sweep_modes(values["modes_setting"]),
            url=values["url"],
            latency_ms=values["latency_ms"],
            bytes=values["bytes"],
            repeats=values["repeats"],
            start_method=values["start_method"],
            timeout_s=values["timeout_s"],
            max_body_bytes=values["max_body_bytes"],
            function=values["function"],
            args=values["args"],
            check=values["check"],
            python=values["python"],
            gil=values["gil"],
            switch_interval_ms=values["switch_interval_ms"],
        )
        counts, added_one = parse_worker_counts(values["worker_counts"])
        if added_one:
            raise InvalidSettings("its worker counts have no 1, the count every speedup is measured against")
        return SweepSettings(
            base=base,
            workers=counts,
            scale=values["scale"],
            pythons=parse_python_choices(values["pythons"], None),
            added_one=values["added_one"],
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid sweep settings: {exc}") from None


def build_points(rows: list[Row]) -> tuple[SweepPoint, ...]:
    if len(rows) == 1 and rows[0].values["mode"] is None:
        row = rows[0]
        for name, _ in (*POINT_COLUMNS, *DERIVED_COLUMNS):
            check(row.line, row.values[name] is None, f"a row without a point has a value in {name}")
        return ()
    return tuple(build_point(row) for row in rows)


def build_point(row: Row) -> SweepPoint:
    values, line = row.values, row.line
    for name, _ in POINT_COLUMNS:
        check(line, name in OPTIONAL_POINT_COLUMNS or values[name] is not None, f"column {name} is empty")
    point = SweepPoint(
        mode=values["mode"],
        interpreter=values["interpreter"],
        workers=values["workers"],
        tasks=values["tasks"],
        repeats=values["repeats_run"],
        seconds=values["seconds"],
        seconds_min=values["seconds_min"],
        seconds_max=values["seconds_max"],
        cpu_seconds=values["cpu_seconds"],
        cores_busy=values["cores_busy"],
        failed=values["failed"],
        error=values["error"],
        gil_enabled=values["interpreter_gil_enabled"],
        steady=values["steady"],
    )
    problem = point_problem(point)
    check(line, problem is None, str(problem))
    return point
