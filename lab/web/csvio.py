"""Web-lab runs as flat rows and CSV, one row per run x endpoint, and back.

The same canonical form as the CPU and I/O labs' history (`lab.run.csvio`), through `lab.core.csvtable`:
each column has one type and one way to write it, so export -> import ->
export gives back the same text. A row keeps an endpoint's figures, not its
request samples, so an imported run is an `ImportedWebRun`: it answers the
same questions as a `WebResult` (summaries, all_ok) but has no latency series
to draw. Import is all or nothing and every problem is a one-line
`ResultsFormatError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from lab.core.contract import RunListing, imported_record
from lab.core.csvtable import Legacy, Row, as_text, check, check_run, group_by_run, read_runs, write_table
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine import Machine
from lab.core.machine_columns import MACHINE_COLUMNS, MACHINE_LEGACY, build_machine, machine_values
from lab.core.steadiness import Steadiness
from lab.core.steadiness_columns import (
    STEADINESS_COLUMNS,
    STEADINESS_LEGACY,
    build_steadiness,
    steadiness_values,
)
from lab.web.results import (
    WEB_KIND,
    WEB_SCHEMA_VERSION,
    WEB_STATUSES,
    EndpointSummary,
    WebResult,
    summaries_ok,
    web_listing,
)
from lab.web.settings import ENDPOINTS, WebSettings


@dataclass(frozen=True)
class ImportedWebRun:
    """A web-lab run read back from rows: the endpoints' figures, without request samples."""

    settings: WebSettings
    machine: Machine
    endpoint_summaries: tuple[EndpointSummary, ...]
    status: str
    message: str | None
    run_id: str
    created: str
    schema_version: int = WEB_SCHEMA_VERSION
    steadiness: Steadiness | None = None

    @property
    def lab(self) -> str:
        return WEB_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return web_listing(self)

    def to_dict(self) -> dict[str, Any]:
        return imported_record(self, to_csv([self]))

    def summaries(self) -> list[EndpointSummary]:
        return list(self.endpoint_summaries)

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.endpoint_summaries)


WebRun: TypeAlias = WebResult | ImportedWebRun

# Every column with its type; "?" marks a column that may be empty (None).
RUN_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("schema_version", "int"),
    ("lab", "text"),
    ("run_id", "text"),
    ("created", "text"),
    ("status", "text"),
    ("endpoints_setting", "text"),
    ("clients", "int"),
    ("duration_s", "float?"),
    ("requests_setting", "int?"),
    ("latency_ms", "int"),
    ("size", "int"),
    ("threadpool", "int"),
    ("server_workers", "int"),
    *MACHINE_COLUMNS,
    *STEADINESS_COLUMNS,
    ("message", "text?"),
)
ENDPOINT_COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("endpoint", "text?"),
    ("requests", "int?"),
    ("ok", "int?"),
    ("failed", "int?"),
    ("cut", "int?"),
    ("seconds", "float?"),
    ("throughput", "float?"),
    ("p50_ms", "float?"),
    ("p95_ms", "float?"),
    ("p99_ms", "float?"),
    ("max_ms", "float?"),
    ("ceiling", "float?"),
    ("single_core_rate", "float?"),
    ("client_cpu_seconds", "float?"),
    ("server_cpu_seconds", "float?"),
    ("server_processes", "int?"),
    ("ping_count", "int?"),
    ("ping_p50_ms", "float?"),
    ("ping_p95_ms", "float?"),
    ("ping_p99_ms", "float?"),
    ("ping_max_ms", "float?"),
    ("failures", "text?"),
    ("error", "text?"),
)
COLUMN_TYPES: dict[str, str] = dict(RUN_COLUMN_TYPES + ENDPOINT_COLUMN_TYPES)
COLUMN_NAMES: tuple[str, ...] = tuple(COLUMN_TYPES)
RUN_COLUMNS: tuple[str, ...] = tuple(name for name, _ in RUN_COLUMN_TYPES)
ENDPOINT_COLUMNS: tuple[str, ...] = tuple(name for name, _ in ENDPOINT_COLUMN_TYPES)
# Summary columns that may stay empty on a measured endpoint: nothing answered, no probe ran.
MAY_BE_EMPTY = {"p50_ms", "p95_ms", "p99_ms", "max_ms", "ceiling", "single_core_rate", "server_cpu_seconds"}
MAY_BE_EMPTY |= {"failures", "error"}
MAY_BE_EMPTY |= {name for name in ENDPOINT_COLUMNS if name.startswith("ping_")}


# Files written before every CSV named its lab kept it in a `kind` column.
LEGACY = {"lab": Legacy(column="kind"), **MACHINE_LEGACY, **STEADINESS_LEGACY}


