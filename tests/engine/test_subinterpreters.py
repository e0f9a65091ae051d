"""The subinterpreter pool, run where it exists: children under the machine's 3.12, 3.13 and 3.13t.

Each test drives a child Python that imports the pool, found by discovery
(PATH, pyenv, the lab's build); where this machine has no such Python the test
skips and says so. The tests themselves may run under a Python without
subinterpreters with their own GIL (3.11). The
functions the pool calls live in a module written to a temporary folder that
the child adds to `sys.path` at run time, as the worker adds the repo: a
subinterpreter sees it only if the pool hands its `sys.path` over. Those
child runs are `slow`; the refusal under a Python without the pool is not.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from timing_tries import clock_relation, until_good

from lab.core.errors import InvalidSettings
from lab.core.interpreters import Interpreter, discover
from lab.core.procs import REPO_ROOT
from lab.engine.subinterpreters import available, run_calls

# Discovery's names: pyenv's or PATH's 3.12 and 3.13, and the build scripts/build-free-threaded-python makes.
VERSIONS = ["3.12", "3.13", "3.13t"]
CHILD_TIMEOUT_S = 120

TASKS = '''
"""Functions the pool calls in its subinterpreters."""
import hashlib
import json
import time


def sum_of_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return json.dumps(total)


def fail_on(n, bad):
    if n == bad:
        raise ValueError(f"{n} is the bad one\\nsecond line")
    return json.dumps(n)


def sha256_timed(nbytes):
    start, cpu_start = time.perf_counter(), time.thread_time()
    digest = hashlib.sha256(bytes(nbytes)).hexdigest()
    return json.dumps(
        {"digest": digest, "wall": time.perf_counter() - start, "cpu": time.thread_time() - cpu_start}
    )
'''

# Runs in the child: the pool under test, with every outcome printed as JSON on the last line.
DRIVER = """
import importlib, json, sys, threading, time
request = json.loads(sys.argv[1])
sys.path.insert(0, request["tasks_folder"])
from lab.engine import subinterpreters

outcome = {"results": {}, "errors": {}}
lock = threading.Lock()

def on_result(index, text):
    with lock:
        outcome["results"][index] = json.loads(text)

def on_error(index, line):
    with lock:
        outcome["errors"][index] = line
        if request.get("raise_in_callback"):
            raise RuntimeError("the callback failed")

started, cpu_started = time.perf_counter(), time.process_time()
try:
    outcome["workers"] = subinterpreters.run_calls(
        request["workers"], request["module"], request["function"], request["calls"],
        on_result, on_error=on_error,
    )
except Exception as exc:
    outcome["raised"] = f"{type(exc).__name__}: {exc}"
outcome["elapsed_s"] = time.perf_counter() - started
outcome["cpu_s"] = time.process_time() - cpu_started
backend = importlib.import_module({"3.12": "_xxsubinterpreters"}.get(sys.version[:4], "_interpreters"))
outcome["interpreters_alive"] = len(backend.list_all())
outcome["python"] = sys.version.split()[0]
print(json.dumps(outcome))
"""


@functools.cache
def discovered() -> dict[str, Interpreter]:
    """This machine's usable Pythons by name, discovered once for the module."""
    return {found.name: found for found in discover() if found.usable}


def python(version: str) -> Interpreter:
    """The discovered Python named `version` with subinterpreters of its own GIL, else a skip saying why."""
    found = discovered().get(version)
    if found is None:
        pytest.skip(
            f"no CPython {version} on this machine (PATH, pyenv, the lab's build): the pool needs one"
        )
    if found.subinterpreters is None:
        pytest.skip(f"{found.path} ({found.version}) has no subinterpreters with their own GIL")
    return found


