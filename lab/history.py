"""The page's run history, and its one-file CSV export and import.

History is a plain list of runs, newest last, so the page can keep it in
session state and every function here returns a new list. The CSV is tidy (one
row per run x mode) and canonical: each column has one type and one way to
write it, so export -> import -> export gives back the same text. A CSV keeps
only the per-mode summaries, not the per-task spans, so an imported run is an
`ImportedRun`: it answers the same questions as a `RunResult` but has no
timeline to draw. Import is all or nothing and every problem is a one-line
`ResultsFormatError`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from lab.errors import InvalidSettings, ResultsFormatError
from lab.machine import Machine
from lab.results import SCHEMA_VERSION, STATUSES, ModeSummary, RunResult, TaskSpan
from lab.settings import MAX_REPEATS, MODES, RunSettings
from lab.workloads import WORKLOADS

if TYPE_CHECKING:
    import pandas as pd

MAX_CSV_ROWS = 10_000
MAX_COUNT = 10**9
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
INT_PATTERN = re.compile(r"[0-9]{1,12}")
FLOAT_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


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

# Every CSV column with its type; "?" marks a column that may be empty (None).
# The machine's columns, the same in both labs' CSVs (see `machine_values`, `build_machine`).
MACHINE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("python_version", "text"),
    ("implementation", "text"),
    ("gil_enabled", "bool"),
    ("free_threaded_build", "bool"),
    ("logical_cores", "int"),
    ("physical_cores", "int?"),
    ("affinity_cores", "int"),
    ("cpu_quota", "float?"),
    ("usable_cores", "float"),
    ("os", "text"),
    ("machine", "text"),
    ("machine_start_method", "text"),
)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("schema_version", "int"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("workload", "text"),
    ("kind", "text"),
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
    *MACHINE_COLUMNS,
    ("message", "text?"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)
COLUMN_TYPES: dict[str, str] = dict(COLUMNS)
MODE_COLUMNS: tuple[str, ...] = COLUMN_NAMES[COLUMN_NAMES.index("mode") : COLUMN_NAMES.index("error") + 1]
RUN_COLUMNS: tuple[str, ...] = tuple(name for name in COLUMN_NAMES if name not in MODE_COLUMNS)


def add_runs(history: list[Run], runs: Iterable[Run]) -> list[Run]:
    """A new history with `runs` appended, skipping any run_id already present."""
    result = list(history)
    seen = {run.run_id for run in result}
    for run in runs:
        if run.run_id not in seen:
            result.append(run)
            seen.add(run.run_id)
    return result


def remove_run(history: list[Run], run_id: str) -> list[Run]:
    return [run for run in history if run.run_id != run_id]


def is_imported(run: Run) -> bool:
    """True for runs read from CSV: they have summaries but no task timeline."""
    return isinstance(run, ImportedRun)


def best_mode(run: Run) -> str | None:
    """The fastest mode whose tasks all succeeded; a mode that failed never 'wins'."""
    candidates = [
        summary
        for summary in run.summaries()
        if summary.speedup is not None and not summary.failed and not summary.error
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda summary: summary.speedup or 0.0).mode


def machine_summary(machine: Machine) -> str:
    gil = "GIL" if machine.gil_enabled else "no GIL"
    cores = f"{machine.usable_cores:g} usable core{'' if machine.usable_cores == 1 else 's'}"
    return f"{machine.implementation} {machine.python_version} ({gil}), {cores}, {machine.os}"


def run_status(run: Run) -> str:
    failed = sum(summary.failed for summary in run.summaries())
    errors = sum(1 for summary in run.summaries() if summary.error)
    parts = [run.status.replace("_", " ")]
    if failed:
        parts.append(f"{failed} failed task{'s' if failed != 1 else ''}")
    if errors:
        parts.append(f"{errors} mode error{'s' if errors != 1 else ''}")
    return ", ".join(parts)


def display_time(created: str) -> str:
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return created
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


HISTORY_TABLE_COLUMNS = (
    "run",
    "time",
    "workload",
    "tasks",
    "size",
    "modes",
    "best mode",
    "speedup",
    "status",
    "machine",
    "source",
    "run_id",
)


def history_table(history: list[Run]) -> pd.DataFrame:
    import pandas as pd  # only the page's tables need it; the CLI's CSV does not

    """One row per run, numbered from 1 in history order, for the page's history table."""
    rows = []
    for number, run in enumerate(history, start=1):
        best = best_mode(run)
        rows.append(
            {
                "run": number,
                "time": display_time(run.created),
                "workload": run.settings.workload,
                "tasks": run.settings.tasks,
                "size": run.settings.size,
                "modes": ", ".join(run.modes),
                "best mode": best,
                "speedup": run.speedup(best) if best is not None else None,
                "status": run_status(run),
                "machine": machine_summary(run.machine),
                "source": "imported" if is_imported(run) else "measured",
                "run_id": run.run_id,
            }
        )
    frame = pd.DataFrame(rows, columns=list(HISTORY_TABLE_COLUMNS))
    return frame.astype({"run": "int64", "tasks": "int64", "size": "int64", "speedup": "float64"})


