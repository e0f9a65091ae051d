"""Each lab's records as the store keeps them: which lab a record is, its JSON, its list columns, and back.

A stand-in for the catalog (`lab.catalog`, issue 17): until every result type
has `lab` and `summary()`, this module knows the six labs' result types. It
uses a record's own `summary()` where the record has one, so the store needs
no change when the catalog lands.

Measured runs are stored as their lossless `to_dict()`. A run read from a CSV
has no JSON form of its own yet, so it is kept as its CSV row(s) inside a small
envelope (`kind: "imported"`) and read back with its lab's CSV reader: what
the CSV held, nothing invented.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lab.cluster import csvio as cluster_csv
from lab.cluster.results import ClusterResult
from lab.convoy import csvio as convoy_csv
from lab.convoy.results import ConvoyResult
from lab.core.contract import RunSummary
from lab.core.csvtable import as_text
from lab.core.errors import ResultsFormatError
from lab.core.machine import Machine
from lab.engine import csvio as engine_csv
from lab.engine.compare import CompareResult
from lab.engine.csvio import ImportedRun
from lab.engine.results import RunInterpreter, RunResult
from lab.sweep import csvio as sweep_csv
from lab.sweep.results import SweepResult
from lab.web import csvio as web_csv
from lab.web.results import WebResult

IMPORTED = "imported"
ENVELOPE_VERSION = 1


def read_engine_csv(text: str) -> list[Any]:
    """The CPU/I-O lab's runs; the runs of one comparison (one `series`) come back as one CompareResult."""
    order: list[str | ImportedRun] = []
    series: dict[str, list[ImportedRun]] = {}
    for run in engine_csv.from_csv(text):
        if run.series is None:
            order.append(run)
            continue
        if run.series not in series:
            series[run.series] = []
            order.append(run.series)
        series[run.series].append(run)
    return [CompareResult.from_runs(series[item]) if isinstance(item, str) else item for item in order]


@dataclass(frozen=True)
class LabCodec:
    """How the store reads and writes one lab's records."""

    name: str
    kind: str | None  # the `kind` field of its JSON; None for the CPU/I-O lab's RunResult, which has none
    types: tuple[type, ...]
    read_dict: Callable[[Any], Any]
    read_csv: Callable[[str], list[Any]]
    write_csv: Callable[[Any], str]
    csv_column: str | None  # a header column only this lab's CSV has (None: the default, the CPU/I-O lab's)


LABS: tuple[LabCodec, ...] = (
    LabCodec(
        "compare",
        "compare",
        (CompareResult,),
        CompareResult.from_dict,
        read_engine_csv,
        lambda r: engine_csv.to_csv(list(r.runs)),
        None,
    ),
    LabCodec(
        "run",
        None,
        (RunResult, ImportedRun),
        RunResult.from_dict,
        read_engine_csv,
        lambda r: engine_csv.to_csv([r]),
        None,
    ),
    LabCodec(
        "web",
        "web",
        (WebResult, web_csv.ImportedWebRun),
        WebResult.from_dict,
        lambda t: list(web_csv.from_csv(t)),
        lambda r: web_csv.to_csv([r]),
        "endpoint",
    ),
    LabCodec(
        "cluster",
        "cluster",
        (ClusterResult, cluster_csv.ImportedClusterRun),
        ClusterResult.from_dict,
        lambda t: list(cluster_csv.from_csv(t)),
        lambda r: cluster_csv.to_csv([r]),
        "layout",
    ),
    LabCodec(
        "convoy",
        "convoy",
        (ConvoyResult, convoy_csv.ImportedConvoyRun),
        ConvoyResult.from_dict,
        lambda t: list(convoy_csv.from_csv(t)),
        lambda r: convoy_csv.to_csv([r]),
        "cpu_threads",
    ),
    LabCodec(
        "sweep",
        "sweep",
        (SweepResult,),
        SweepResult.from_dict,
        lambda t: list(sweep_csv.from_csv(t)),
        lambda r: sweep_csv.to_csv([r]),
        "scale",
    ),
)
BY_NAME: Mapping[str, LabCodec] = {codec.name: codec for codec in LABS}
LAB_NAMES = tuple(sorted(BY_NAME))


def codec_of(record: Any) -> LabCodec:
    for codec in LABS:
        if isinstance(record, codec.types):
            return codec
    raise ResultsFormatError(f"not a GIL Lab run: {type(record).__name__}")


def lab_of(record: Any) -> str:
    return str(getattr(record, "lab", None) or codec_of(record).name)


def is_imported(record: Any) -> bool:
    """True for a run read back from a CSV (it has no lossless JSON form of its own yet)."""
    if isinstance(record, CompareResult):
        return not all(isinstance(run, RunResult) for run in record.runs)
    return not isinstance(record, RunResult | WebResult | ClusterResult | ConvoyResult | SweepResult)


