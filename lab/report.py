"""Results as text for the CLI: a table for people, tidy CSV rows, JSON.

Only the standard library, so `python -m lab run` answers quickly; the page
has its own Plotly and pandas views of the same `RunResult` methods.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from lab.machine import Machine
from lab.results import RunResult

CSV_COLUMNS = (
    "schema_version",
    "run_id",
    "created",
    "status",
    "workload",
    "tasks",
    "size",
    "repeats",
    "mode",
    "seconds",
    "seconds_min",
    "seconds_max",
    "speedup",
    "cpu_seconds",
    "cores_busy",
    "startup_seconds",
    "workers",
    "ok",
    "failed",
    "error",
    "python_version",
    "gil_enabled",
    "usable_cores",
)


def mode_rows(result: RunResult) -> list[dict[str, Any]]:
    """One flat row per mode: the tidy shape of `--format csv`."""
    rows = []
    for summary in result.summaries():
        rows.append(
            {
                "schema_version": result.schema_version,
                "run_id": result.run_id,
                "created": result.created,
                "status": result.status,
                "workload": result.settings.workload,
                "tasks": result.settings.tasks,
                "size": result.settings.size,
                "repeats": result.settings.repeats,
                "mode": summary.mode,
                "seconds": round(summary.seconds, 6),
                "seconds_min": round(summary.seconds_min, 6),
                "seconds_max": round(summary.seconds_max, 6),
                "speedup": None if summary.speedup is None else round(summary.speedup, 4),
                "cpu_seconds": round(summary.cpu_seconds, 6),
                "cores_busy": round(summary.cores_busy, 4),
                "startup_seconds": round(summary.startup_seconds, 6),
                "workers": summary.workers,
                "ok": summary.ok,
                "failed": summary.failed,
                "error": summary.error or "",
                "python_version": result.machine.python_version,
                "gil_enabled": result.machine.gil_enabled,
                "usable_cores": result.machine.usable_cores,
            }
        )
    return rows


def to_csv(result: RunResult) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(mode_rows(result))
    return out.getvalue()


def machine_lines(machine: Machine) -> list[str]:
    quota = "none" if machine.cpu_quota is None else f"{machine.cpu_quota:g} cores"
    return [
        f"Python      {machine.implementation} {machine.python_version}, GIL "
        + ("enabled" if machine.gil_enabled else "disabled"),
        f"Cores       {machine.logical_cores} logical, {machine.physical_cores or '?'} physical, "
        f"{machine.affinity_cores} in this process's affinity, cgroup quota {quota}",
        f"Usable      {machine.usable_cores:g} cores (the ideal for CPU-bound speedup)",
        f"System      {machine.os} ({machine.machine}), start method {machine.start_method}",
    ]


def to_table(result: RunResult) -> str:
    settings = result.settings
    what = f"{settings.workload}: {settings.tasks} tasks"
    if settings.workload != "http":
        what += f" of size {settings.size:,}"
    else:
        what += f" from {result.target_url}"
    lines = [f"GIL Lab · {what} · {settings.repeats} repeat(s) · {result.status}"]
    header = f"{'mode':<18} {'seconds':>9} {'min–max':>15} {'speedup':>8} {'CPU s':>8} {'cores busy':>10} "
    header += f"{'start-up':>9} {'workers':>7} {'ok':>5} {'failed':>6}"
    lines += ["", header, "-" * len(header)]
    for s in result.summaries():
        spread = f"{s.seconds_min:.3f}–{s.seconds_max:.3f}" if s.repeats > 1 else ""
        speedup = f"{s.speedup:.2f}x" if s.speedup is not None else "-"
        lines.append(
            f"{s.mode:<18} {s.seconds:>9.3f} {spread:>15} {speedup:>8} {s.cpu_seconds:>8.3f} "
            f"{s.cores_busy:>10.2f} {s.startup_seconds:>9.3f} {s.workers:>7} {s.ok:>5} {s.failed:>6}"
        )
    if result.baseline_mode:
        lines.append(f"speedup = {result.baseline_mode} seconds / mode seconds; cores busy = CPU s / seconds")
    failures = result.failures()
    if failures:
        lines += ["", f"{len(failures)} task(s) failed:"]
        reasons: dict[tuple[str, str], list[int]] = {}
        for mode, _repeat, span in failures:
            reasons.setdefault((mode, span.error or "unknown error"), []).append(span.index)
        for (mode, reason), indexes in reasons.items():
            lines.append(f"  {mode}: {len(indexes)} task(s): {reason}")
    if result.message:
        lines += ["", result.message]
    lines += ["", *machine_lines(result.machine)]
    return "\n".join(lines) + "\n"
