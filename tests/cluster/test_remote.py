"""A cluster started by hand (`dask scheduler`, two single-thread `dask worker`s): layout, scaling, faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from cluster.cluster_helpers import TWO_CORES, HandStartedCluster, is_task, wait_for

from lab.cluster.csvio import from_csv, to_csv
from lab.cluster.runner import ClusterExperiment, run_cluster
from lab.cluster.settings import ClusterSettings
from lab.core.errors import RunFailed
from lab.core.procs import child_env, end_process_group, group_members

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
SCALED = 1.3  # cores busy: well above the one core a single GIL allows, well below the two it could reach


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[HandStartedCluster]:
    with HandStartedCluster(tmp_path) as started:
        yield started


@pytest.fixture
def fragile_cluster(tmp_path: Path) -> Iterator[HandStartedCluster]:
    """A scheduler that gives up on a task the first time its worker dies (Dask's allowed-failures = 0)."""
    env = child_env({"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"})
    with HandStartedCluster(tmp_path, scheduler_env=env) as started:
        yield started


def worker_pids(cluster: HandStartedCluster) -> set[int]:
    """The processes that run tasks: the children of each `dask worker` (its nanny)."""
    return {child.pid for proc in cluster.worker_procs for child in psutil.Process(proc.pid).children()}


def test_a_run_reports_the_clusters_real_layout_and_its_worker_processes(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    settings = ClusterSettings.create("squares", tasks=6, size=300_000, scheduler=cluster.address)
    result = run_cluster(settings)
    assert result.all_ok and result.scheduler == cluster.address
    (summary,) = result.summaries()
    assert (summary.name, summary.layout.workers, summary.layout.threads_per_worker) == ("2x1", 2, 1)
    assert {task.pid for task in summary.tasks} <= worker_pids(cluster)
    assert {task.label for task in summary.tasks} == {"worker 1 · thread 1", "worker 2 · thread 1"}
    assert result.to_dict()["layouts"][0]["workers"] == 2


@pytest.mark.timing
@TWO_CORES
def test_pure_python_tasks_use_both_workers_cores(cluster: HandStartedCluster) -> None:
    settings = ClusterSettings.create("squares", tasks=8, size=2_000_000, scheduler=cluster.address)
    busy = 0.0
    for _ in range(3):  # best of three: the host is shared
        (summary,) = run_cluster(settings).summaries()
        busy = max(busy, summary.cores_busy)
        if busy > SCALED:
            break
    assert busy > SCALED, f"two single-thread workers kept only {busy:.2f} cores busy; one GIL keeps 1"


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


def test_cancel_on_an_existing_cluster_ends_only_the_driver(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    settings = ClusterSettings.create("squares", tasks=12, size=3_000_000, scheduler=cluster.address)
    with ClusterExperiment(settings) as experiment:
        wait_for(experiment, is_task)
        driver = experiment.pid
        experiment.cancel()
    assert driver is not None and group_members(driver) == []
    assert all(proc.poll() is None for proc in cluster.worker_procs)  # the person's cluster keeps running
    assert cluster.scheduler is not None and cluster.scheduler.poll() is None


def without_the_lab() -> dict[str, str]:
    """An environment in which Python cannot import GIL Lab: no PYTHONPATH, nor the folder it starts in."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return {**env, "PYTHONSAFEPATH": "1"}


def test_workers_that_cannot_import_the_lab_are_one_error_line(
    no_leftover_processes: None, tmp_path: Path
) -> None:
    with HandStartedCluster(tmp_path, workers=1, worker_env=without_the_lab()) as started:
        settings = ClusterSettings.create("sleep", tasks=2, size=10, scheduler=started.address)
        with pytest.raises(RunFailed) as error:
            run_cluster(settings)
    message = str(error.value)
    assert "workers of the cluster at tcp://" in message
    assert "cannot run GIL Lab's tasks (ModuleNotFoundError: No module named 'lab')" in message
    assert "start them with this checkout on their PYTHONPATH" in message and "\n" not in message


def test_a_scheduler_that_cannot_import_the_lab_is_one_error_line(
    no_leftover_processes: None, tmp_path: Path
) -> None:
    with HandStartedCluster(tmp_path, workers=1, scheduler_env=without_the_lab()) as started:
        settings = ClusterSettings.create("sleep", tasks=2, size=10, scheduler=started.address)
        with pytest.raises(RunFailed) as error:
            run_cluster(settings)
    message = str(error.value)
    assert "the scheduler of the cluster at tcp://" in message and "cannot read GIL Lab's tasks" in message
    assert (
        "start it with this checkout on its PYTHONPATH, like the workers" in message and "\n" not in message
    )
