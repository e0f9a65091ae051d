"""CPU- and I/O-bound runs as one tidy CSV (one row per run x mode), and back.

The CSV is canonical: each column has one type and one way to write it
(`lab.core.csvtable`), so export -> import -> export gives back the same text.
A CSV keeps only the per-mode summaries, not the per-task spans, so an
imported run is an `ImportedRun`: it answers the same questions as a
`RunResult` but has no timeline to draw. Import is all or nothing and every
problem is a one-line `ResultsFormatError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from lab.core.contract import COMPARE_LAB, RUN_LAB, RunListing, imported_record
from lab.core.csvtable import (
    BadValue,
    Legacy,
    Row,
    as_text,
    check,
    check_run,
    group_by_run,
    parse_value,
    read_table,
    write_table,
)
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
from lab.core.records import MAX_COUNT
from lab.core.steadiness import Steadiness
from lab.core.steadiness_columns import (
    STEADINESS_COLUMNS,
    STEADINESS_NAMES,
    build_steadiness,
    steadiness_values,
)
from lab.engine.results import SCHEMA_VERSION, STATUSES, ModeSummary, RunResult, run_listing
from lab.engine.settings import DEFAULT_XRAY_HZ, MAX_REPEATS, MODES, RunSettings
from lab.engine.spans import TaskSpan
from lab.engine.workloads import WORKLOADS


@dataclass(frozen=True)
class ImportedRun:
    """A run read back from CSV: the per-mode summaries, without task spans.

    It mirrors the read side of `RunResult` (modes, summary, speedup, all_ok)
    so the history table, charts and takeaway treat both alike; its summaries
    have empty `tasks`, so nothing draws a timeline it does not have.
    """

    settings: RunSettings
    machine: Machine
    mode_summaries: tuple[ModeSummary, ...]
    status: str
    message: str | None
    target_url: str | None
    run_id: str
    created: str
    schema_version: int = SCHEMA_VERSION
    interpreter: RunInterpreter | None = None
    series: str | None = None
    steadiness: Steadiness | None = None  # the verdict and figures, without the calibrations

    @property
    def lab(self) -> str:
        return RUN_LAB

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return run_listing(self)

    def to_dict(self) -> dict[str, Any]:
        return imported_record(self, to_csv([self]))

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(summary.mode for summary in self.mode_summaries)

    @property
    def baseline_mode(self) -> str | None:
        modes = self.modes
        if not modes:
            return None
        return "batch" if "batch" in modes else modes[0]

    def summary(self, mode: str) -> ModeSummary:
        for summary in self.mode_summaries:
            if summary.mode == mode:
                return summary
        raise KeyError(mode)

    def summaries(self) -> list[ModeSummary]:
        return list(self.mode_summaries)

    def median_seconds(self, mode: str) -> float:
        return self.summary(mode).seconds

    def speedup(self, mode: str) -> float | None:
        return self.summary(mode).speedup

    def failures(self) -> list[tuple[str, int, TaskSpan]]:
        """Always empty: a CSV keeps how many tasks failed (summary.failed), not which ones."""
        return []

    @property
    def all_ok(self) -> bool:
        return self.status == "complete" and not any(s.failed or s.error for s in self.mode_summaries)


Run: TypeAlias = RunResult | ImportedRun

# Columns added in version 2 of the file: the run's interpreter and GIL, the function workload,
# the switch interval and the X-ray's two headline figures per mode.
V2_RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("function", "text?"),
    ("args", "text"),
    ("check", "bool"),
    ("python", "text?"),
    ("gil", "text?"),
    ("switch_interval_ms", "float?"),
    ("xray", "bool"),
    ("xray_hz", "int"),
    ("interpreter", "text?"),
    ("interpreter_path", "text?"),
    ("interpreter_gil_enabled", "bool?"),
    ("series", "text?"),
)
V2_MODE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("mean_on_cpu", "float?"),
    ("handoffs_per_s", "float?"),
)

COLUMNS: tuple[tuple[str, str], ...] = (
    ("lab", "text"),
    ("schema_version", "int"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("workload", "text"),
    ("workload_kind", "text"),
    ("tasks", "int"),
    ("size", "int"),
    ("workers_setting", "int?"),
    ("threads_setting", "int?"),
    ("modes_setting", "text"),
    ("url", "text?"),
    ("latency_ms", "int"),
    ("bytes", "int"),
    ("repeats", "int"),
    ("start_method", "text?"),
    ("timeout_s", "float"),
    ("max_body_bytes", "int"),
    ("target_url", "text?"),
    *V2_RUN_COLUMNS,
    *STEADINESS_COLUMNS,  # optional on import: files from before the steadiness meter lack them
    ("mode", "text?"),
    ("repeats_run", "int?"),
    ("seconds", "float?"),
    ("seconds_min", "float?"),
    ("seconds_max", "float?"),
    ("speedup", "float?"),
    ("cpu_seconds", "float?"),
    ("cores_busy", "float?"),
    ("startup_seconds", "float?"),
    ("workers", "int?"),
    ("ok", "int?"),
    ("failed", "int?"),
    ("error", "text?"),
    *V2_MODE_COLUMNS,
    *MACHINE_COLUMNS,
    ("message", "text?"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
COLUMN_TYPES: dict[str, str] = dict(COLUMNS)
MODE_COLUMNS: tuple[str, ...] = COLUMN_NAMES[
    COLUMN_NAMES.index("mode") : COLUMN_NAMES.index(V2_MODE_COLUMNS[-1][0]) + 1
]
RUN_COLUMNS: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name not in MODE_COLUMNS)
V2_ONLY: frozenset[str] = frozenset(name for name, _ in (*V2_RUN_COLUMNS, *V2_MODE_COLUMNS))
V1_COLUMN_NAMES: tuple[str, ...] = tuple(
    name for name in COLUMN_NAMES if name not in V2_ONLY and name not in STEADINESS_NAMES
)
# Version 1 files (written before interpreters, the function workload and the X-ray) still import:
# their runs get the defaults of the columns they lack.
V1_DEFAULTS: dict[str, Any] = {
    "function": None,
    "args": "[]",
    "check": True,
    "python": None,
    "gil": None,
    "switch_interval_ms": None,
    "xray": False,
    "xray_hz": DEFAULT_XRAY_HZ,
    "interpreter": None,
    "interpreter_path": None,
    "interpreter_gil_enabled": None,
    "series": None,
    "mean_on_cpu": None,
    "handoffs_per_s": None,
}


# Files written before every CSV named its lab: the lab is this one, and `workload_kind` was `kind`.
LEGACY = {"lab": Legacy(value=RUN_LAB), "workload_kind": Legacy(column="kind"), **MACHINE_LEGACY}


def to_csv(history: Sequence[Run]) -> str:
    """One tidy CSV of the whole history; a run that measured no mode still gets one row."""
    rows = (
        {**run_values(run), **mode_values(summary)}
        for run in history
        for summary in (list[ModeSummary | None](run.summaries()) or [None])
    )
    return write_table(COLUMN_TYPES, rows)


def run_values(run: Run) -> dict[str, Any]:
    settings, machine, interpreter = run.settings, run.machine, run.interpreter
    return {
        "lab": COMPARE_LAB if run.series else RUN_LAB,
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "created": run.created,
        "status": run.status,
        "workload": settings.workload,
        "workload_kind": settings.kind,
        "tasks": settings.tasks,
        "size": settings.size,
        "workers_setting": settings.workers,
        "threads_setting": settings.threads,
        "modes_setting": ",".join(settings.modes),
        "url": settings.url,
        "latency_ms": settings.latency_ms,
        "bytes": settings.bytes,
        "repeats": settings.repeats,
        "start_method": settings.start_method,
        "timeout_s": settings.timeout_s,
        "max_body_bytes": settings.max_body_bytes,
        "target_url": run.target_url,
        "function": settings.function,
        "args": settings.args,
        "check": settings.check,
        "python": settings.python,
        "gil": settings.gil,
        "switch_interval_ms": settings.switch_interval_ms,
        "xray": settings.xray,
        "xray_hz": settings.xray_hz,
        "interpreter": interpreter.name if interpreter else None,
        "interpreter_path": interpreter.path if interpreter else None,
        "interpreter_gil_enabled": interpreter.gil_enabled if interpreter else None,
        "series": run.series,
        **steadiness_values(run.steadiness),
        **machine_values(machine),
        "message": run.message,
    }


def mode_values(summary: ModeSummary | None) -> dict[str, Any]:
    if summary is None:
        return dict.fromkeys(MODE_COLUMNS)
    return {
        "mode": summary.mode,
        "repeats_run": summary.repeats,
        "seconds": summary.seconds,
        "seconds_min": summary.seconds_min,
        "seconds_max": summary.seconds_max,
        "speedup": summary.speedup,
        "cpu_seconds": summary.cpu_seconds,
        "cores_busy": summary.cores_busy,
        "startup_seconds": summary.startup_seconds,
        "workers": summary.workers,
        "ok": summary.ok,
        "failed": summary.failed,
        "error": summary.error,
        "mean_on_cpu": (summary.xray or {}).get("mean_on_cpu"),
        "handoffs_per_s": (summary.xray or {}).get("handoffs_per_s"),
    }


def read_rows(text: str) -> list[Row]:
    """Parse and type-check every cell, or raise on the first problem.

    A header with no rows is the export of an empty history: valid, and empty.
    """
    return read_table(text, V1_COLUMN_NAMES, parse_cells, legacy=LEGACY)


def parse_cells(line: int, raw: dict[str, str]) -> dict[str, Any]:
    version = raw["schema_version"]
    if version not in ("1", str(SCHEMA_VERSION)):
        raise ResultsFormatError(
            f"line {line}: the CSV has schema version {version[:20]!r}, "
            f"this GIL Lab reads 1 and {SCHEMA_VERSION}"
        )
    values: dict[str, Any] = {}
    if version == "1":
        values.update(V1_DEFAULTS)
    else:
        missing = [name for name in V2_ONLY if name not in raw]
        check(line, not missing, f"missing column {', '.join(sorted(missing)[:3])}")
    for name, kind in COLUMNS:
        if version == "1" and name in V2_ONLY:
            continue
        if name in STEADINESS_NAMES and name not in raw:
            values[name] = None
            continue
        try:
            values[name] = parse_value(kind, raw[name])
        except BadValue as exc:
            raise ResultsFormatError(f"line {line}, column {name}: {exc}, got {raw[name][:40]!r}") from None
    return values


def from_csv(text: str | bytes) -> list[ImportedRun]:
    """Rebuild every run of a CSV written by `to_csv`, or raise ResultsFormatError; never a part."""
    return [build_run(group) for group in group_by_run(read_rows(as_text(text)))]


def build_run(rows: list[Row]) -> ImportedRun:
    first, values = rows[0], rows[0].values
    # A comparison's runs are this lab's runs too, one per interpreter (lab.compare reads them).
    header = check_run(
        rows,
        RUN_COLUMNS,
        lab=(RUN_LAB, COMPARE_LAB),
        schema_version=values["schema_version"],  # each row's version was checked when read: 1 and 2 read
        statuses=STATUSES,
        what="CPU/I-O",
    )
    run_id, status, created = header.run_id, header.status, header.created
    settings = build_settings(first)
    summaries = build_summaries(rows, settings)
    return ImportedRun(
        settings=settings,
        machine=build_machine(first),
        mode_summaries=summaries,
        status=status,
        message=values["message"],
        target_url=values["target_url"],
        run_id=run_id,
        created=created,
        interpreter=build_interpreter(first),
        series=values["series"],
        steadiness=build_steadiness(values),
    )


def build_settings(row: Row) -> RunSettings:
    values = row.values
    workload = values["workload"]
    check(row.line, workload in WORKLOADS, f"unknown workload {workload[:40]!r}")
    check(
        row.line,
        values["workload_kind"] == WORKLOADS[workload].kind,
        f"{workload} is not a {values['workload_kind'][:40]!r} workload",
    )
    modes = values["modes_setting"].split(",")
    for mode in modes:
        check(row.line, mode in MODES, f"unknown mode {mode[:40]!r} in modes_setting")
    try:
        return RunSettings.create(
            workload,
            tasks=values["tasks"],
            size=values["size"],
            modes=modes,
            workers=values["workers_setting"],
            threads=values["threads_setting"],
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
            xray=values["xray"],
            xray_hz=values["xray_hz"],
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid settings: {exc}") from None


def build_summaries(rows: list[Row], settings: RunSettings) -> tuple[ModeSummary, ...]:
    if len(rows) == 1 and rows[0].values["mode"] is None:
        row = rows[0]
        for name in MODE_COLUMNS:
            check(row.line, row.values[name] is None, f"a row without a mode has a value in {name}")
        return ()
    summaries: list[ModeSummary] = []
    for row in rows:
        summary = build_summary(row, settings)
        check(row.line, summary.mode not in [s.mode for s in summaries], f"mode {summary.mode} appears twice")
        summaries.append(summary)
    return tuple(summaries)


def build_summary(row: Row, settings: RunSettings) -> ModeSummary:
    values, line = row.values, row.line
    mode = values["mode"]
    check(line, mode is not None, "the mode is empty")
    check(line, mode in MODES, f"unknown mode {str(mode)[:40]!r}")
    for name in MODE_COLUMNS:
        optional = ("speedup", "error", "mean_on_cpu", "handoffs_per_s")
        check(line, name in optional or values[name] is not None, f"column {name} is empty")
    repeats, ok, failed = values["repeats_run"], values["ok"], values["failed"]
    check(line, 1 <= repeats <= MAX_REPEATS, f"repeats_run must be between 1 and {MAX_REPEATS}")
    check(
        line, values["seconds_min"] <= values["seconds"] <= values["seconds_max"], "seconds outside min..max"
    )
    check(line, values["speedup"] is None or values["speedup"] > 0, "speedup must be above 0")
    check(line, values["workers"] <= MAX_COUNT, "workers is too large")
    check(line, ok + failed <= repeats * settings.tasks, "more tasks than the settings ran")
    return ModeSummary(
        mode=mode,
        repeats=repeats,
        seconds=values["seconds"],
        seconds_min=values["seconds_min"],
        seconds_max=values["seconds_max"],
        speedup=values["speedup"],
        cpu_seconds=values["cpu_seconds"],
        cores_busy=values["cores_busy"],
        startup_seconds=values["startup_seconds"],
        workers=values["workers"],
        ok=ok,
        failed=failed,
        tasks=(),
        error=values["error"],
        xray=xray_figures(values),
    )


def xray_figures(values: dict[str, Any]) -> dict[str, Any] | None:
    """The X-ray's headline figures a CSV row keeps (the per-thread states stay with the measured run)."""
    if values["mean_on_cpu"] is None and values["handoffs_per_s"] is None:
        return None
    return {"mean_on_cpu": values["mean_on_cpu"], "handoffs_per_s": values["handoffs_per_s"]}
