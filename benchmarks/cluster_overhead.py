"""What a Dask cluster costs per task over the lab's own process pool, on the same work.

Runs the same tasks on LocalClusters (`python -m lab cluster`'s runner) and
in the CPU-bound lab's `processes` mode, and gives both the Cluster lab's
overhead per task: (wall seconds x task slots - the tasks' own wall time) /
tasks. The processes mode's wall time includes starting its pool, so it is
shown with and without that start; a cluster's start is never counted.

Run: python benchmarks/cluster_overhead.py [--workload squares] [--tasks 8] [--size 3000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.cluster.results import overhead_ms_per_task
from lab.cluster.runner import run_cluster
from lab.cluster.settings import ClusterSettings
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="squares")
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--size", type=int, default=3_000_000)
    parser.add_argument("--layouts", default="1x1,2x1")
    parser.add_argument("--workers", type=int, default=2, help="processes of the processes mode")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cluster = ClusterSettings.create(args.workload, tasks=args.tasks, size=args.size, layouts=args.layouts)
    pool = RunSettings.create(
        args.workload, tasks=args.tasks, size=args.size, modes="processes", workers=args.workers
    )
    rows: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(args.rounds):
        for summary in run_cluster(cluster).summaries():
            rows.setdefault(f"cluster {summary.name}", []).append(
                (summary.seconds, summary.overhead_ms_per_task, summary.startup_seconds)
            )
        for run in run_experiment(pool).runs:
            walls = [span.wall for span in run.spans]
            with_start = overhead_ms_per_task(run.seconds, run.workers, walls, args.tasks)
            without = overhead_ms_per_task(run.seconds - run.startup_seconds, run.workers, walls, args.tasks)
            rows.setdefault(f"processes x{run.workers} (pool start counted)", []).append(
                (run.seconds, with_start, run.startup_seconds)
            )
            rows.setdefault(f"processes x{run.workers} (pool start not counted)", []).append(
                (run.seconds - run.startup_seconds, without, run.startup_seconds)
            )
    print(f"{args.tasks} {args.workload} tasks of {args.size:,}, median of {args.rounds} rounds")
    print(f"{'':<40} {'seconds':>8} {'overhead ms/task':>17} {'start s':>8}")
    for name, values in rows.items():
        seconds, overhead, start = (statistics.median(column) for column in zip(*values, strict=True))
        print(f"{name:<40} {seconds:>8.3f} {overhead:>17.1f} {start:>8.2f}")


if __name__ == "__main__":
    main()