def web_rows(runs: Iterable[WebRun]) -> list[dict[str, Any]]:
    """One flat row per run x endpoint, typed values; a run that measured nothing still gets one row."""
    rows = []
    for run in runs:
        summaries: list[EndpointSummary | None] = list(run.summaries()) or [None]
        for summary in summaries:
            rows.append({**run_values(run), **endpoint_values(summary)})
    return rows


def run_values(run: WebRun) -> dict[str, Any]:
    settings, machine = run.settings, run.machine
    return {
        "schema_version": run.schema_version,
        "lab": WEB_KIND,
        "run_id": run.run_id,
        "created": run.created,
        "status": run.status,
        "endpoints_setting": ",".join(settings.endpoints),
        "clients": settings.clients,
        "duration_s": settings.duration_s,
        "requests_setting": settings.requests,
        "latency_ms": settings.latency_ms,
        "size": settings.size,
        "threadpool": settings.threadpool,
        "server_workers": settings.server_workers,
        **machine_values(machine),
        **steadiness_values(run.steadiness),
        "message": run.message,
    }


def endpoint_values(summary: EndpointSummary | None) -> dict[str, Any]:
    if summary is None:
        return dict.fromkeys(ENDPOINT_COLUMNS)
    return {name: getattr(summary, name) for name in ENDPOINT_COLUMNS}


def to_csv(runs: Iterable[WebRun]) -> str:
    return rows_to_csv(web_rows(runs))


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    return write_table(COLUMN_TYPES, rows)


def from_csv(text: str | bytes) -> list[ImportedWebRun]:
    """Rebuild every run of a CSV written by `to_csv`, or raise ResultsFormatError; never a part."""
    return [
        build_run(rows)
        for rows in read_runs(as_text(text), COLUMN_TYPES, legacy=LEGACY, what="GIL Lab web-lab")
    ]


def from_rows(rows: Iterable[Mapping[str, Any]]) -> list[ImportedWebRun]:
    """Rebuild runs from typed rows as `web_rows` gives them; `web_rows` gives them back."""
    parsed = []
    for number, values in enumerate(rows, start=2):
        missing = [name for name in COLUMN_NAMES if name not in values]
        check(number, not missing, f"missing column {', '.join(missing[:3])}")
        parsed.append(Row(number, {}, dict(values)))
    if not parsed:
        raise ResultsFormatError("no web-lab runs to import")
    return [build_run(group) for group in group_by_run(parsed)]


def build_run(rows: list[Row]) -> ImportedWebRun:
    header = check_run(
        rows,
        RUN_COLUMNS,
        lab=WEB_KIND,
        schema_version=WEB_SCHEMA_VERSION,
        statuses=WEB_STATUSES,
        what="web-lab",
    )
    first = rows[0]
    settings = build_settings(first)
    return ImportedWebRun(
        settings=settings,
        machine=build_machine(first),
        steadiness=build_steadiness(first.values),
        endpoint_summaries=build_summaries(rows, settings),
        status=header.status,
        message=first.values["message"],
        run_id=header.run_id,
        created=header.created,
    )


def build_settings(row: Row) -> WebSettings:
    values = row.values
    try:
        return WebSettings.create(
            endpoints=values["endpoints_setting"],
            clients=values["clients"],
            requests=values["requests_setting"],
            duration=values["duration_s"],
            latency_ms=values["latency_ms"],
            size=values["size"],
            threadpool=values["threadpool"],
            server_workers=values["server_workers"],
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {row.line}: invalid settings: {exc}") from None


def build_summaries(rows: list[Row], settings: WebSettings) -> tuple[EndpointSummary, ...]:
    if len(rows) == 1 and rows[0].values["endpoint"] is None:
        row = rows[0]
        for name in ENDPOINT_COLUMNS:
            check(row.line, row.values[name] is None, f"a row without an endpoint has a value in {name}")
        return ()
    summaries: list[EndpointSummary] = []
    for row in rows:
        values, line = row.values, row.line
        endpoint = values["endpoint"]
        check(line, endpoint in ENDPOINTS, f"unknown endpoint {str(endpoint)[:40]!r}")
        check(line, endpoint in settings.endpoints, f"{endpoint} is not among the run's endpoints")
        check(line, endpoint not in [s.endpoint for s in summaries], f"endpoint {endpoint} appears twice")
        for name in ENDPOINT_COLUMNS:
            check(line, name in MAY_BE_EMPTY or values[name] is not None, f"column {name} is empty")
        check(
            line,
            values["ok"] + values["failed"] + values["cut"] == values["requests"],
            "ok + failed + cut is not requests",
        )
        summaries.append(EndpointSummary(**{name: values[name] for name in ENDPOINT_COLUMNS}))
    return tuple(summaries)
