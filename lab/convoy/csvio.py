"""Convoy runs as flat rows and CSV, one row per run x point, and back.

The same canonical form as the other labs' history files, through
`lab.core.csvtable`: each column has one type and one way to write it, so
export -> import -> export gives back the same text. A row keeps a point's
figures, not its round trips or its X-ray, so an imported run is an
`ImportedConvoyRun`: it answers the same questions as a `ConvoyResult`
(summaries, all_ok, the takeaway, the latency chart) but has no X-ray to draw.
Import is all or nothing and every problem is a one-line `ResultsFormatError`.
The `cpu_threads` column is this lab's own: the page tells the labs' CSV
files apart by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from lab.convoy.results import (
    CONVOY_KIND,
    CONVOY_SCHEMA_VERSION,
    CONVOY_STATUSES,
    ConvoyResult,
    PointSummary,
    convoy_listing,
    summaries_ok,
)
from lab.convoy.settings import ConvoySettings
from lab.core.contract import RunListing, imported_record
from lab.core.csvtable import Legacy, Row, as_text, check, check_run, read_runs, write_table
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.interpreters import RunInterpreter
from lab.core.machine import Machine
from lab.core.machine_columns import (
    MACHINE_COLUMNS,
    MACHINE_LEGACY,
    build_interpreter,
    build_machine,
    machine_values,
)
from lab.core.steadiness import Steadiness
from lab.core.steadiness_columns import (
    STEADINESS_COLUMNS,
    STEADINESS_LEGACY,
    build_steadiness,
    steadiness_values,
)


@dataclass(frozen=True)
class ImportedConvoyRun:
    """A convoy run read back from rows: each point's figures, without round trips or X-ray."""

    settings: ConvoySettings
    machine: Machine
    point_summaries: tuple[PointSummary, ...]
    interpreter: RunInterpreter | None
    status: str
    message: str | None
    run_id: str
    created: str
    schema_version: int = CONVOY_SCHEMA_VERSION
    steadiness: Steadiness | None = None

    @property
    def lab(self) -> str:
        return CONVOY_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return convoy_listing(self)

    def to_dict(self) -> dict[str, Any]:
        return imported_record(self, to_csv([self]))

    def summaries(self) -> list[PointSummary]:
        return list(self.point_summaries)

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.point_summaries)


ConvoyRun: TypeAlias = ConvoyResult | ImportedConvoyRun

RUN_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("schema_version", "int"),
    ("lab", "text"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("cpu_threads_setting", "text"),
    ("switch_intervals_setting", "text"),
    ("seconds_setting", "float"),
    ("python", "text?"),
    ("gil", "text?"),
    ("interpreter", "text?"),
    ("interpreter_path", "text?"),
    ("interpreter_gil_enabled", "bool?"),
    *MACHINE_COLUMNS,
    *STEADINESS_COLUMNS,
    ("message", "text?"),
)
# Each point column and the PointSummary field it holds.
POINT_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("cpu_threads", "int?"),
    ("switch_interval_ms", "float?"),
    ("pings", "int?"),
    ("lost", "int?"),
    ("window_s", "float?"),
    ("mean_ms", "float?"),
    ("p50_ms", "float?"),
    ("p99_ms", "float?"),
    ("max_ms", "float?"),
    ("point_gil_enabled", "bool?"),
    ("probe_gil_share", "float?"),
    ("threads_on_cpu", "float?"),
    ("handoffs_per_s", "float?"),
)
POINT_FIELDS: dict[str, str] = {"window_s": "seconds", "point_gil_enabled": "gil_enabled"}
COLUMN_TYPES: dict[str, str] = dict(RUN_COLUMN_TYPES + POINT_COLUMN_TYPES)
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_TYPES)
RUN_COLUMNS: tuple[str, ...] = tuple(name for name, _ in RUN_COLUMN_TYPES)
POINT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in POINT_COLUMN_TYPES)
# Point columns that may stay empty on a measured point: no ping answered, no X-ray.
MAY_BE_EMPTY = {
    "mean_ms",
    "p50_ms",
    "p99_ms",
    "max_ms",
    "probe_gil_share",
    "threads_on_cpu",
    "handoffs_per_s",
}


# Files written before every CSV named its lab kept it in a `kind` column.
LEGACY = {"lab": Legacy(column="kind"), **MACHINE_LEGACY, **STEADINESS_LEGACY}