def run_label(number: int, run: Run) -> str:
    return f"#{number} {run.settings.workload}"


MODES_TABLE_COLUMNS = (
    "run",
    "label",
    "run_id",
    "workload",
    "mode",
    "seconds",
    "speedup",
    "cores_busy",
    "failed",
    "error",
)


def modes_table(history: list[Run]) -> pd.DataFrame:
    import pandas as pd

    """One row per run x mode, numbered like `history_table`: the input of the history chart."""
    rows = [
        {
            "run": number,
            "label": run_label(number, run),
            "run_id": run.run_id,
            "workload": run.settings.workload,
            "mode": summary.mode,
            "seconds": summary.seconds,
            "speedup": summary.speedup,
            "cores_busy": summary.cores_busy,
            "failed": summary.failed,
            "error": summary.error,
        }
        for number, run in enumerate(history, start=1)
        for summary in run.summaries()
    ]
    frame = pd.DataFrame(rows, columns=list(MODES_TABLE_COLUMNS))
    return frame.astype(
        {
            "run": "int64",
            "seconds": "float64",
            "speedup": "float64",
            "cores_busy": "float64",
            "failed": "int64",
        }
    )


def to_csv(history: list[Run]) -> str:
    """One tidy CSV of the whole history; a run that measured no mode still gets one row."""
    rows = (
        {**run_values(run), **mode_values(summary)}
        for run in history
        for summary in (list(run.summaries()) or [None])
    )
    return write_table(COLUMN_TYPES, rows)


def write_table(column_types: Mapping[str, str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV with one column per `column_types` entry, in its order, each value formatted by its type."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(column_types)
    for row in rows:
        writer.writerow([format_value(kind, row[name]) for name, kind in column_types.items()])
    return buffer.getvalue()


def run_values(run: Run) -> dict[str, Any]:
    settings, machine = run.settings, run.machine
    return {
        "schema_version": run.schema_version,
        "run_id": run.run_id,
        "created": run.created,
        "status": run.status,
        "workload": settings.workload,
        "kind": settings.kind,
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
        **machine_values(machine),
        "message": run.message,
    }


def machine_values(machine: Machine) -> dict[str, Any]:
    """The machine's columns, shared by both labs' CSVs (and read back by `build_machine`)."""
    return {
        "python_version": machine.python_version,
        "implementation": machine.implementation,
        "gil_enabled": machine.gil_enabled,
        "free_threaded_build": machine.free_threaded_build,
        "logical_cores": machine.logical_cores,
        "physical_cores": machine.physical_cores,
        "affinity_cores": machine.affinity_cores,
        "cpu_quota": machine.cpu_quota,
        "usable_cores": machine.usable_cores,
        "os": machine.os,
        "machine": machine.machine,
        "machine_start_method": machine.start_method,
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
    }


def format_value(kind: str, value: Any) -> str:
    """The one way each type is written: floats as repr (exact round trip), None as empty."""
    if value is None:
        return ""
    base = kind.rstrip("?")
    if base == "float":
        return repr(float(value))
    if base == "int":
        return str(int(value))
    if base == "bool":
        return "True" if value else "False"
    return str(value)


class BadValue(Exception):
    """One cell that does not parse; from_csv adds the line and column."""


def parse_value(kind: str, raw: str) -> Any:
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if raw == "":
        if optional:
            return None
        raise BadValue("is empty")
    if base == "text":
        return raw
    if base == "bool":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise BadValue("must be True or False")
    if base == "int":
        if not INT_PATTERN.fullmatch(raw):
            raise BadValue("must be a whole number")
        return int(raw)
    if not FLOAT_PATTERN.fullmatch(raw):
        raise BadValue("must be a number")
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise BadValue("must be a finite number >= 0")
    return value


@dataclass(frozen=True)
class Row:
    """One parsed CSV row and the line it ended on, for messages."""

    line: int
    raw: dict[str, str]
    values: dict[str, Any]


def as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ResultsFormatError("not a GIL Lab CSV: the file is not UTF-8 text") from None
    if not isinstance(data, str):
        raise ResultsFormatError(f"not a GIL Lab CSV: expected text, got {type(data).__name__}")
    return data.removeprefix("\ufeff")


def read_rows(text: str) -> list[Row]:
    """Parse and type-check every cell, or raise on the first problem.

    A header with no rows is the export of an empty history: valid, and empty.
    """
    return read_table(text, COLUMN_NAMES, parse_cells)


def read_table(
    text: str,
    columns: Iterable[str],
    parse: Callable[[int, dict[str, str]], dict[str, Any]],
    what: str = "GIL Lab",
) -> list[Row]:
    """The CSV reader both labs share: header checks, row limits, then `parse` for each row's cells."""
    if not text.strip():
        raise ResultsFormatError("the CSV file is empty")
    if "\x00" in text:
        raise ResultsFormatError(f"not a {what} CSV: the file contains binary data")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        if "schema_version" not in header or "run_id" not in header:
            raise ResultsFormatError(f"not a {what} CSV: the header has no schema_version or run_id column")
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise ResultsFormatError(f"the CSV header repeats column {duplicates[0]!r}")
        missing = [name for name in columns if name not in header]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            noun = "columns" if len(missing) > 1 else "column"
            raise ResultsFormatError(f"not a {what} CSV: missing {noun} {shown}")
        rows: list[Row] = []
        for cells in reader:
            if not cells:
                continue
            if len(rows) >= MAX_CSV_ROWS:
                raise ResultsFormatError(f"the CSV has more than {MAX_CSV_ROWS:,} rows")
            if len(cells) != len(header):
                raise ResultsFormatError(
                    f"line {reader.line_num}: {len(cells)} fields, the header has {len(header)}"
                )
            raw = dict(zip(header, cells, strict=True))
            rows.append(Row(reader.line_num, raw, parse(reader.line_num, raw)))
    except csv.Error as exc:
        raise ResultsFormatError(f"not a readable CSV: {exc}") from None
    return rows


def parse_cells(line: int, raw: dict[str, str]) -> dict[str, Any]:
    version = raw["schema_version"]
    if version != str(SCHEMA_VERSION):
        raise ResultsFormatError(
            f"line {line}: the CSV has schema version {version[:20]!r}, this GIL Lab reads {SCHEMA_VERSION}"
        )
    values: dict[str, Any] = {}
    for name, kind in COLUMNS:
        try:
            values[name] = parse_value(kind, raw[name])
        except BadValue as exc:
            raise ResultsFormatError(f"line {line}, column {name}: {exc}, got {raw[name][:40]!r}") from None
    return values


def from_csv(text: str | bytes) -> list[ImportedRun]:
    """Rebuild every run of a CSV written by `to_csv`, or raise ResultsFormatError; never a part."""
    rows = read_rows(as_text(text))
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.values["run_id"], []).append(row)
    return [build_run(group) for group in groups.values()]


def build_run(rows: list[Row]) -> ImportedRun:
    first = rows[0]
    for row in rows[1:]:
        for name in RUN_COLUMNS:
            if row.raw[name] != first.raw[name]:
                raise ResultsFormatError(
                    f"line {row.line}: run {first.values['run_id']!r} has a different {name} than on line "
                    f"{first.line}"
                )
    values = first.values
    run_id, status, created = values["run_id"], values["status"], values["created"]
    check(first.line, RUN_ID_PATTERN.fullmatch(run_id) is not None, f"run_id {run_id[:40]!r} is not valid")
    check(first.line, status in STATUSES, f"unknown status {status[:40]!r}")
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise ResultsFormatError(f"line {first.line}: created {created[:40]!r} is not a date") from None
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
    )


