"""What runs inside a Dask worker: one of the lab's own tasks, timed in the worker thread that ran it.

This module travels by value (`lab.cluster.travel`): the run registers its
task with every worker as a `Carried` plugin, carrying its code and the code
of the few standard-library-only modules it calls, so workers and a scheduler
that cannot import GIL Lab still run it. Keep what it imports small and free
of third-party packages (`distributed` aside, which every worker has).

The task is the engine's: `lab.engine.measure.measured` runs the workload,
checks its result and reads both clocks in the calling thread. This module
only adds where it ran (the worker's address, the thread's name) and the wall
clock at its start, which lines up tasks from workers on other machines.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from lab.engine.measure import measured
from lab.engine.workloads import TaskSpec


class Carried(WorkerPlugin):
    """A run's function, held by every worker of the cluster while the run lasts (a Dask worker plugin).

    Dask sends a registered plugin to every worker, and to any that joins
    later; each task then calls it by the plugin's name (`lab.cluster.travel`).
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, *args: Any) -> Any:
        return self.function(*args)


def run_task(spec: TaskSpec, index: int) -> dict[str, Any]:
    """Run task `index` here and report it; a failed task is a result (ok False), never an exception."""
    start_wall = time.time()
    span = measured(spec, index)
    return {
        "index": index,
        "address": get_worker().address,
        "pid": span.pid,
        "tid": span.tid,
        "thread": span.worker,  # measured() names the span after the thread that ran it
        "start_wall": start_wall,
        "wall": span.wall,
        "cpu": span.cpu,
        "ok": span.ok,
        "error": span.error,
        "value": span.value,
    }


def warm_up() -> int:
    """Run once on every worker before timing: sent as the tasks are, it fails first where they would.

    Returns the worker's process id, so the driver sees every worker answered.
    """
    return os.getpid()
