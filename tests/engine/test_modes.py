"""Every mode runs the same tasks and gets the same, checked, results; and the GIL shows."""

from __future__ import annotations

import itertools

import pytest

from lab.core.machine import current_machine
from lab.engine.latency_server import EmbeddedServer
from lab.engine.modes import ModePlan, run_mode
from lab.engine.results import ModeRun, TaskSpan
from lab.engine.runner import run_experiment
from lab.engine.settings import MODES, RunSettings
from lab.engine.workloads import TaskSpec, workload_for

SMALL_SIZES = {"squares": 20_000, "sha256": 3 * 1024 * 1024 + 5, "sleep": 20}
TASKS = 4
# Subinterpreters with their own GIL need 3.12+: the interpreters mode runs in a real worker under
# those Pythons in test_interpreters_runs.py; everything else runs here, in this process.
IN_PROCESS_MODES = tuple(mode for mode in MODES if mode != "interpreters")


def plan_for(spec: TaskSpec, tasks: int = TASKS, processes: int = 2, threads: int | None = None) -> ModePlan:
    spec = TaskSpec(**{**spec.__dict__, "expected_value": workload_for(spec).reference_value(spec)})
    return ModePlan(spec=spec, tasks=tasks, processes=processes, threads=threads, start_method=None)


def run(mode: str, plan: ModePlan) -> tuple[ModeRun, list[TaskSpan]]:
    streamed: list[TaskSpan] = []
    return run_mode(mode, 0, plan, streamed.append), streamed


@pytest.mark.parametrize("mode", IN_PROCESS_MODES)
@pytest.mark.parametrize("workload", sorted(SMALL_SIZES))
def test_every_mode_gives_the_same_checked_results(workload: str, mode: str) -> None:
    spec = TaskSpec(workload, SMALL_SIZES[workload])
    result, streamed = run(mode, plan_for(spec))
    assert result.error is None
    assert [span.index for span in result.spans] == list(range(TASKS))
    assert all(span.ok for span in result.spans), [span.error for span in result.spans]
    assert sorted(span.index for span in streamed) == list(range(TASKS))
    if workload != "sleep":
        batch, _ = run("batch", plan_for(spec))
        assert [span.value for span in result.spans] == [span.value for span in batch.spans]
    for span in result.spans:
        assert 0 <= span.start <= span.end <= result.seconds + 1e-6
        assert span.cpu >= 0


@pytest.mark.parametrize("mode", IN_PROCESS_MODES)
def test_http_in_every_mode(mode: str, latency_server: EmbeddedServer, tmp_path) -> None:
    spec = TaskSpec(
        "http",
        1,
        url=latency_server.url(20, 5000),
        expected_bytes=5000,
        download_dir=str(tmp_path),
        timeout_s=5,
    )
    result, _ = run(mode, plan_for(spec))
    assert all(span.ok for span in result.spans), [span.error for span in result.spans]
    assert [span.value for span in result.spans] == ["5000 bytes"] * TASKS
    assert list(tmp_path.iterdir()) == []  # each body was deleted once counted: disk use stays bounded


def test_processes_spread_over_several_pids_and_threads_stay_in_one() -> None:
    plan = plan_for(TaskSpec("sleep", 150))
    processes, _ = run("processes", plan)
    threads, _ = run("threads", plan)
    assert len({span.pid for span in processes.spans}) == 2
    assert len({span.pid for span in threads.spans}) == 1
    assert len({span.worker for span in threads.spans}) == TASKS
    assert processes.workers == 2 and threads.workers == TASKS


def test_a_thread_pool_reuses_its_threads() -> None:
    result, _ = run("threads", plan_for(TaskSpec("sleep", 10), tasks=6, threads=2))
    assert len({span.worker for span in result.spans}) <= 2
    assert result.workers == 2


