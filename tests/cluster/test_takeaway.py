"""The Cluster lab's takeaway: sentences that name the measured figures and the reason behind them."""

from __future__ import annotations

from dataclasses import replace

from cluster.cluster_factories import remote_run, typical_run

from lab.cluster.csvio import from_csv, to_csv
from lab.cluster.report import to_table
from lab.cluster.results import ClusterResult
from lab.cluster.settings import ClusterSettings
from lab.cluster.takeaway import takeaway


def test_pure_python_threads_and_workers_are_compared_in_one_sentence() -> None:
    result = typical_run()
    threads, workers = result.summaries()[1:]
    first = takeaway(result)[0]
    assert f"one worker with 2 threads ran at {threads.speedup:.2f}×" in first
    assert f"on 2 single-thread workers at {workers.speedup:.2f}×" in first
    assert "each Dask worker process has one GIL" in first


def test_hashing_is_explained_by_the_gil_being_released() -> None:
    first = takeaway(typical_run("sha256"))[0]
    assert first.startswith("Hashing tasks on one worker with 2 threads") and "releases the GIL" in first


def test_sleeping_is_explained_by_waiting_holding_no_gil() -> None:
    assert "a waiting thread holds no GIL" in takeaway(typical_run("sleep"))[0]


def test_every_run_says_what_dask_cost_per_task() -> None:
    lines = takeaway(typical_run())
    costs = [summary.overhead_ms_per_task for summary in typical_run().summaries()]
    assert any(line.startswith("Dask's own cost was about") for line in lines)
    assert f"{min(costs):.0f}" in next(line for line in lines if line.startswith("Dask's own cost"))


def test_layouts_outside_the_headline_get_a_line_each_and_too_many_slots_a_caveat() -> None:
    result = typical_run()
    settings = ClusterSettings.create("squares", tasks=8, layouts="1x1,1x2,2x1,2x2")
    extra = replace(result.runs[2], position=3, layout=settings.layouts[3])
    lines = takeaway(replace(result, settings=settings, runs=(*result.runs, extra)))
    assert any(line.startswith("2x2 (2 workers × 2 threads):") for line in lines)
    assert any("2 usable cores, so 2x2 had more threads or processes than cores" in line for line in lines)


def test_an_existing_cluster_is_described_by_its_real_layout() -> None:
    first = takeaway(remote_run())[0]
    assert first.startswith(
        "On the cluster at tcp://127.0.0.1:8786 (2 workers × 1 thread), 6 squares tasks took"
    )


def test_failures_and_how_the_run_ended_are_said() -> None:
    result = replace(typical_run(failed=2), status="crashed", message="the driver was killed")
    lines = takeaway(result)
    assert "2x1: 2 task(s) failed." in lines
    assert lines[-1] == "The run crashed: the driver was killed."
    assert "an unknown speed (tasks failed)" in lines[0]


def test_a_run_that_measured_nothing_says_only_how_it_ended() -> None:
    result = typical_run()
    empty = ClusterResult(result.settings, result.machine, (), status="cancelled", message="cancelled early")
    assert takeaway(empty) == ["The run was cancelled: cancelled early."]


def test_an_imported_run_reads_the_same() -> None:
    result = typical_run()
    (imported,) = from_csv(to_csv([result]))
    assert takeaway(imported) == takeaway(result)


def test_the_table_has_a_line_per_layout_and_the_takeaway() -> None:
    text = to_table(typical_run(failed=1))
    assert "layout     workers threads" in text
    assert [line.split()[0] for line in text.splitlines() if line[:3] in ("1x1", "1x2", "2x1")] == [
        "1x1",
        "1x2",
        "2x1",
    ]
    assert "task 0 on lost: KilledWorker: it died" in text
    assert "Takeaway:" in text


def test_numbers_the_gil_does_not_explain_are_not_explained_by_it() -> None:
    slowed = typical_run(workers_wall=0.6)  # 2x1 no faster than 1x1: something else had the second core
    first = takeaway(slowed)[0]
    assert (
        "not what one GIL per worker process predicts here (about 1.0× for 1x2, about 2.0× for 2x1)" in first
    )
    assert "each Dask worker process has one GIL" not in first


def test_threads_of_one_worker_that_gained_are_not_explained_by_one_gil() -> None:
    muddled = typical_run(threads_share=0.62, workers_wall=0.45)  # as when a browser shared the cores
    speedups = [summary.speedup or 0 for summary in muddled.summaries()]
    assert 1.15 < speedups[1] < 1.3 < speedups[2] < 1.5, speedups
    first = takeaway(muddled)[0]
    assert "not what one GIL per worker process predicts here" in first
    assert "each Dask worker process has one GIL" not in first


def test_a_first_layout_that_could_not_keep_its_core_busy_is_flagged() -> None:
    result = typical_run()
    base = result.runs[0]
    starved = replace(base, tasks=tuple(replace(task, cpu=task.cpu / 2) for task in base.tasks))
    lines = takeaway(replace(result, runs=(starved, *result.runs[1:])))
    assert any(
        line.startswith("1x1 kept only 0.48 cores busy where one thread of squares keeps one")
        for line in lines
    )