def field_of(column: str) -> str:
    return POINT_FIELDS.get(column, column)


def convoy_rows(runs: Iterable[ConvoyRun]) -> list[dict[str, Any]]:
    """One flat row per run x point, typed values; a run that measured nothing still gets one row."""
    rows = []
    for run in runs:
        summaries: list[PointSummary | None] = list(run.summaries()) or [None]
        for summary in summaries:
            rows.append({**run_values(run), **point_values(summary)})
    return rows


def run_values(run: ConvoyRun) -> dict[str, Any]:
    settings, interpreter = run.settings, run.interpreter
    return {
        "schema_version": run.schema_version,
        "lab": CONVOY_KIND,
        "run_id": run.run_id,
        "created": run.created,
        "status": run.status,
        "cpu_threads_setting": ",".join(str(count) for count in settings.cpu_threads),
        "switch_intervals_setting": ",".join(repr(interval) for interval in settings.switch_intervals_ms),
        "seconds_setting": settings.seconds,
        "python": settings.python,
        "gil": settings.gil,
        "interpreter": interpreter.name if interpreter else None,
        "interpreter_path": interpreter.path if interpreter else None,
        "interpreter_gil_enabled": interpreter.gil_enabled if interpreter else None,
        **machine_values(run.machine),
        **steadiness_values(run.steadiness),
        "message": run.message,
    }


def point_values(summary: PointSummary | None) -> dict[str, Any]:
    if summary is None:
        return dict.fromkeys(POINT_COLUMNS)
    return {name: getattr(summary, field_of(name)) for name in POINT_COLUMNS}


def to_csv(runs: Iterable[ConvoyRun]) -> str:
    return write_table(COLUMN_TYPES, convoy_rows(runs))


def from_csv(text: str | bytes) -> list[ImportedConvoyRun]:
    """Rebuild every run of a CSV written by `to_csv`, or raise ResultsFormatError; never a part."""
    return [
        build_run(rows)
        for rows in read_runs(as_text(text), COLUMN_TYPES, legacy=LEGACY, what="GIL Lab convoy")
    ]


def build_run(rows: list[Row]) -> ImportedConvoyRun:
    header = check_run(
        rows,
        RUN_COLUMNS,
        lab=CONVOY_KIND,
        schema_version=CONVOY_SCHEMA_VERSION,
        statuses=CONVOY_STATUSES,
        what="convoy",
    )
    first = rows[0]
    settings = build_settings(first)
    return ImportedConvoyRun(
        settings=settings,
        machine=build_machine(first),
        steadiness=build_steadiness(first.values),
        point_summaries=build_summaries(rows, settings),
        interpreter=build_interpreter(first),
        status=header.status,
        message=first.values["message"],
        run_id=header.run_id,
        created=header.created,
    )


def build_settings(row: Row) -> ConvoySettings:
    values = row.values
    try:
        return ConvoySettings.create(
            cpu_threads=values["cpu_threads_setting"],
            switch_intervals_ms=values["switch_intervals_setting"],
            seconds=values["seconds_setting"],
            python=values["python"],
            gil=values["gil"],
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid settings: {exc}") from None


def build_summaries(rows: list[Row], settings: ConvoySettings) -> tuple[PointSummary, ...]:
    if len(rows) == 1 and rows[0].values["cpu_threads"] is None:
        row = rows[0]
        for name in POINT_COLUMNS:
            check(row.line, row.values[name] is None, f"a row without a point has a value in {name}")
        return ()
    planned = settings.points()
    summaries: list[PointSummary] = []
    for row in rows:
        values, line = row.values, row.line
        for name in POINT_COLUMNS:
            check(line, name in MAY_BE_EMPTY or values[name] is not None, f"column {name} is empty")
        key = (values["cpu_threads"], values["switch_interval_ms"])
        check(line, key in planned, f"point {key} is not among the run's settings")
        check(line, key not in [summary.key for summary in summaries], f"point {key} appears twice")
        check(
            line,
            (values["pings"] == 0) == (values["p50_ms"] is None),
            "p50_ms must be empty exactly when no ping was answered",
        )
        summaries.append(PointSummary(**{field_of(name): values[name] for name in POINT_COLUMNS}))
    return tuple(summaries)