def record_dict(record: Any) -> dict[str, Any]:
    """The JSON the store keeps for a record: its own `to_dict()`, or its CSV inside an envelope."""
    if not is_imported(record):
        data: dict[str, Any] = record.to_dict()
        return data
    codec = codec_of(record)
    return {
        "schema_version": ENVELOPE_VERSION,
        "kind": IMPORTED,
        "lab": codec.name,
        "run_id": record.run_id,
        "created": record.created,
        "csv": codec.write_csv(record),
    }


def lab_of_dict(data: Any) -> str:
    """Which lab wrote a stored JSON: its `kind`, the envelope's `lab`, or "run" (RunResult has no kind)."""
    if not isinstance(data, dict):
        raise ResultsFormatError("not a GIL Lab record: not a JSON object")
    kind = data.get("kind")
    if kind == IMPORTED:
        kind = data.get("lab")
    if kind is None:
        return "run"
    for codec in LABS:
        if codec.name == kind or codec.kind == kind:
            return codec.name
    raise ResultsFormatError(f"not a GIL Lab record: unknown kind {str(kind)[:40]!r}")


def decode(data: Any) -> Any:
    """A stored JSON back as its lab's record; ResultsFormatError (one line) when it no longer reads."""
    codec = BY_NAME[lab_of_dict(data)]
    if data.get("kind") != IMPORTED:
        return codec.read_dict(data)
    text = data.get("csv")
    if not isinstance(text, str):
        raise ResultsFormatError("an imported run without its CSV")
    records = codec.read_csv(as_text(text))
    if len(records) != 1:
        raise ResultsFormatError(f"an imported run whose CSV holds {len(records)} runs, not 1")
    return records[0]


def best(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def interpreter_label(interpreter: RunInterpreter | None, machine: Machine | None) -> str:
    if interpreter is not None:
        return f"{interpreter.name} ({'GIL on' if interpreter.gil_enabled else 'GIL off'})"
    if machine is None:
        return "?"
    gil = "GIL on" if machine.gil_enabled else "GIL off"
    return f"{machine.implementation} {machine.python_version} ({gil})"


def engine_speedup(run: Any) -> float | None:
    base = run.baseline_mode
    return best(summary.speedup for summary in run.summaries() if summary.mode != base)


def summarise(record: Any) -> RunSummary:
    """The list columns of a record: its own `summary()` when it has the contract's, else per lab."""
    own = getattr(record, "summary", None)
    if callable(own):
        try:
            summary = own()
        except TypeError:  # RunResult.summary(mode) is the per-mode summary, not the contract's
            summary = None
        if isinstance(summary, RunSummary):
            return summary
    lab = lab_of(record)
    machine: Machine | None = getattr(record, "machine", None)
    workload: str | None = None
    interpreters: tuple[str, ...] = ()
    headline: float | None = None
    label: str | None = None
    if lab == "run":
        settings = record.settings
        workload = settings.function if settings.workload == "function" else settings.workload
        interpreters = (interpreter_label(record.interpreter, machine),)
        headline, label = engine_speedup(record), "speedup"
    elif lab == "compare":
        workload = record.settings.base.workload
        interpreters = tuple(interpreter_label(run.interpreter, run.machine) for run in record.runs)
        headline, label = best(engine_speedup(run) for run in record.runs), "speedup"
    elif lab == "sweep":
        workload = record.settings.base.workload
        interpreters = tuple(record.interpreters)
        headline, label = best(record.speedup(point) for point in record.points), "speedup"
    elif lab == "cluster":
        workload = record.settings.workload
        interpreters = (interpreter_label(None, machine),)
        headline, label = best(s.speedup for s in record.summaries()[1:]), "speedup"
    elif lab == "web":
        workload = ",".join(record.settings.endpoints)
        interpreters = (interpreter_label(None, machine),)
        headline, label = best(s.throughput for s in record.summaries()), "req/s"
    elif lab == "convoy":
        workload = "convoy"
        interpreters = (interpreter_label(record.interpreter, machine),)
        headline, label = best(s.p99_ms for s in record.summaries()), "worst p99 ms"
    return RunSummary(
        lab=lab,
        run_id=str(record.run_id),
        created=str(record.created),
        status=str(record.status),
        workload=workload,
        interpreters=interpreters,
        headline=headline,
        headline_label=label if headline is not None else None,
        usable_cores=machine.usable_cores if machine is not None else None,
        cpu_model=machine.cpu_model if machine is not None else None,
        steady=None,
    )


def runs_code(record: Any) -> bool:
    """True for a run of the visitor's own code (the `function` workload): never served in public mode."""
    settings = getattr(record, "settings", None)
    base = getattr(settings, "base", settings)
    return getattr(base, "workload", None) == "function"


def read_any_csv(data: str | bytes) -> list[Any]:
    """The runs of a CSV of any lab (its header says which), all or nothing (ResultsFormatError)."""
    text = as_text(data)
    header = text.split("\n", 1)[0].strip().split(",")
    codec = next((c for c in LABS if c.csv_column is not None and c.csv_column in header), BY_NAME["run"])
    return codec.read_csv(text)
