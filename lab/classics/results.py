"""A Classics run as a record: one entry per classic (source, published, measured, comparisons, why).

It speaks the one contract (`lab.core.contract.LabResult`): its lab is
"classics", it has an id, a date, a status, the machine, the settings, a
lossless JSON form (`from_dict(to_dict())` gives it back) and CSV rows (one
per comparison). The steps' raw figures travel along, so a record read back
rebuilds the same entries.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lab.classics.agreement import Comparison, StepOutcome, compare, measured_for
from lab.classics.catalogue import CLASSICS
from lab.classics.settings import ClassicsSettings
from lab.classics.takeaway import why
from lab.core.contract import RunListing, listing_of
from lab.core.errors import InvalidSettings, ResultsFormatError
from lab.core.machine import Machine
from lab.core.machine_columns import machine_values
from lab.core.records import check_result_header, new_run_id, now_iso, parse_json
from lab.core.steadiness import Steadiness
from lab.core.steadiness_columns import steadiness_values

CLASSICS_KIND = "classics"
CLASSICS_SCHEMA_VERSION = 1
CLASSICS_STATUSES = ("complete", "failed", "cancelled", "cut_short", "crashed")


@dataclass(frozen=True)
class ClassicRecord:
    """One classic as this run saw it."""

    name: str
    published: dict[str, float]
    measured: dict[str, Any]
    compare: tuple[Comparison, ...]
    why: str
    missing: str | None = None  # why it could not run here

    @property
    def agreeing(self) -> int:
        return sum(1 for row in self.compare if row.agrees)

    @property
    def compared(self) -> int:
        return sum(1 for row in self.compare if row.agrees is not None)

    def to_dict(self) -> dict[str, Any]:
        classic = CLASSICS[self.name]
        return {
            "name": self.name,
            "title": classic.title,
            "source": [source.to_dict() for source in classic.sources],
            "setup": classic.setup,
            "here": classic.here,
            "scaling": classic.scaling,
            "published": dict(self.published),
            "measured": self.measured,
            "compare": [row.to_dict() for row in self.compare],
            "why": self.why,
            "missing": self.missing,
        }


def build_record(
    name: str,
    outcomes: Sequence[StepOutcome],
    cores: float,
    missing: str | None = None,
) -> ClassicRecord:
    """A classic's entry from its steps' outcomes: measured figures, comparisons and the sentence."""
    published = CLASSICS[name].published
    own = [outcome for outcome in outcomes if outcome.classic == name]
    measured = measured_for(name, own) if missing is None else {}
    rows = tuple(compare(name, published, measured, cores)) if missing is None else ()
    failures = [f"{o.key} ({o.python}): {o.message}" for o in own if o.status != "complete" and o.message]
    failure = "; ".join(failures) if failures and not any(r.measured is not None for r in rows) else None
    busy = [float(o.figures["cores_busy.batch"]) for o in own if "cores_busy.batch" in o.figures]
    batch_cores = min(busy) if busy else None
    return ClassicRecord(
        name,
        dict(published),
        measured,
        rows,
        why(name, measured, rows, cores, missing, failure, batch_cores),
        missing,
    )


@dataclass(frozen=True)
class ClassicsResult:
    """A whole Classics run: settings, machine, every step's outcome, and the classics built from them."""

    settings: ClassicsSettings
    machine: Machine
    outcomes: tuple[StepOutcome, ...]
    missing: dict[str, str] = field(default_factory=dict)  # classic -> why it could not run here
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = CLASSICS_SCHEMA_VERSION
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness)

    @property
    def lab(self) -> str:
        return CLASSICS_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def records(self) -> list[ClassicRecord]:
        cores = self.machine.usable_cores
        return [
            build_record(name, self.outcomes, cores, self.missing.get(name))
            for name in self.settings.classics
        ]

    def record(self, name: str) -> ClassicRecord:
        return next(record for record in self.records() if record.name == name)

    @property
    def all_ok(self) -> bool:
        return self.status == "complete" and all(o.status == "complete" for o in self.outcomes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": CLASSICS_KIND,
            "lab": CLASSICS_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "settings": self.settings.to_dict(),
            "classics": [record.to_dict() for record in self.records()],
            "steps": [outcome.to_dict() for outcome in self.outcomes],
            "missing": dict(self.missing),
            "machine": self.machine.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> ClassicsResult:
        check_result_header(
            data,
            kind=CLASSICS_KIND,
            schema_version=CLASSICS_SCHEMA_VERSION,
            statuses=CLASSICS_STATUSES,
            what="classics",
        )
        try:
            return cls(
                settings=ClassicsSettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                outcomes=tuple(StepOutcome.from_dict(step) for step in data["steps"]),
                missing={str(k): str(v) for k, v in dict(data.get("missing") or {}).items()},
                status=str(data["status"]),
                message=data.get("message"),
                steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
                run_id=str(data["run_id"]),
                created=str(data["created"]),
            )
        except (KeyError, TypeError, ValueError, InvalidSettings) as exc:
            raise ResultsFormatError(f"not a GIL Lab classics result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> ClassicsResult:
        return cls.from_dict(parse_json(text))

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per comparison (a classic that could not run: one row saying why)."""
        head: dict[str, Any] = {
            "schema_version": self.schema_version,
            "lab": CLASSICS_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "classics_setting": ",".join(self.settings.classics),
            "pythons_setting": ",".join(self.settings.pythons) or None,
            "scale": self.settings.scale,
            "interpreters": ",".join(self.listing().interpreters) or None,
            **machine_values(self.machine),
            **steadiness_values(self.steadiness),
            "message": self.message,
        }
        rows = []
        for record in self.records():
            if not record.compare:
                rows.append(
                    head
                    | {
                        "classic": record.name,
                        "what": record.missing or record.why,
                        "published": None,
                        "measured": None,
                        "agrees": None,
                    }
                )
            for row in record.compare:
                rows.append(
                    head
                    | {
                        "classic": record.name,
                        "what": row.what,
                        "published": row.published,
                        "measured": row.measured,
                        "agrees": row.agrees,
                    }
                )
        return rows

    def listing(self) -> RunListing:
        records = self.records()
        compared = sum(record.compared for record in records)
        agreeing = sum(record.agreeing for record in records)
        pythons = tuple(dict.fromkeys(outcome.python for outcome in self.outcomes))
        return listing_of(
            self,
            CLASSICS_KIND,
            workload=", ".join(self.settings.classics),
            interpreters=pythons,
            headline=agreeing / compared if compared else None,
            headline_label="share of comparisons that agree",
        )
