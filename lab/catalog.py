"""Every lab by its one name: how to read its records and CSV files back, and the names it had before.

The page's history, the run store, `python -m lab runs` and the CSV importer
meet every lab through this table, never through a lab's own types: a record
says its lab (`lab`, or `kind` in files written before that key), a CSV says
it in its `lab` column, and `LABS[name]` reads it back. Older share links,
CSV files and JSON name some labs differently; `ALIASES` maps those names to
today's, and `lab_named` is the one place that reads a lab's name from
outside.

| lab | place(s) on the page | CLI subcommand | package | older names |
|---|---|---|---|---|
| `run` | `/cpu`, `/io` | `run` | `lab.run` (on `lab.engine`) | `engine`, `runs`, `cpu`, `io` |
| `web` | `/web` | `web` | `lab.web` | |
| `convoy` | `/convoy` | `convoy` | `lab.convoy` | |
| `cluster` | `/cluster` | `cluster` | `lab.cluster` | |
| `compare` | `/compare` | `compare` | `lab.compare` | |
| `sweep` | `/sweep` ("Scaling") | `sweep` | `lab.sweep` | `scaling` |
| `classics` | `/classics` | `classics` | `lab.classics` | |
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from typing import Any

from lab.classics import csvio as classics_csv
from lab.classics.results import ClassicsResult
from lab.cluster import csvio as cluster_csv
from lab.cluster.results import ClusterResult
from lab.compare import csvio as compare_csv
from lab.compare.results import CompareResult
from lab.convoy import csvio as convoy_csv
from lab.convoy.results import ConvoyResult
from lab.core.contract import COMPARE_LAB, IMPORTED, RUN_LAB, LabResult, LabSpec
from lab.core.csvtable import LAB_COLUMN, as_text
from lab.core.errors import ResultsFormatError
from lab.engine.results import RunResult
from lab.run import csvio as run_csv
from lab.sweep import csvio as sweep_csv
from lab.sweep.results import SweepResult
from lab.web import csvio as web_csv
from lab.web.results import WebResult

SPECS: tuple[LabSpec, ...] = (
    LabSpec(
        RUN_LAB,
        "CPU- and I/O-bound",
        RunResult.from_dict,
        run_csv.from_csv,
        run_csv.to_csv,
        aliases=("engine", "runs", "cpu", "io"),
    ),
    LabSpec("web", "Web server", WebResult.from_dict, web_csv.from_csv, web_csv.to_csv),
    LabSpec("convoy", "Convoy", ConvoyResult.from_dict, convoy_csv.from_csv, convoy_csv.to_csv),
    LabSpec("cluster", "Cluster", ClusterResult.from_dict, cluster_csv.from_csv, cluster_csv.to_csv),
    LabSpec(
        COMPARE_LAB, "Compare interpreters", CompareResult.from_dict, compare_csv.from_csv, compare_csv.to_csv
    ),
    LabSpec("classics", "Classics", ClassicsResult.from_dict, classics_csv.from_csv, classics_csv.to_csv),
    LabSpec(
        "sweep", "Scaling", SweepResult.from_dict, sweep_csv.from_csv, sweep_csv.to_csv, aliases=("scaling",)
    ),
)
LABS: dict[str, LabSpec] = {spec.name: spec for spec in SPECS}
ALIASES: dict[str, str] = {alias: spec.name for spec in SPECS for alias in spec.aliases}
# The CPU/I-O lab's CSV once said its workload's kind where the others said their lab.
WORKLOAD_KINDS = ("cpu", "io")


def lab_named(name: object) -> LabSpec | None:
    """The lab a name means today (its own name or an older one), or None for a name no lab has."""
    if not isinstance(name, str):
        return None
    return LABS.get(ALIASES.get(name, name))


def read_record(data: Any) -> LabResult:
    """Any lab's record from its JSON form (measured, or imported from a CSV), or ResultsFormatError."""
    if not isinstance(data, dict):
        raise ResultsFormatError("not a GIL Lab result: not a JSON object")
    named = data.get("lab", data.get("kind", RUN_LAB))  # the CPU/I-O lab's JSON had neither key
    spec = lab_named(named)
    if spec is None:
        raise ResultsFormatError(f"not a GIL Lab result: no lab is called {str(named)[:40]!r}")
    if IMPORTED not in data:
        return spec.read_dict(data)
    text = data[IMPORTED]
    if not isinstance(text, str):
        raise ResultsFormatError("an imported run's CSV is not text")
    run_id = data.get("run_id")
    found = [record for record in read_csv(text) if record.run_id == run_id]
    if len(found) != 1:
        raise ResultsFormatError(f"an imported run's CSV does not hold run {str(run_id)[:40]!r}")
    return found[0]


def csv_lab(text: str) -> LabSpec:
    """The lab a CSV file is of: its `lab` column, or in an older file its `kind` column or shape."""
    try:
        rows = list(itertools.islice(csv.reader(io.StringIO(text, newline="")), 2))
    except csv.Error as exc:
        raise ResultsFormatError(f"not a readable CSV: {exc}") from None
    header = rows[0] if rows else []
    first = rows[1] if len(rows) > 1 else []
    named: str | None = None
    for column in (LAB_COLUMN, "kind"):
        if column in header and len(first) == len(header):
            named = first[header.index(column)]
            break
    if named in WORKLOAD_KINDS or named is None:
        named = "sweep" if "scale" in header else RUN_LAB
    spec = lab_named(named)
    if spec is None:
        raise ResultsFormatError(f"not a GIL Lab CSV: no lab is called {named[:40]!r}")
    return spec


def read_csv(data: str | bytes) -> list[LabResult]:
    """Every run of a CSV of any lab, all or nothing; a comparison's runs come back as one comparison."""
    text = as_text(data)
    spec = csv_lab(text)
    if spec.name == RUN_LAB:  # a file of runs may hold comparisons too (their rows share a `series`)
        spec = LABS[COMPARE_LAB]
    return list(spec.read_csv(text))


def write_csv(records: Sequence[LabResult]) -> str:
    """One lab's records as its CSV (records of several labs make several files: see `by_lab`)."""
    labs = {record.lab for record in records}
    if len(labs) != 1:
        raise ValueError(f"one CSV holds one lab's runs, got {sorted(labs)}")
    return LABS[labs.pop()].write_csv(list(records))


def by_lab(records: Sequence[LabResult]) -> dict[str, list[LabResult]]:
    """Records grouped by lab, in the catalog's order, each group in the records' order."""
    groups: dict[str, list[LabResult]] = {spec.name: [] for spec in SPECS}
    for record in records:
        groups[record.lab].append(record)
    return {name: group for name, group in groups.items() if group}
