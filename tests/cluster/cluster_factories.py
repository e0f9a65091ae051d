"""Synthetic Cluster-lab results shaped like real measurements, for the tests that need no cluster.

`make_run` lays a layout's tasks out round-robin over its worker threads,
back to back, with the CPU share a GIL-bound or GIL-free task would have:
pure-Python threads of one worker share a core, so each gets a share of it.
"""

from __future__ import annotations

from factories import make_machine

from lab.cluster.results import ClusterResult, ClusterTask, LayoutRun
from lab.cluster.settings import ClusterLayout, ClusterSettings


def make_tasks(
    layout: ClusterLayout, tasks: int, task_wall: float, cpu_share: float, gap: float
) -> list[ClusterTask]:
    """Tasks dealt round-robin to the worker threads, each thread running its share back to back."""
    rows = [
        (worker, thread) for worker, threads in enumerate(layout.worker_threads) for thread in range(threads)
    ]
    made = []
    for index in range(tasks):
        worker, thread = rows[index % len(rows)]
        start = gap + (index // len(rows)) * (task_wall + gap)
        made.append(
            ClusterTask(
                index=index,
                address=f"tcp://127.0.0.1:{40000 + worker}",
                pid=1000 + worker,
                tid=2000 + 10 * worker + thread,
                thread=f"{worker}-Dask-Default-Threads-{1000 + worker}-{thread}",
                label=f"worker {worker + 1} · thread {thread + 1}",
                start=start,
                end=start + task_wall,
                cpu=task_wall * cpu_share,
                value="ok",
            )
        )
    return made


def make_layout_run(
    position: int,
    layout: ClusterLayout,
    *,
    tasks: int = 8,
    task_wall: float = 0.3,
    cpu_share: float = 1.0,
    gap: float = 0.01,
    repeat: int = 0,
    failed: int = 0,
) -> LayoutRun:
    made = make_tasks(layout, tasks, task_wall, cpu_share, gap)
    for index in range(failed):
        made[index] = ClusterTask(
            index, "", 0, None, "", "lost", 0.5, 0.5, 0.0, False, "KilledWorker: it died"
        )
    rounds = -(-tasks // layout.slots)
    seconds = rounds * (task_wall + gap) + gap
    return LayoutRun(position, repeat, layout, seconds, 1.5, tuple(made))


def typical_run(
    workload: str = "squares",
    failed: int = 0,
    repeats: int = 1,
    threads_share: float | None = None,
    workers_wall: float = 0.3,
) -> ClusterResult:
    """1x1, 1x2, 2x1 as the workload behaves on two cores.

    Pure-Python tasks on 1x2 share one GIL: each takes twice as long at half
    a core (`threads_share` 0.5); hashing and sleeping tasks do not. 2x1 runs
    its tasks side by side unless `workers_wall` says they were slowed down.
    """
    settings = ClusterSettings.create(workload, tasks=8, size=3_000_000 if workload == "squares" else None)
    one, threads, workers = settings.layouts
    share = threads_share if threads_share is not None else (1.0 if settings.info.releases_gil else 0.5)
    cpu = 0.0 if workload == "sleep" else 1.0
    # Layout by layout, each layout's repeats in turn, as the driver runs them.
    runs = [make_layout_run(0, one, repeat=repeat, cpu_share=cpu) for repeat in range(repeats)]
    runs += [
        make_layout_run(
            1, threads, task_wall=0.3 / share, cpu_share=share * cpu, repeat=repeat, gap=0.02 + 0.01 * repeat
        )
        for repeat in range(repeats)
    ]
    runs += [
        make_layout_run(2, workers, repeat=repeat, failed=failed, task_wall=workers_wall, cpu_share=cpu)
        for repeat in range(repeats)
    ]
    return ClusterResult(settings=settings, machine=make_machine(2.0), runs=tuple(runs))


def remote_run() -> ClusterResult:
    settings = ClusterSettings.create("squares", tasks=6, size=1_000_000, scheduler="tcp://127.0.0.1:8786")
    run = make_layout_run(0, ClusterLayout.uniform(2, 1), tasks=6)
    return ClusterResult(settings=settings, machine=make_machine(2.0), runs=(run,))
