"""What a Dask cluster costs per task over the lab's own process pool, on the same work.

Runs the same tasks on LocalClusters (`python -m lab cluster`'s runner) and
in the CPU-bound lab's `processes` mode, and gives both the Cluster lab's
overhead per task: (wall seconds x task slots - the tasks' own wall time) /
tasks. The processes mode's wall time includes starting its pool, so it is
shown with and without that start; a cluster's start is never counted.

With --travel it measures instead what sending the lab's task by value adds
(`lab.cluster.travel`): the bytes of the worker plugin that carries the code,
unpacking it on a worker, registering and removing it, Dask's version check,
and Dask's whole cost per task for many tiny tasks on one LocalCluster, sent
three ways, interleaved round by round: by reference (the workers import GIL
Lab), by value in every task, and by value once per run (the plugin, what the
driver does; its round includes registering and removing it).

Run: python benchmarks/cluster_overhead.py [--workload squares] [--tasks 8] [--size 3000000] [--rounds 3]
     python benchmarks/cluster_overhead.py --travel [--tasks 200] [--size 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import functools
import logging
import operator
import pickle
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cloudpickle

from lab.cluster.results import overhead_ms_per_task
from lab.cluster.runner import run_cluster
from lab.cluster.settings import ClusterSettings
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings

TRAVEL_LAYOUT_WORKERS = 2


def unpack_times(blob: bytes, times: int) -> list[float]:
    """Seconds to rebuild the task from its bytes, `times` times, where it runs (a worker)."""
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        pickle.loads(blob)
        seconds.append(time.perf_counter() - started)
    return seconds


def travel(tasks: int, size: int, rounds: int) -> None:
    """Bytes and time per run, and Dask's cost per task sent by reference, by value per task, per run."""
    from dask.task_spec import Task
    from distributed import Client, LocalCluster, wait

    from lab.cluster.driver import task_spec
    from lab.cluster.task import run_task
    from lab.cluster.travel import Travelling, tasks_by_value

    spec = task_spec(ClusterSettings.create("squares", tasks=tasks, size=size))
    travelling = Travelling(run_task, spec)
    packed = travelling.packed()
    with tasks_by_value():
        blob = cloudpickle.dumps(functools.partial(run_task, spec))  # the bytes a per-task way would carry
    in_every_task = Task(None, pickle.loads, blob)
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=TRAVEL_LAYOUT_WORKERS,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        loads_s = client.submit(unpack_times, packed, 50, pure=False).result()
        checks, registrations = [], []
        for _ in range(10):
            started = time.perf_counter()
            client.get_versions()
            checks.append(time.perf_counter() - started)
            started = time.perf_counter()
            with Travelling(run_task, spec).on(client):
                pass
            registrations.append(time.perf_counter() - started)
        per_task: dict[str, list[float]] = {"by reference": [], "in every task": [], "once per run": []}
        for _ in range(rounds):
            for way in per_task:
                token = uuid.uuid4().hex[:8]
                started = time.perf_counter()
                if way == "once per run":  # what the driver does: a worker plugin, registered and removed
                    with Travelling(run_task, spec).on(client) as sent:
                        futures = [sent.submit(i, key=f"o-{token}-{i}") for i in range(tasks)]
                        wait(futures)
                elif way == "in every task":  # each task carries the bytes and unpacks them itself
                    futures = [
                        client.submit(operator.call, in_every_task, i, key=f"e-{token}-{i}", pure=False)
                        for i in range(tasks)
                    ]
                    wait(futures)
                else:  # the workers import GIL Lab (a LocalCluster's do)
                    futures = [
                        client.submit(run_task, spec, i, key=f"r-{token}-{i}", pure=False)
                        for i in range(tasks)
                    ]
                    wait(futures)
                per_task[way].append((time.perf_counter() - started) / tasks * TRAVEL_LAYOUT_WORKERS)
                assert all(future.result()["ok"] for future in futures)
                del futures
    print(f"the code as a worker plugin: {len(packed):,} bytes, sent once per run to each worker")
    print(f"unpacking it on a worker: median {statistics.median(loads_s) * 1e3:.2f} ms")
    print(f"registering and removing it: median {statistics.median(registrations) * 1e3:.2f} ms")
    print(f"the version check (Client.get_versions): median {statistics.median(checks) * 1e3:.2f} ms")
    print(f"per task instead: {len(blob):,} bytes in every task message")
    print(f"{tasks} tasks of squares {size:,} on a 2x1 LocalCluster, median of {rounds} interleaved rounds")
    print("(a worker's share of the wall time per task: wall seconds x 2 workers / tasks):")
    for way, values in per_task.items():
        print(
            f"  {way:<13} {statistics.median(values) * 1e3:6.2f} ms "
            f"(rounds: {', '.join(f'{v * 1e3:.2f}' for v in values)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="squares")
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--size", type=int, default=3_000_000)
    parser.add_argument("--layouts", default="1x1,2x1")
    parser.add_argument("--workers", type=int, default=2, help="processes of the processes mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--travel", action="store_true", help="measure what sending the task by value adds")
    args = parser.parse_args()
    if args.travel:
        travel(args.tasks, args.size, args.rounds)
        return
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
