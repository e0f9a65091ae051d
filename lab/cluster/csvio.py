"""Cluster-lab runs as a tidy CSV, one row per run x layout, and back.

The same canonical form as the other labs' history files, through
`lab.core.csvtable`: each column has one type and one way to write it, so
export -> import -> export gives back the same text. A row keeps a layout's
figures, not its tasks, so an imported run is an `ImportedClusterRun`: it
answers the same questions as a `ClusterResult` (summaries, all_ok) but has no
task stream to draw. The `layout` column is the one only this lab's file has,
which is how the page tells it apart. Import is all or nothing and every
problem is a one-line `ResultsFormatError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

from lab.cluster.results import (
    CLUSTER_KIND,
    CLUSTER_SCHEMA_VERSION,
    CLUSTER_STATUSES,
    ClusterResult,
    LayoutSummary,
    cluster_listing,
    summaries_ok,
)
from lab.cluster.settings import LOCAL, ClusterLayout, ClusterSettings
from lab.core.contract import RunListing, imported_record
from lab.core.csvtable import Legacy, Row, as_text, check, check_run, read_runs, write_table
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine import Machine
from lab.core.machine_columns import MACHINE_COLUMNS, MACHINE_LEGACY, build_machine, machine_values
from lab.core.records import MAX_COUNT
from lab.core.steadiness import Steadiness
from lab.core.steadiness_columns import (
    STEADINESS_COLUMNS,
    STEADINESS_LEGACY,
    build_steadiness,
    steadiness_values,
)


@dataclass(frozen=True)
class ImportedClusterRun:
    """A Cluster-lab run read back from rows: each layout's figures, without its tasks."""

    settings: ClusterSettings
    machine: Machine
    layout_summaries: tuple[LayoutSummary, ...]
    status: str
    message: str | None
    run_id: str
    created: str
    schema_version: int = CLUSTER_SCHEMA_VERSION
    steadiness: Steadiness | None = None

    @property
    def scheduler(self) -> str:
        return self.settings.scheduler or LOCAL

    @property
    def lab(self) -> str:
        return CLUSTER_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return cluster_listing(self)

    def to_dict(self) -> dict[str, Any]:
        return imported_record(self, to_csv([self]))

    def summaries(self) -> list[LayoutSummary]:
        return list(self.layout_summaries)

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.summaries())


ClusterRun: TypeAlias = ClusterResult | ImportedClusterRun

# Every column with its type; "?" marks a column that may be empty (None).
RUN_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("schema_version", "int"),
    ("lab", "text"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("workload", "text"),
    ("tasks", "int"),
    ("size", "int"),
    ("repeats", "int"),
    ("layouts_setting", "text?"),
    ("scheduler", "text"),
    *MACHINE_COLUMNS,
    *STEADINESS_COLUMNS,
    ("message", "text?"),
)
LAYOUT_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("position", "int?"),
    ("layout", "text?"),
    ("workers", "int?"),
    ("threads_per_worker", "int?"),
    ("worker_threads", "text?"),
    ("seconds", "float?"),
    ("seconds_min", "float?"),
    ("seconds_max", "float?"),
    ("speedup", "float?"),
    ("cpu_seconds", "float?"),
    ("cores_busy", "float?"),
    ("overhead_ms_per_task", "float?"),
    ("startup_seconds", "float?"),
    ("repeat_count", "int?"),
    ("ok", "int?"),
    ("failed", "int?"),
    ("error", "text?"),
)
COLUMN_TYPES: dict[str, str] = dict(RUN_COLUMN_TYPES + LAYOUT_COLUMN_TYPES)
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_TYPES)
RUN_COLUMNS: tuple[str, ...] = tuple(name for name, _ in RUN_COLUMN_TYPES)
LAYOUT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in LAYOUT_COLUMN_TYPES)
# Layout columns that may stay empty on a measured layout: mixed thread counts, no speedup, no error.
MAY_BE_EMPTY = {"threads_per_worker", "speedup", "error"}
# The figures a LayoutSummary takes as they are (the layout itself is rebuilt from its columns).
FIGURES = (
    "seconds",
    "seconds_min",
    "seconds_max",
    "speedup",
    "cpu_seconds",
    "cores_busy",
    "overhead_ms_per_task",
    "startup_seconds",
    "ok",
    "failed",
    "error",
)


# Files written before every CSV named its lab kept it in a `kind` column.
LEGACY = {"lab": Legacy(column="kind"), **MACHINE_LEGACY, **STEADINESS_LEGACY}


def cluster_rows(runs: Iterable[ClusterRun]) -> list[dict[str, Any]]:
    """One flat row per run x layout, typed values; a run that measured nothing still gets one row."""
    rows = []
    for run in runs:
        summaries: list[LayoutSummary | None] = list(run.summaries()) or [None]
        for summary in summaries:
            rows.append({**run_values(run), **layout_values(summary)})
    return rows