def run_pool(
    version: str, tmp_path: Path, function: str, calls: list[list[Any]], workers: int = 2, **request: Any
) -> dict[str, Any]:
    """Run the pool in a child Python `version`; it must exit cleanly (early 3.12s can abort at exit)."""
    interpreter = python(version)
    tasks_folder = tmp_path / "tasks"
    tasks_folder.mkdir(exist_ok=True)
    (tasks_folder / "pool_tasks.py").write_text(TASKS)
    request = {
        "tasks_folder": str(tasks_folder),
        "module": request.pop("module", "pool_tasks"),
        "function": function,
        "calls": calls,
        "workers": workers,
        **request,
    }
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("PYTHON_GIL", None)
    done = subprocess.run(
        [interpreter.path, "-c", DRIVER, json.dumps(request)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
    )
    assert done.returncode == 0, f"exit status {done.returncode}: {done.stderr[-2000:]}"
    outcome: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert outcome["python"] == interpreter.version
    outcome["results"] = {int(index): value for index, value in outcome["results"].items()}
    outcome["errors"] = {int(index): line for index, line in outcome["errors"].items()}
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_every_call_of_a_pure_python_function_comes_back_with_its_result(
    version: str, tmp_path: Path
) -> None:
    sizes = [1000 * number for number in range(12)]
    outcome = run_pool(version, tmp_path, "sum_of_squares", [[size] for size in sizes], workers=3)
    assert outcome["workers"] == 3
    assert outcome["errors"] == {}
    assert outcome["results"] == {index: sum(i * i for i in range(size)) for index, size in enumerate(sizes)}


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_an_exception_in_a_call_is_reported_on_one_line_for_that_call_only(
    version: str, tmp_path: Path
) -> None:
    outcome = run_pool(version, tmp_path, "fail_on", [[number, 2] for number in range(5)])
    assert outcome["errors"] == {2: "ValueError: 2 is the bad one"}
    assert outcome["results"] == {0: 0, 1: 1, 3: 3, 4: 4}


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_a_module_that_cannot_be_imported_is_the_reported_error_of_each_call(
    version: str, tmp_path: Path
) -> None:
    outcome = run_pool(version, tmp_path, "anything", [[], [], []], module="no_such_tasks")
    assert outcome["results"] == {}
    assert outcome["errors"] == {
        index: "cannot load no_such_tasks.anything in a subinterpreter: "
        "ModuleNotFoundError: No module named 'no_such_tasks'"
        for index in range(3)
    }


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_hashlib_and_both_clocks_work_in_a_subinterpreter_and_the_process_exits_cleanly(
    version: str, tmp_path: Path
) -> None:
    outcome = run_pool(version, tmp_path, "sha256_timed", [[1 << 20], [1 << 21]])
    assert outcome["errors"] == {}
    for index, nbytes in enumerate([1 << 20, 1 << 21]):
        span = outcome["results"][index]
        assert span["digest"] == hashlib.sha256(bytes(nbytes)).hexdigest()
        assert span["cpu"] > 0 and span["wall"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_no_more_workers_start_than_there_are_calls_and_none_outlives_the_pool(
    version: str, tmp_path: Path
) -> None:
    outcome = run_pool(version, tmp_path, "sum_of_squares", [[10], [20]], workers=5)
    assert outcome["workers"] == 2
    assert outcome["interpreters_alive"] == 1  # the main interpreter only


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_a_failing_callback_is_raised_to_the_caller_and_every_subinterpreter_is_destroyed(
    version: str, tmp_path: Path
) -> None:
    outcome = run_pool(version, tmp_path, "fail_on", [[2, 2]] * 6, workers=3, raise_in_callback=True)
    assert outcome["raised"] == "RuntimeError: the callback failed"
    assert len(outcome["errors"]) < 6  # the pool stopped taking calls
    assert outcome["interpreters_alive"] == 1


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_zero_workers_is_refused(version: str, tmp_path: Path) -> None:
    outcome = run_pool(version, tmp_path, "sum_of_squares", [[10]], workers=0)
    assert outcome["raised"] == "InvalidSettings: subinterpreter workers must be at least 1, not 0"


@pytest.mark.slow
@pytest.mark.timing
@pytest.mark.parametrize("version", VERSIONS)
def test_two_workers_run_pure_python_loops_clearly_faster_than_one(version: str, tmp_path: Path) -> None:
    """Each subinterpreter has its own GIL: on two cores, two loops run at once.

    Four loops of ~0.3 s each, up to five tries on quiet cores (tests/timing_tries.py).
    Cores busy is the mechanism (one GIL keeps about one core busy, two keep two)
    and holds even when this host slows its cores unseen; the wall-clock gain is
    what a person sees, so it must show too, on a steady machine (clock_relation).
    """
    calibration = run_pool(version, tmp_path, "sum_of_squares", [[1_000_000]], workers=1)
    size = max(100_000, int(1_000_000 * 0.3 / max(calibration["elapsed_s"], 1e-3)))

    def one_then_two() -> tuple[float, float]:
        one = run_pool(version, tmp_path, "sum_of_squares", [[size]] * 4, workers=1)
        two = run_pool(version, tmp_path, "sum_of_squares", [[size]] * 4, workers=2)
        return one["elapsed_s"] / two["elapsed_s"], two["cpu_s"] / two["elapsed_s"]

    tries = until_good(one_then_two, lambda found: found[0] > 1.3)
    rounded = [(round(ratio, 2), round(busy, 2)) for ratio, busy in tries]
    report = f"(1 worker / 2 workers, cores the 2 kept busy) per try: {rounded}"
    assert max(busy for _, busy in tries) > 1.5, f"two GILs keep two cores busy; {report}; {tries.report}"
    clock_relation(
        tries, max(ratio for ratio, _ in tries) > 1.15, f"two loops at once finish sooner; {report}"
    )


@pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="the Python running the tests has subinterpreters with their own GIL"
)
def test_before_312_the_pool_says_which_pythons_have_subinterpreters_with_their_own_gil() -> None:
    reason = available()
    running = f"CPython {sys.version_info.major}.{sys.version_info.minor}."
    assert reason is not None
    assert reason.startswith(running)
    assert "needs CPython 3.12 or newer (GIL builds, or free-threaded builds such as 3.13t)" in reason
    with pytest.raises(
        InvalidSettings, match=rf"^{re.escape(running)}\d+ cannot run tasks in subinterpreters"
    ):
        run_calls(2, "json", "dumps", [[1]], lambda index, text: None, on_error=lambda index, line: None)
