"""The cluster runner <-> driver protocol, written down in one place.

Dask's `Client` and `LocalCluster` block (or need an event loop), and a
LocalCluster's workers are processes of the process that starts it. So the
page's process never touches Dask: a driver child process does, and reports
back on a pipe of its own, like every lab's measuring child (`lab.core.events`).

    runner (ClusterExperiment, caller's process)      driver (python -m lab.cluster.driver)
    --------------------------------------------      -------------------------------------
    start_child(driver --settings JSON --pipe FD --parent-pid PID)   (a process group of its own)
                                                ---->  tie to parent; import distributed
                      STARTED {machine, settings}  <----
      for each layout (local: start a LocalCluster of W workers x T threads; remote: connect):
         LAYOUT_STARTING {position, layout}        <----   layout: the one asked for, or None (remote)
         for each repeat:
           LAYOUT_STARTED {position, repeat, layout, workers, origin_wall}  <----  the real layout,
                                                           read from the scheduler; workers: addresses
           TASK {position, repeat, task} ...        <----   one per finished or failed task, as it ends
           LAYOUT_FINISHED {position, repeat, run}  <----   run: LayoutRun.to_dict()
         (local: the LocalCluster is closed before the next layout starts)
                      ERROR {message}              <----   the run cannot go on (then the driver exits 1)
                      DONE {}                      <----
    ClusterExperiment.poll() reads them; EOF without DONE = the driver failed or was killed.

Cancel and every other way out end the driver's process group: a
LocalCluster's nanny and worker processes are the driver's children in that
group, so they end with it. On an existing cluster only the driver ends (SIGTERM
first, so it unregisters the run's code from the cluster: lab.cluster.travel):
the scheduler drops the run's tasks once its client is gone, and a task already
running in a worker thread finishes there (a Python thread cannot be stopped).

Clocks: `origin_wall` is the driver's `time.time()` at the layout's first
submit. Each task's start is its worker's `time.time()` minus that origin, so
workers on other machines line up to within their clocks' sync (NTP); its
duration is measured with `perf_counter` and its CPU with `thread_time` in the
thread that ran it (`lab.engine.measure`).
"""

from __future__ import annotations

from typing import Final

STARTED: Final = "started"
LAYOUT_STARTING: Final = "layout_starting"
LAYOUT_STARTED: Final = "layout_started"
TASK: Final = "task"
LAYOUT_FINISHED: Final = "layout_finished"
ERROR: Final = "error"
DONE: Final = "done"
