"""A cluster started by hand without GIL Lab (`dask scheduler`, two `dask worker`s): layout, speed, faults."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from cluster.cluster_helpers import TWO_CORES, HandStartedCluster, is_task, wait_for
from distributed import Client
from timing_tries import until_good

from lab.cluster.csvio import from_csv, to_csv
from lab.cluster.runner import ClusterExperiment, run_cluster
from lab.cluster.settings import ClusterSettings
from lab.core.procs import end_process_group, group_members

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
SCALED = 1.3  # cores busy: well above the one core a single GIL allows, well below the two it could reach


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[HandStartedCluster]:
    with HandStartedCluster(tmp_path) as started:
        yield started


@pytest.fixture
def fragile_cluster(tmp_path: Path) -> Iterator[HandStartedCluster]:
    """A scheduler that gives up on a task the first time its worker dies (Dask's allowed-failures = 0)."""
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    with HandStartedCluster(tmp_path, scheduler_env=env) as started:
        yield started


def children_of(pid: int) -> set[int]:
    return {child.pid for child in psutil.Process(pid).children()}


def worker_pids(cluster: HandStartedCluster) -> set[int]:
    """The processes that run tasks: the children of each `dask worker` (its nanny)."""
    return {child for proc in cluster.worker_procs for child in children_of(proc.pid)}


def leftovers(address: str) -> list[str]:
    """What a run could leave: lab modules or plugins on a worker, lab plugins on the scheduler."""
    with Client(address, timeout=10) as client:  # type: ignore[no-untyped-call]
        workers: dict[str, list[str]] = client.run(
            lambda dask_worker: (
                [name for name in sys.modules if name.split(".")[0] == "lab"]
                + [name for name in dask_worker.plugins if name.startswith("gil-lab")]
            )
        )
        scheduler: list[str] = client.run_on_scheduler(
            lambda dask_scheduler: [
                name for name in dask_scheduler.worker_plugins if name.startswith("gil-lab")
            ]
        )
    return scheduler + [name for names in workers.values() for name in names]


def test_a_cluster_without_the_lab_runs_its_tasks_on_both_workers_and_reports_the_layout(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    assert not cluster.lab_importable()  # the scheduler's and workers' folder and environment
    settings = ClusterSettings.create("squares", tasks=6, size=300_000, scheduler=cluster.address)
    result = run_cluster(settings)
    assert result.all_ok and result.scheduler == cluster.address, result.message
    (summary,) = result.summaries()
    assert (summary.name, summary.layout.workers, summary.layout.threads_per_worker) == ("2x1", 2, 1)
    ran = {task.pid for task in summary.tasks}
    assert ran <= worker_pids(cluster) and all(ran & children_of(proc.pid) for proc in cluster.worker_procs)
    assert {task.label for task in summary.tasks} == {"worker 1 · thread 1", "worker 2 · thread 1"}
    assert result.to_dict()["layouts"][0]["workers"] == 2
    assert leftovers(cluster.address) == []


@pytest.mark.timing
@TWO_CORES
def test_pure_python_tasks_use_both_workers_cores(cluster: HandStartedCluster) -> None:
    settings = ClusterSettings.create("squares", tasks=8, size=2_000_000, scheduler=cluster.address)
    tries = until_good(lambda: run_cluster(settings).summaries()[0].cores_busy, lambda busy: busy > SCALED)
    assert tries[-1] > SCALED, f"two single-thread workers kept {tries} cores busy; one GIL keeps 1"


def kill_second_worker_mid_run(experiment: ClusterExperiment, cluster: HandStartedCluster) -> int:
    """Wait for the first task to come back, then SIGKILL the second worker (nanny and process)."""
    wait_for(experiment, is_task)
    doomed = cluster.worker_procs[1]
    end_process_group(doomed)
    return doomed.pid


def test_a_killed_worker_s_tasks_are_rescheduled_and_the_run_survives(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    settings = ClusterSettings.create("squares", tasks=12, size=3_000_000, scheduler=cluster.address)
    with ClusterExperiment(settings) as experiment:
        kill_second_worker_mid_run(experiment, cluster)
        result = experiment.wait()
        driver = experiment.pid
    assert result.status == "complete", result.message
    (summary,) = result.summaries()
    assert summary.ok == 12 and summary.failed == 0  # Dask ran the dead worker's tasks on the other one
    assert summary.layout.workers == 2  # the layout the run started on
    assert driver is not None and group_members(driver) == []


def test_a_task_dask_gives_up_on_is_a_failed_task_with_the_reason(
    no_leftover_processes: None, fragile_cluster: HandStartedCluster
) -> None:
    settings = ClusterSettings.create("squares", tasks=12, size=3_000_000, scheduler=fragile_cluster.address)
    with ClusterExperiment(settings) as experiment:
        kill_second_worker_mid_run(experiment, fragile_cluster)
        result = experiment.wait()
    assert result.status == "complete", result.message
    (summary,) = result.summaries()
    failed = [task for task in summary.tasks if not task.ok]
    assert failed and summary.ok + summary.failed == 12 and not result.all_ok
    assert all(task.label == "lost" and (task.error or "").startswith("KilledWorker") for task in failed)
    (imported,) = from_csv(to_csv([result]))  # the history keeps it: export and import back
    assert imported.summaries()[0].failed == len(failed)


def test_cancel_on_an_existing_cluster_ends_only_the_driver_which_removes_the_runs_code(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    settings = ClusterSettings.create("squares", tasks=12, size=3_000_000, scheduler=cluster.address)
    with ClusterExperiment(settings) as experiment:
        wait_for(experiment, is_task)
        during = leftovers(cluster.address)  # the run's code, on the scheduler and both workers
        driver = experiment.pid
        experiment.cancel()
    assert len(during) == 3 and all(name.startswith("gil-lab-code-") for name in during), during
    assert driver is not None and group_members(driver) == []
    assert all(proc.poll() is None for proc in cluster.worker_procs)  # the person's cluster keeps running
    assert cluster.scheduler is not None and cluster.scheduler.poll() is None
    assert leftovers(cluster.address) == []  # the driver unregistered the run's code before it ended
