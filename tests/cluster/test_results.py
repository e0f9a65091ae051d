"""The Cluster lab's results: figures per layout, the overhead's definition, and a lossless JSON form."""

from __future__ import annotations

import json

import pytest
from cluster.cluster_factories import make_layout_run, remote_run, typical_run

from lab.cluster.results import ClusterResult, LayoutRun, overhead_ms_per_task
from lab.cluster.settings import ClusterLayout
from lab.core.errors import ResultsFormatError


def test_overhead_is_the_slots_time_outside_any_task_per_task() -> None:
    # 2 slots for 2.1 s = 4.2 slot-seconds; 4 tasks of 1 s fill 4 of them: 0.2 s over 4 tasks = 50 ms.
    assert overhead_ms_per_task(2.1, 2, [1.0] * 4, 4) == pytest.approx(50.0)


def test_overhead_counts_no_more_slots_than_tasks() -> None:
    # One task on a 4-thread worker: three idle threads are not overhead, only the one that ran it.
    assert overhead_ms_per_task(1.05, 4, [1.0], 1) == pytest.approx(50.0)


def test_overhead_is_never_negative_and_zero_without_tasks() -> None:
    assert overhead_ms_per_task(1.0, 1, [1.2], 1) == 0.0
    assert overhead_ms_per_task(1.0, 2, [], 0) == 0.0


def test_a_layout_run_reads_cores_busy_and_overhead_from_its_tasks() -> None:
    run = make_layout_run(0, ClusterLayout.uniform(2, 1), tasks=4, task_wall=1.0, gap=0.0)
    assert (run.ok, run.failed, run.seconds) == (4, 0, 2.0)
    assert run.cpu_seconds == pytest.approx(4.0) and run.cores_busy == pytest.approx(2.0)
    assert run.overhead_ms_per_task == pytest.approx(0.0)


def test_speedups_are_against_the_first_layout() -> None:
    base, threads, workers = typical_run().summaries()
    assert base.speedup == 1.0
    assert threads.speedup == pytest.approx(base.seconds / threads.seconds)
    assert workers.speedup == pytest.approx(2.0, rel=0.05)
    assert threads.cores_busy == pytest.approx(1.0, rel=0.05)


def test_a_layout_that_lost_tasks_has_no_speedup_and_the_run_is_not_all_ok() -> None:
    result = typical_run(failed=2)
    workers = result.summaries()[2]
    assert (workers.speedup, workers.ok, workers.failed) == (None, 6, 2)
    assert not result.all_ok and typical_run().all_ok
    assert [(layout, task.index, task.error) for layout, _, task in result.failures()] == [
        ("2x1", 0, "KilledWorker: it died"),
        ("2x1", 1, "KilledWorker: it died"),
    ]


def test_repeats_give_medians_counts_over_all_and_the_representative_tasks() -> None:
    result = typical_run(repeats=3)
    threads = result.summaries()[1]
    seconds = sorted(run.seconds for run in result.runs if run.position == 1)
    assert threads.repeats == 3 and threads.seconds == seconds[1]
    assert (threads.seconds_min, threads.seconds_max) == (seconds[0], seconds[2])
    assert threads.ok == 24
    typical = next(run for run in result.runs if run.position == 1 and run.seconds == seconds[1])
    assert threads.tasks == typical.tasks


def test_a_run_that_was_cut_short_is_not_all_ok_even_without_failures() -> None:
    result = typical_run()
    assert not ClusterResult(result.settings, result.machine, result.runs[:2]).all_ok
    assert not ClusterResult(result.settings, result.machine, result.runs, status="cancelled").all_ok


def test_the_json_has_the_documented_fields() -> None:
    data = json.loads(typical_run().to_json())
    assert {"schema_version", "scheduler", "layouts", "machine"} <= set(data)
    assert data["scheduler"] == "local" and data["kind"] == "cluster"
    keys = {"layout", "workers", "threads_per_worker", "seconds", "speedup", "cores_busy"}
    keys |= {"overhead_ms_per_task", "ok", "failed", "tasks"}
    assert [layout["layout"] for layout in data["layouts"]] == ["1x1", "1x2", "2x1"]
    for layout in data["layouts"]:
        assert keys <= set(layout)
        assert {"address", "pid", "tid", "label", "start", "end", "cpu"} <= set(layout["tasks"][0])
    assert data["layouts"][2]["workers"] == 2 and data["layouts"][2]["threads_per_worker"] == 1
    assert json.loads(remote_run().to_json())["scheduler"] == "tcp://127.0.0.1:8786"


@pytest.mark.parametrize("result", [typical_run(repeats=2), typical_run(failed=1), remote_run()])
def test_from_dict_rebuilds_the_same_result(result: ClusterResult) -> None:
    again = ClusterResult.from_json(result.to_json())
    assert again == result
    assert again.to_json() == result.to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "web"}, "its kind is not 'cluster'"),
        ({"schema_version": 99}, "schema version 99"),
        ({"status": "exploded"}, "unknown status"),
        ({"settings": {"workload": "http"}}, "not a GIL Lab cluster result"),
        ({"layouts": [{"repeats": [{"position": 0}]}]}, "not a GIL Lab cluster result"),
    ],
)
def test_a_foreign_or_broken_result_is_refused_in_one_line(change: dict[str, object], message: str) -> None:
    data = {**typical_run().to_dict(), **change}
    with pytest.raises(ResultsFormatError, match=message) as error:
        ClusterResult.from_dict(data)
    assert "\n" not in str(error.value)
    with pytest.raises(ResultsFormatError, match="not JSON"):
        ClusterResult.from_json("{oops")


def test_a_layout_run_survives_its_dict_form() -> None:
    run = make_layout_run(1, ClusterLayout((1, 2)), tasks=5, failed=1)
    assert LayoutRun.from_dict(run.to_dict()) == run
