"""A comparison's CSV: the CPU/I-O lab's rows, one run per interpreter, joined by their `series`.

A comparison has no table of its own: each interpreter's run is a run of the
CPU/I-O lab (`lab.run.csvio`) whose rows carry the comparison's id in
`series` and `compare` in `lab`. Reading a file of such rows gives back each
comparison whole, and any plain run as itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from lab.compare.results import CompareResult
from lab.run import csvio as run_csv
from lab.run.csvio import ImportedRun, Run


def to_csv(records: Sequence[CompareResult | Run]) -> str:
    """Comparisons (and plain runs) as one CSV of runs."""
    runs: list[Run] = []
    for record in records:
        runs.extend(record.runs if isinstance(record, CompareResult) else (record,))
    return run_csv.to_csv(runs)


def from_csv(text: str | bytes) -> list[ImportedRun | CompareResult]:
    """Every run of the file; the runs of one comparison (one `series`) come back as one comparison."""
    order: list[ImportedRun | str] = []
    series: dict[str, list[ImportedRun]] = {}
    for run in run_csv.from_csv(text):
        if run.series is None:
            order.append(run)
            continue
        if run.series not in series:
            series[run.series] = []
            order.append(run.series)  # its place in the file, filled in below
        series[run.series].append(run)
    return [CompareResult.from_runs(series[item]) if isinstance(item, str) else item for item in order]