def run_values(run: ClusterRun) -> dict[str, Any]:
    settings = run.settings
    return {
        "schema_version": run.schema_version,
        "lab": CLUSTER_KIND,
        "run_id": run.run_id,
        "created": run.created,
        "status": run.status,
        "workload": settings.workload,
        "tasks": settings.tasks,
        "size": settings.size,
        "repeats": settings.repeats,
        "layouts_setting": ",".join(settings.layout_names) or None,
        "scheduler": run.scheduler,
        **machine_values(run.machine),
        **steadiness_values(run.steadiness),
        "message": run.message,
    }


def layout_values(summary: LayoutSummary | None) -> dict[str, Any]:
    if summary is None:
        return dict.fromkeys(LAYOUT_COLUMNS)
    layout = summary.layout
    return {
        "position": summary.position,
        "layout": layout.name,
        "workers": layout.workers,
        "threads_per_worker": layout.threads_per_worker,
        "worker_threads": "+".join(str(threads) for threads in layout.worker_threads),
        "repeat_count": summary.repeats,
        **{name: getattr(summary, name) for name in FIGURES},
    }


def to_csv(runs: Iterable[ClusterRun]) -> str:
    return write_table(COLUMN_TYPES, cluster_rows(runs))


def from_csv(text: str | bytes) -> list[ImportedClusterRun]:
    """Rebuild every run of a CSV written by `to_csv`, or raise ResultsFormatError; never a part."""
    return [
        build_run(rows)
        for rows in read_runs(as_text(text), COLUMN_TYPES, legacy=LEGACY, what="GIL Lab cluster-lab")
    ]


def build_run(rows: list[Row]) -> ImportedClusterRun:
    header = check_run(
        rows,
        RUN_COLUMNS,
        lab=CLUSTER_KIND,
        schema_version=CLUSTER_SCHEMA_VERSION,
        statuses=CLUSTER_STATUSES,
        what="cluster-lab",
    )
    first = rows[0]
    settings = build_settings(first)
    return ImportedClusterRun(
        settings=settings,
        machine=build_machine(first),
        steadiness=build_steadiness(first.values),
        layout_summaries=build_summaries(rows, settings),
        status=header.status,
        message=first.values["message"],
        run_id=header.run_id,
        created=header.created,
    )


def build_settings(row: Row) -> ClusterSettings:
    values = row.values
    remote = values["scheduler"] != LOCAL
    try:
        return ClusterSettings.create(
            values["workload"],
            tasks=values["tasks"],
            size=values["size"],
            layouts=None if remote else values["layouts_setting"],
            repeats=values["repeats"],
            scheduler=values["scheduler"] if remote else None,
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid settings: {exc}") from None


def build_layout(row: Row) -> ClusterLayout:
    """The layout from its worker_threads column, checked against the columns that restate it."""
    values, line = row.values, row.line
    parts = str(values["worker_threads"]).split("+")
    check(
        line,
        all(part.isdigit() and 1 <= int(part) <= MAX_COUNT for part in parts),
        "worker_threads is not N+N+...",
    )
    layout = ClusterLayout(tuple(int(part) for part in parts))
    check(line, values["workers"] == layout.workers, "workers does not match worker_threads")
    check(
        line, values["threads_per_worker"] == layout.threads_per_worker, "threads_per_worker does not match"
    )
    check(
        line,
        values["layout"] == layout.name,
        f"layout {str(values['layout'])[:20]!r} does not match its workers",
    )
    return layout


def build_summaries(rows: list[Row], settings: ClusterSettings) -> tuple[LayoutSummary, ...]:
    if len(rows) == 1 and rows[0].values["layout"] is None:
        row = rows[0]
        for name in LAYOUT_COLUMNS:
            check(row.line, row.values[name] is None, f"a row without a layout has a value in {name}")
        return ()
    summaries: list[LayoutSummary] = []
    for row in rows:
        values, line = row.values, row.line
        for name in LAYOUT_COLUMNS:
            check(line, name in MAY_BE_EMPTY or values[name] is not None, f"column {name} is empty")
        position = values["position"]
        check(line, position < settings.positions, f"position {position} is beyond the run's layouts")
        check(line, position not in [s.position for s in summaries], f"position {position} appears twice")
        layout = build_layout(row)
        if settings.scheduler is None:
            asked = settings.layouts[position].name
            check(line, layout.name == asked, f"layout {layout.name} is not the run's layout {asked}")
        check(line, values["repeat_count"] >= 1, "repeat_count must be at least 1")
        summaries.append(
            LayoutSummary(
                position=position,
                layout=layout,
                repeats=values["repeat_count"],
                **{name: values[name] for name in FIGURES},
            )
        )
    return tuple(sorted(summaries, key=lambda summary: summary.position))
