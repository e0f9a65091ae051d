"""The Classics lab's CSV: one row per comparison, every row with its lab, run id, settings and machine.

Written with `lab.core.csvtable`, as every lab's CSV is, so the types of
its cells read back the same way everywhere. A classic that could not run
here has one row whose `what` says why. A CSV keeps the comparisons, not the
steps' raw figures, so a run comes back from it as an `ImportedClassicsRun`:
enough for the history, the store and a list of runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lab.classics.results import CLASSICS_KIND, CLASSICS_SCHEMA_VERSION, CLASSICS_STATUSES, ClassicsResult
from lab.classics.settings import ClassicsSettings
from lab.core.contract import RunListing, imported_record, listing_of
from lab.core.csvtable import Row, check_run, read_runs, write_table
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

RUN_COLUMN_TYPES: dict[str, str] = {
    "schema_version": "int",
    "lab": "text",
    "run_id": "text",
    "created": "text",
    "status": "text",
    "classics_setting": "text",
    "pythons_setting": "text?",
    "scale": "float",
    "interpreters": "text?",
    **dict(MACHINE_COLUMNS),
    **dict(STEADINESS_COLUMNS),
    "message": "text?",
}
ROW_COLUMN_TYPES: dict[str, str] = {
    "classic": "text",
    "what": "text",
    "published": "float?",
    "measured": "float?",
    "agrees": "bool?",
}
CSV_COLUMNS: dict[str, str] = {**RUN_COLUMN_TYPES, **ROW_COLUMN_TYPES}


@dataclass(frozen=True)
class ImportedRow:
    """One comparison as the CSV keeps it."""

    classic: str
    what: str
    published: float | None
    measured: float | None
    agrees: bool | None


@dataclass(frozen=True)
class ImportedClassicsRun:
    """A Classics run read back from its CSV: its comparisons, without the steps' raw figures."""

    settings: ClassicsSettings
    machine: Machine
    rows: tuple[ImportedRow, ...]
    interpreters: tuple[str, ...]
    status: str
    message: str | None
    run_id: str
    created: str
    schema_version: int = CLASSICS_SCHEMA_VERSION
    steadiness: Steadiness | None = None

    @property
    def lab(self) -> str:
        return CLASSICS_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def to_dict(self) -> dict[str, Any]:
        return imported_record(self, to_csv([self]))

    def csv_rows(self) -> list[dict[str, Any]]:
        head = {
            "schema_version": self.schema_version,
            "lab": CLASSICS_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "classics_setting": ",".join(self.settings.classics),
            "pythons_setting": ",".join(self.settings.pythons) or None,
            "scale": self.settings.scale,
            "interpreters": ",".join(self.interpreters) or None,
            **machine_values(self.machine),
            **steadiness_values(self.steadiness),
            "message": self.message,
        }
        return [head | row.__dict__ for row in self.rows]

    def listing(self) -> RunListing:
        judged = [row for row in self.rows if row.agrees is not None]
        return listing_of(
            self,
            CLASSICS_KIND,
            workload=", ".join(self.settings.classics),
            interpreters=self.interpreters,
            headline=sum(1 for row in judged if row.agrees) / len(judged) if judged else None,
            headline_label="share of comparisons that agree",
        )


ClassicsRecord = ClassicsResult | ImportedClassicsRun


def to_csv(results: Iterable[ClassicsRecord]) -> str:
    return write_table(CSV_COLUMNS, (row for result in results for row in result.csv_rows()))


def read_rows(text: str) -> list[list[Row]]:
    """A Classics CSV's rows, typed and grouped by run (ResultsFormatError in one line if it is not one)."""
    return read_runs(text, CSV_COLUMNS, "GIL Lab classics", legacy={**MACHINE_LEGACY, **STEADINESS_LEGACY})


def from_csv(text: str | bytes) -> list[ImportedClassicsRun]:
    """Every run of a Classics CSV, all or nothing."""
    raw = text.decode("utf-8-sig") if isinstance(text, bytes) else text
    return [build_run(rows) for rows in read_rows(raw)]


def build_run(rows: Sequence[Row]) -> ImportedClassicsRun:
    header = check_run(
        list(rows),
        RUN_COLUMN_TYPES,
        lab=CLASSICS_KIND,
        schema_version=CLASSICS_SCHEMA_VERSION,
        statuses=CLASSICS_STATUSES,
        what="classics",
    )
    first, values = rows[0], rows[0].values
    try:
        settings = ClassicsSettings.create(
            classics=values["classics_setting"], pythons=values["pythons_setting"], scale=values["scale"]
        )
    except InvalidSettings as exc:
        raise ResultsFormatError(f"line {first.line}: {exc}") from None
    interpreters = tuple((values["interpreters"] or "").split(",")) if values["interpreters"] else ()
    return ImportedClassicsRun(
        settings=settings,
        machine=build_machine(first),
        steadiness=build_steadiness(values),
        rows=tuple(ImportedRow(**{name: row.values[name] for name in ROW_COLUMN_TYPES}) for row in rows),
        interpreters=interpreters,
        status=header.status,
        message=values["message"],
        run_id=header.run_id,
        created=header.created,
    )
