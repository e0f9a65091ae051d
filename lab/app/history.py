"""The page's run history: every lab's runs in one list, its tables, and CSV import for all labs.

History is a plain list of runs, newest last, kept in the browser session's
state; every function here returns a new list. A run is a measured result of
any lab or one read back from CSV; the tables number runs from 1 in history
order so a row, a chart point and a "remove" choice all say "#3".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lab.catalog import read_csv
from lab.core.contract import LabResult
from lab.core.machine import Machine
from lab.run.csvio import ImportedRun, Run
from lab.web.csvio import ImportedWebRun, WebRun
from lab.web.results import WebResult


def add_runs(history: list[LabResult], runs: Iterable[LabResult]) -> list[LabResult]:
    """A new history with `runs` appended, skipping any run_id already present."""
    result = list(history)
    seen = {run.run_id for run in result}
    for run in runs:
        if run.run_id not in seen:
            result.append(run)
            seen.add(run.run_id)
    return result


def remove_run(history: list[LabResult], run_id: str) -> list[LabResult]:
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
    steadiness = getattr(run, "steadiness", None)
    if steadiness is not None and not steadiness.steady:
        parts.append("machine not steady")
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


def is_web_run(run: object) -> bool:
    """True for web-lab runs, measured or imported: the page's history holds both labs' runs."""
    return isinstance(run, WebResult | ImportedWebRun)


def import_any_csv(history: list[LabResult], data: str | bytes) -> tuple[list[LabResult], int]:
    """Add a CSV of any lab to a history (its `lab` column says which), all or nothing; known runs skipped."""
    updated = add_runs(history, read_csv(data))
    return updated, len(updated) - len(history)


def web_history_table(runs: list[WebRun]) -> list[dict[str, Any]]:
    """One row per web run for the page's history table: the best throughput and how close to its ceiling."""
    rows = []
    for number, run in enumerate(runs, start=1):
        summaries = run.summaries()
        best = max(summaries, key=lambda summary: summary.throughput, default=None)
        share = best.share_of_ceiling if best is not None else None
        rows.append(
            {
                "run": number,
                "time": run.created.replace("T", " ")[:19],
                "endpoints": ", ".join(run.settings.endpoints),
                "clients": run.settings.clients,
                "latency ms": run.settings.latency_ms,
                "thread pool": run.settings.threadpool,
                "server processes": run.settings.server_workers,
                "best endpoint": best.endpoint if best else None,
                "req/s": round(best.throughput, 1) if best else None,
                "of ceiling": f"{share:.0%}" if share is not None else None,
                "status": run.status,
                "source": "imported" if isinstance(run, ImportedWebRun) else "measured",
            }
        )
    return rows
