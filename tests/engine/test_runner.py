"""The child-process runner: events stream in, and every way out leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import psutil
import pytest

from lab.core.errors import RunFailed
from lab.core.interpreters import current_interpreter
from lab.core.procs import group_members
from lab.engine.runner import Experiment, run_experiment
from lab.engine.settings import RunSettings

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

LONG_SQUARES = RunSettings.create("squares", tasks=4, size=100_000_000, modes="processes", workers=2)


def pool_pids(experiment: Experiment, count: int, timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        experiment.poll(0.05)
        children = psutil.Process(experiment.pid).children(recursive=True)
        workers = [child.pid for child in children if "resource_tracker" not in " ".join(child.cmdline())]
        if len(workers) >= count:
            return workers
    raise AssertionError("pool workers did not start")


def test_a_run_streams_events_in_order_and_returns_its_result() -> None:
    settings = RunSettings.create("squares", tasks=3, size=10_000, modes="batch,threads", repeats=2)
    events: list[dict] = []
    result = run_experiment(settings, events.append)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and kinds[-1] == "done"
    assert kinds.count("mode_started") == kinds.count("mode_finished") == 4
    assert kinds.count("task") == 3 * 2 * 2
    assert [event["mode"] for event in events if event["event"] == "mode_started"] == ["batch", "threads"] * 2
    assert result.status == "complete" and result.all_ok
    assert result.modes == ("batch", "threads")
    assert result.machine.usable_cores > 0


def test_the_worker_calibrates_before_the_first_mode_and_after_each_repeat_and_reports_its_steadiness() -> (
    None
):
    settings = RunSettings.create("squares", tasks=2, size=10_000, modes="batch,threads", repeats=2)
    events: list[dict] = []
    result = run_experiment(settings, events.append)
    calibrations = [
        ms for event in events if event["event"] == "mode_finished" for ms in event["calibration_ms"]
    ]
    # one before the first mode, one after each repeat of each, never inside one
    assert [len(event["calibration_ms"]) for event in events if event["event"] == "mode_finished"] == [
        2,
        1,
        1,
        1,
    ]
    assert all(ms > 0 for ms in calibrations)
    done = events[-1]
    assert done["event"] == "done" and done["steadiness"]["calibration_ms"] == calibrations
    assert result.steadiness is not None and list(result.steadiness.calibration_ms) == calibrations
    assert result.steadiness.steady == (result.steadiness.reason is None)


def test_progress_counts_tasks_per_mode() -> None:
    settings = RunSettings.create("sleep", tasks=3, size=10, modes="batch,threads")
    with Experiment(settings) as experiment:
        experiment.wait()
        progress = experiment.progress()
    assert [(row.mode, row.done, row.total, row.state) for row in progress] == [
        ("batch", 3, 3, "finished"),
        ("threads", 3, 3, "finished"),
    ]


def test_cancel_ends_the_whole_process_tree_within_a_second() -> None:
    experiment = Experiment(LONG_SQUARES).start()
    workers = pool_pids(experiment, 2)
    group = experiment.pid
    started = time.monotonic()
    experiment.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < 1.0
    assert group_members(group) == []
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in workers)
    assert experiment.result().status == "cancelled"


def test_leaving_the_with_block_by_an_exception_ends_the_run() -> None:
    group = None
    with pytest.raises(KeyboardInterrupt), Experiment(LONG_SQUARES) as experiment:
        pool_pids(experiment, 2)
        group = experiment.pid
        raise KeyboardInterrupt
    assert group is not None and group_members(group) == []


def test_a_killed_worker_process_is_a_crashed_run_with_a_reason() -> None:
    with Experiment(LONG_SQUARES) as experiment:  # a failed assertion still ends its pool processes
        experiment.start()
        pool_pids(experiment, 2)
        group = experiment.pid
        os.kill(experiment.pid, signal.SIGKILL)
        # Seen at once: its forked pool processes hold the pipe open, and can for as long as they live.
        deadline = time.monotonic() + 5
        while not experiment.done and time.monotonic() < deadline:
            experiment.poll(0.1)
        result = experiment.result()
        assert result.status == "crashed"
        assert "killed by SIGKILL" in (result.message or "")
        assert group_members(group) == []


def test_a_killed_pool_worker_fails_that_mode_and_the_run_goes_on() -> None:
    settings = RunSettings.create("sleep", tasks=4, size=3000, modes="processes,threads", workers=2)
    with Experiment(settings) as experiment:
        victim = pool_pids(experiment, 2)[0]
        os.kill(victim, signal.SIGKILL)
        result = experiment.wait()
    assert result.status == "complete"
    processes = result.summary("processes")
    assert processes.failed >= 1
    assert any("worker process died" in (span.error or "") for span in processes.tasks)
    assert result.summary("threads").failed == 0
    assert not result.all_ok


def test_a_deadline_cuts_the_run_short_and_keeps_what_finished() -> None:
    settings = RunSettings.create("sleep", tasks=2, size=300, modes="batch,threads")
    result = run_experiment(settings, deadline_s=0.5)
    assert result.status == "cut_short"
    assert "cut short" in (result.message or "")


def test_an_unstartable_interpreter_is_a_clear_error() -> None:
    gone = replace(current_interpreter(), path="/no/such/python")
    with pytest.raises(RunFailed, match="cannot start the worker"):
        run_experiment(RunSettings.create("sleep", tasks=1, size=1), interpreter=gone)


def test_another_interpreter_can_run_the_worker(tmp_path) -> None:
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    interpreter = replace(current_interpreter(), name="wrapped", path=str(wrapper))
    result = run_experiment(
        RunSettings.create("sleep", tasks=2, size=5, modes="batch"), interpreter=interpreter
    )
    assert result.all_ok
    assert result.interpreter is not None and result.interpreter.name == "wrapped"


def test_the_worker_path_imports_no_page_libraries() -> None:
    code = (
        "import sys, lab.cli.main, lab.engine.worker, lab.engine.modes, lab.engine.measure;"
        "heavy = {'pandas', 'plotly', 'streamlit', 'requests', 'aiohttp', 'httpx', 'fastapi'};"
        "heavy &= set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_every_start_method_runs_the_process_pool(method: str) -> None:
    settings = RunSettings.create(
        "sleep", tasks=4, size=150, modes="processes", workers=2, start_method=method
    )
    result = run_experiment(settings)
    assert result.all_ok
    assert result.machine.start_method == method
    assert len({span.pid for span in result.summary("processes").tasks}) == 2
