"""What runs inside a Dask worker: one of the lab's own tasks, timed in the worker thread that ran it.

Dask ships `run_task` to its workers by reference (module and name), so every
worker must be able to import GIL Lab, as every Dask worker must import the
code of the tasks it runs: a LocalCluster's workers inherit the driver's
path, and a cluster started by hand needs this checkout on its PYTHONPATH
(`warm_up` finds out before any timing starts and says so in one line).

The task is the engine's: `lab.engine.measure.measured` runs the workload,
checks its result and reads both clocks in the calling thread. This module
only adds where it ran (the worker's address, the thread's name) and the wall
clock at its start, which lines up tasks from workers on other machines.
"""

from __future__ import annotations

import os
import time
from typing import Any

from distributed import get_worker

from lab.engine.measure import measured
from lab.engine.workloads import TaskSpec


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
    """Run once on every worker before timing: importing this module there is the point.

    Returns the worker's process id, so the driver sees every worker answered.
    """
    return os.getpid()
