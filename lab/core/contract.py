"""The one contract every lab speaks: its settings, its result record, its CSV, its admission.

A lab is a family member, not a neighbour to copy. The page's history, the
run store, share links, the CSV importer and the host's admission each meet
one shape, so adding a lab means implementing these two protocols and adding
one `LabSpec` to the catalog (`lab.catalog`), never teaching the page, the
store or the CLI a new type.

- `LabSettings`: validated, frozen, lossless through `to_dict`/`from_dict`;
  `admit(host)` returns what this host will run (or raises InvalidSettings /
  OverBudget with one line saying why); `cost(usable_cores)` estimates the
  seconds of work, which public mode holds to its budget.
- `LabResult`: one run of one lab, measured or read back from a file: its
  lab's name, an id, when it was made, how it ended, the machine and the
  interpreter(s), the settings, a schema version and a lossless JSON form.
  `listing()` gives the few columns a list of runs shows without opening
  each one (the store's index, the Runs place), built by `listing_of`. Its
  CSV rows are written by its lab's `LabSpec.write_csv`; a run read back from
  a CSV (an `Imported…` record, without what the CSV does not hold) is a
  `LabResult` too, whose JSON form keeps its CSV text (`imported_record`).

Standard library only: the bottom layer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lab.core.machine import Machine
from lab.core.steadiness import Steadiness

if TYPE_CHECKING:
    from typing import Self  # 3.11+; the worker, which imports this module, runs on 3.10 too

STATUSES = ("complete", "failed", "cancelled", "cut_short", "crashed")
# The labs' one names, used alike by the package, the CLI subcommand, the page's place, the CSV's
# `lab` column, the store and the share link (lab.catalog keeps the names older links and files used).
RUN_LAB = "run"  # the CPU- and I/O-bound lab: its page has two places, /cpu and /io
COMPARE_LAB = "compare"


class Limits(Protocol):
    """The public limits a lab's settings are held to (lab.hosting.limits.Limits has them)."""

    @property
    def max_processes(self) -> int: ...

    @property
    def max_concurrency(self) -> int: ...

    @property
    def max_repeats(self) -> int: ...

    @property
    def max_work_seconds(self) -> float: ...

    @property
    def max_body_bytes(self) -> int: ...

    @property
    def max_download_bytes(self) -> int: ...


class HostRules(Protocol):
    """What `LabSettings.admit` may ask of the host (lab.hosting.admission.Hosting), typed, from below."""

    @property
    def public(self) -> bool: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def usable_cores(self) -> float: ...

    def check_budget(self, seconds: float, advice: str) -> None: ...


@runtime_checkable
class LabSettings(Protocol):
    """What to run in one lab: validated once, frozen, lossless through a dict."""

    def to_dict(self) -> dict[str, Any]: ...

    def admit(self, host: HostRules) -> Self:
        """The settings this host will run (clamped or unchanged), or InvalidSettings saying why not."""
        ...

    def cost(self, usable_cores: float) -> float:
        """Estimated seconds of work, for the host's budget and the page's warning."""
        ...


@dataclass(frozen=True)
class RunListing:
    """The columns a list of runs shows for one run, whatever its lab (the store indexes these).

    `headline` is the one figure that says most about the run (the best
    speedup for the CPU/I-O lab, the best throughput for the web lab, ...)
    and `headline_label` says what it is ("speedup", "req/s", ...), so a list
    can show it without knowing the lab. `steady` is None where the run did
    not measure the machine's steadiness.
    """

    lab: str
    run_id: str
    created: str
    status: str
    workload: str | None = None
    interpreters: tuple[str, ...] = ()
    headline: float | None = None
    headline_label: str | None = None
    usable_cores: float | None = None
    cpu_model: str | None = None
    steady: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["interpreters"] = list(self.interpreters)
        return data


class Measured(Protocol):
    """What a list of runs reads of any record, whatever its lab (each lab's record protocols add theirs)."""

    @property
    def run_id(self) -> str: ...

    @property
    def created(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def machine(self) -> Machine: ...

    @property
    def steadiness(self) -> Steadiness | None: ...


def listing_of(
    run: Measured,
    lab: str,
    *,
    workload: str | None = None,
    interpreters: tuple[str, ...] = (),
    headline: float | None = None,
    headline_label: str | None = None,
) -> RunListing:
    """A record's row in a list of runs: what every lab's row shares, and the lab's own figures."""
    return RunListing(
        lab=lab,
        run_id=run.run_id,
        created=run.created,
        status=run.status,
        workload=workload,
        interpreters=interpreters,
        headline=headline,
        headline_label=headline_label,
        usable_cores=run.machine.usable_cores,
        cpu_model=run.machine.cpu_model,
        steady=run.steadiness.steady if run.steadiness is not None else None,
    )


@runtime_checkable
class LabResult(Protocol):
    """One run of one lab, as measured or as read back; every lab's result type implements it."""

    # Read-only, as the frozen dataclasses that implement it hold them.
    @property
    def run_id(self) -> str: ...

    @property
    def created(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def message(self) -> str | None: ...

    @property
    def machine(self) -> Machine | None:
        """The machine it ran on (None only for a comparison that ran nothing)."""
        ...

    @property
    def schema_version(self) -> int: ...

    @property
    def lab(self) -> str:
        """The lab's one name (the catalog's key, the CSV's `lab` column, the store's `lab`)."""
        ...

    @property
    def settings_dict(self) -> dict[str, Any]:
        """The settings that made this run, as `LabSettings.to_dict` writes them."""
        ...

    def to_dict(self) -> dict[str, Any]: ...

    def listing(self) -> RunListing:
        """This run as one row of a list of runs (the store's index, the Runs place)."""
        ...


@dataclass(frozen=True)
class LabSpec:
    """One lab in the catalog: its name, how to read its records back, its CSV, and its old names.

    `read_dict` rebuilds a measured result from `to_dict`'s output
    (ResultsFormatError if it cannot); `read_csv` turns a CSV of this lab into
    records (measured runs lose what the CSV does not hold, so they come back
    as `Imported…` records that still implement `LabResult`); `write_csv`
    writes any of this lab's records as one CSV. `aliases` are the names
    older links, CSV files and code used for this lab.
    """

    name: str
    title: str
    read_dict: Callable[[Any], LabResult]
    read_csv: Callable[[str], Sequence[LabResult]]
    write_csv: Callable[[Sequence[Any]], str]
    aliases: tuple[str, ...] = field(default=())


IMPORTED = "imported_csv"  # the key under which an imported record's JSON form keeps its CSV text


def imported_record(record: LabResult, csv_text: str) -> dict[str, Any]:
    """The JSON form of a run read back from a CSV: its header fields and its own CSV text.

    A CSV holds less than a measured run's JSON (no task spans, no X-ray
    segments), so an imported run is stored as the CSV rows it came from and
    read back through its lab's CSV reader: lossless for what it has.
    """
    return {
        "schema_version": record.schema_version,
        "lab": record.lab,
        "kind": record.lab,
        "run_id": record.run_id,
        "created": record.created,
        "status": record.status,
        "message": record.message,
        IMPORTED: csv_text,
    }
