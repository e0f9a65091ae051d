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
  interpreter(s), the settings, a schema version, a lossless JSON form and
  the rows of its CSV. `summary()` gives the few columns a list of runs
  shows without opening each one (the store's index, the history table).

Standard library only: the bottom layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Self, runtime_checkable

from lab.core.machine import Machine

STATUSES = ("complete", "failed", "cancelled", "cut_short", "crashed")


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
class RunSummary:
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


@runtime_checkable
class LabResult(Protocol):
    """One run of one lab, as measured or as read back; every lab's result type implements it."""

    run_id: str
    created: str
    status: str
    message: str | None
    machine: Machine
    schema_version: int

    @property
    def lab(self) -> str:
        """The lab's one name (the catalog's key, the CSV's `lab` column, the store's `lab`)."""
        ...

    @property
    def settings_dict(self) -> dict[str, Any]:
        """The settings that made this run, as `LabSettings.to_dict` writes them."""
        ...

    def to_dict(self) -> dict[str, Any]: ...

    def csv_rows(self) -> list[dict[str, Any]]:
        """This run's rows of its lab's CSV (every row carries `lab` and `run_id`)."""
        ...

    def summary(self) -> RunSummary: ...


@dataclass(frozen=True)
class LabSpec:
    """One lab in the catalog: its name, how to read its records back, its CSV, and its old names.

    `read_dict` rebuilds a result from `to_dict`'s output (ResultsFormatError
    if it cannot); `read_csv` turns a CSV of this lab into records (measured
    runs lose what the CSV does not hold, so they may come back as an
    `Imported…` record that still implements `LabResult`); `csv_columns` is
    the typed header `csvtable.write_table` writes. `aliases` are the names
    older links, CSV files and code used for this lab.
    """

    name: str
    title: str
    read_dict: Callable[[Any], LabResult]
    read_csv: Callable[[str], Sequence[LabResult]]
    csv_columns: Mapping[str, str]
    aliases: tuple[str, ...] = field(default=())
