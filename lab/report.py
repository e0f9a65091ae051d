"""Results as text for people at a terminal: the table of `python -m lab run`.

Only the standard library, so the CLI answers quickly; the page has its own
Plotly and pandas views of the same `RunResult` methods, and both export the
one tidy CSV of `lab.history`.
"""

from __future__ import annotations

from lab.machine import Machine
from lab.results import RunResult


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
