"""The Cluster lab's results as text for people at a terminal: the table of `python -m lab cluster`."""

from __future__ import annotations

from lab.cluster.csvio import ClusterRun
from lab.cluster.takeaway import takeaway


def to_table(run: ClusterRun) -> str:
    """Settings, machine, one line per layout, the failed tasks, then the takeaway."""
    where = "local clusters, one per layout" if run.scheduler == "local" else run.scheduler
    lines = [
        f"GIL Lab cluster: {run.settings.describe()}",
        f"Scheduler: {where}",
        f"Machine (the driver's): {run.machine.describe()}",
        "",
        f"{'layout':<10} {'workers':>7} {'threads':>7} {'seconds':>8} {'speedup':>8} {'cores busy':>10} "
        f"{'overhead ms/task':>16} {'ok':>5} {'failed':>6} {'start s':>7}",
    ]
    for s in run.summaries():
        threads = "mixed" if s.layout.threads_per_worker is None else str(s.layout.threads_per_worker)
        speedup = f"{s.speedup:.2f}x" if s.speedup is not None else "-"
        lines.append(
            f"{s.name:<10} {s.layout.workers:>7} {threads:>7} {s.seconds:>8.3f} {speedup:>8} "
            f"{s.cores_busy:>10.2f} {s.overhead_ms_per_task:>16.1f} {s.ok:>5} {s.failed:>6} "
            f"{s.startup_seconds:>7.2f}"
        )
    failed = [task for s in run.summaries() for task in s.tasks if not task.ok]
    if failed:
        lines += ["", "Failed tasks (representative repeat):"]
        lines += [f"  task {task.index} on {task.label}: {task.error}" for task in failed]
    lines += ["", "Takeaway:"] + [f"  - {line}" for line in takeaway(run)]
    return "\n".join(lines) + "\n"