def check(line: int, condition: bool, message: str) -> None:
    if not condition:
        raise ResultsFormatError(f"line {line}: {message}")


def build_settings(row: Row) -> RunSettings:
    values = row.values
    workload = values["workload"]
    check(row.line, workload in WORKLOADS, f"unknown workload {workload[:40]!r}")
    check(
        row.line,
        values["kind"] == WORKLOADS[workload].kind,
        f"{workload} is not a {values['kind'][:40]!r} workload",
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
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid settings: {exc}") from None


def build_machine(row: Row) -> Machine:
    values = row.values
    for name in ("logical_cores", "affinity_cores", "physical_cores"):
        number = values[name]
        check(row.line, number is None or 1 <= number <= MAX_COUNT, f"{name} must be at least 1")
    check(row.line, values["usable_cores"] > 0, "usable_cores must be above 0")
    check(row.line, values["cpu_quota"] is None or values["cpu_quota"] > 0, "cpu_quota must be above 0")
    return Machine(
        python_version=values["python_version"],
        implementation=values["implementation"],
        gil_enabled=values["gil_enabled"],
        free_threaded_build=values["free_threaded_build"],
        logical_cores=values["logical_cores"],
        physical_cores=values["physical_cores"],
        affinity_cores=values["affinity_cores"],
        cpu_quota=values["cpu_quota"],
        usable_cores=values["usable_cores"],
        os=values["os"],
        machine=values["machine"],
        start_method=values["machine_start_method"],
    )


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
        check(line, name in ("speedup", "error") or values[name] is not None, f"column {name} is empty")
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
    )


def import_csv(history: list[Run], text: str | bytes) -> tuple[list[Run], int]:
    """The history with the CSV's runs added (known run_ids skipped) and how many were new."""
    runs = from_csv(text)
    updated = add_runs(history, runs)
    return updated, len(updated) - len(history)