@pytest.mark.timing
def test_fifty_sleeps_overlap_in_threads_and_asyncio() -> None:
    plan = plan_for(TaskSpec("sleep", 200), tasks=50)
    for mode in ("threads", "asyncio"):
        result, _ = run(mode, plan)
        assert result.seconds < 2.0, f"{mode} took {result.seconds:.2f} s for 50 x 200 ms"


@pytest.mark.timing
def test_blocking_inside_async_def_serialises_but_native_and_to_thread_overlap() -> None:
    plan = plan_for(TaskSpec("sleep", 100), tasks=4, threads=4)
    blocking, _ = run("asyncio_blocking", plan)
    native, _ = run("asyncio", plan)
    to_thread, _ = run("asyncio_to_thread", plan)
    assert blocking.seconds >= 0.4
    ends = sorted(span.end for span in blocking.spans)
    starts = sorted(span.start for span in blocking.spans)
    assert all(start >= end - 1e-3 for start, end in zip(starts[1:], ends, strict=False)), (
        "blocking tasks overlapped"
    )
    assert native.seconds < 0.3 and to_thread.seconds < 0.3


def test_to_thread_is_capped_by_the_default_executor() -> None:
    result, _ = run("asyncio_to_thread", plan_for(TaskSpec("sleep", 10), tasks=40))
    assert 1 <= result.workers < 40
    assert len({span.worker for span in result.spans}) <= result.workers


@pytest.mark.timing
def test_cpu_work_in_asyncio_runs_one_task_at_a_time() -> None:
    result, _ = run("asyncio", plan_for(TaskSpec("squares", 200_000)))
    spans = sorted(result.spans, key=lambda span: span.start)
    assert all(later.start >= earlier.end - 1e-3 for earlier, later in itertools.pairwise(spans))


CPU_BOUND = 3_000_000


@pytest.mark.timing
def test_gil_bound_threads_keep_one_core_busy() -> None:
    result, _ = run("threads", plan_for(TaskSpec("squares", CPU_BOUND)))
    assert 0.5 < result.cores_busy < 1.35
    assert sum(span.waited for span in result.spans) > result.seconds  # they took turns


@pytest.mark.timing
@pytest.mark.skipif(current_machine().usable_cores < 2, reason="needs two usable cores to run in parallel")
@pytest.mark.parametrize(
    ("mode", "workload", "size"), [("processes", "squares", CPU_BOUND), ("threads", "sha256", 96 << 20)]
)
def test_processes_and_gil_releasing_threads_use_several_cores(mode: str, workload: str, size: int) -> None:
    """A capability, so the best of three tries counts: a busy neighbour can only lower the figure."""
    best = max(run(mode, plan_for(TaskSpec(workload, size)))[0].cores_busy for _ in range(3))
    assert best > 1.3


@pytest.mark.timing
@pytest.mark.parametrize("mode", ["batch", "threads", "processes", "asyncio"])
def test_waiting_keeps_no_core_busy(mode: str) -> None:
    """In a real worker: forking a pool from this test process (it has loaded pandas, Streamlit, Dask...)
    costs CPU that says nothing about waiting; the lean worker is what a run measures."""
    settings = RunSettings.create("sleep", tasks=TASKS, size=100, modes=mode, workers=2)
    result = run_experiment(settings).runs[0]
    assert result.cores_busy < 0.3
    assert all(span.cpu_share < 0.2 for span in result.spans)


def test_a_broken_pool_is_reported_as_failed_tasks() -> None:
    plan = ModePlan(TaskSpec("sleep", 10), tasks=3, processes=1, threads=None, start_method="no-such-method")
    result, streamed = run("processes", plan)
    assert result.error and "processes failed" in result.error
    assert [span.ok for span in result.spans] == [False, False, False]
    assert len(streamed) == 3


def test_every_mode_the_settings_accept_has_a_runner_and_no_runner_goes_unnamed() -> None:
    from lab.engine.modes import MODE_RUNNERS
    from lab.engine.settings import MODES

    assert tuple(MODE_RUNNERS) == MODES
