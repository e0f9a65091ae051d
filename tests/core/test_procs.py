"""Starting a child in a process group of its own, and ending that whole group: real processes, fast."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.core.procs import (
    REPO_ROOT,
    child_env,
    describe_exit,
    end_process_group,
    group_members,
    python_module_args,
    start_child,
    stderr_tail,
)

SLEEP_S = 600  # far longer than any test here: a sleeper that ends did not end by itself


STARTED_GROUPS: list[int] = []


@pytest.fixture(autouse=True)
def no_sleeper_outlives_a_failed_test() -> Iterator[None]:
    """Should `end_process_group` fail a test, the sleepers it started must not run on for minutes."""
    yield
    while STARTED_GROUPS:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(STARTED_GROUPS.pop(), signal.SIGKILL)


def started(script: str) -> tuple[subprocess.Popen[bytes], list[int]]:
    """`sh -c script` as a group leader; the script prints the pids it starts, then `ready`."""
    proc = start_child(["/bin/sh", "-c", script], stdout=subprocess.PIPE)
    STARTED_GROUPS.append(proc.pid)
    assert proc.stdout is not None
    pids: list[int] = []
    for line in proc.stdout:
        if line.strip() == b"ready":
            return proc, pids
        pids.append(int(line))
    pytest.fail(f"the child ended before it was ready (exit status {proc.wait()})")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


def test_a_child_leads_a_process_group_of_its_own_and_runs_in_the_checkout() -> None:
    proc = start_child(
        [sys.executable, "-c", "import os; print(os.getpgid(0), os.getcwd())"], stdout=subprocess.PIPE
    )
    try:
        output, _ = proc.communicate(timeout=30)
        pgid, cwd = output.decode().split(maxsplit=1)
        assert int(pgid) == proc.pid != os.getpgid(0)
        assert cwd.strip() == str(REPO_ROOT)
    finally:
        end_process_group(proc)


def test_the_childs_environment_imports_the_checkout_first_and_is_unbuffered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", "/somewhere/else")
    env = child_env({"GIL_LAB_EXTRA": "1"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO_ROOT), str(tmp_path), "/somewhere/else"]
    assert env["PYTHONUNBUFFERED"] == "1" and env["GIL_LAB_EXTRA"] == "1"
    assert "GIL_LAB_EXTRA" not in os.environ


def test_a_module_runs_under_the_servers_python_unless_another_is_named() -> None:
    assert python_module_args("lab.engine.worker", "--x", "1") == [
        sys.executable,
        "-m",
        "lab.engine.worker",
        "--x",
        "1",
    ]
    assert python_module_args("m", python="/opt/python3.13t")[0] == "/opt/python3.13t"


def test_ending_the_group_kills_a_grandchild_that_ignores_sigterm_and_reaps_the_leader() -> None:
    # Ignored signals stay ignored across fork and exec: the leader and its sleeper both shrug off TERM.
    proc, (grandchild,) = started(f"trap '' TERM; /bin/sleep {SLEEP_S} & echo $!; echo ready; wait")
    began = time.monotonic()
    code = end_process_group(proc, grace_s=0.3)
    elapsed = time.monotonic() - began
    assert code == -signal.SIGKILL and describe_exit(code) == "killed by SIGKILL"
    assert 0.3 <= elapsed < 5.0  # the grace was given, then the group was killed
    assert group_members(proc.pid) == []
    assert not running(grandchild)
    assert proc.returncode == code  # reaped: no zombie left behind


def test_a_child_that_honours_sigterm_ends_within_the_grace() -> None:
    proc, _ = started(f"echo ready; exec /bin/sleep {SLEEP_S}")
    began = time.monotonic()
    code = end_process_group(proc, grace_s=5.0)
    assert code == -signal.SIGTERM and time.monotonic() - began < 4.0
    assert group_members(proc.pid) == []


def test_a_grandchild_is_killed_even_after_its_leader_has_exited() -> None:
    proc, (grandchild,) = started(f"/bin/sleep {SLEEP_S} & echo $!; echo ready")
    assert proc.wait(timeout=10) == 0
    assert running(grandchild)
    assert end_process_group(proc) == 0
    assert not running(grandchild) and group_members(proc.pid) == []


def test_ending_a_group_twice_is_harmless_and_closes_the_childs_pipes() -> None:
    proc, _ = started(f"echo ready; exec /bin/sleep {SLEEP_S}")
    first = end_process_group(proc)
    assert end_process_group(proc) == first == -signal.SIGKILL
    assert proc.stdout is not None and proc.stdout.closed
    assert proc.stderr is not None and proc.stderr.closed


def test_a_child_tied_to_a_parent_that_is_already_gone_exits_at_once() -> None:
    ended = subprocess.Popen(["/bin/true"])
    ended.wait()  # reaped: its pid is no one's parent now
    code = f"from lab.core.procs import tie_to_parent; tie_to_parent({ended.pid}); print('still here')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=child_env(), capture_output=True, timeout=30
    )
    assert (done.returncode, done.stdout) == (1, b"")


def test_a_child_tied_to_its_real_parent_runs_on() -> None:
    code = "import os; from lab.core.procs import tie_to_parent; tie_to_parent(os.getppid()); print('alive')"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=child_env(), capture_output=True, timeout=30
    )
    assert (done.returncode, done.stdout) == (0, b"alive\n")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "exit status 0"),
        (3, "exit status 3"),
        (-signal.SIGKILL, "killed by SIGKILL"),
        (-signal.SIGTERM, "killed by SIGTERM"),
        (-200, "killed by signal 200"),
        (None, "exit status unknown"),
    ],
)
def test_how_a_child_ended_is_said_in_words(code: int | None, words: str) -> None:
    assert describe_exit(code) == words


def test_the_last_line_of_a_childs_stderr_names_what_ended_it(tmp_path: Path) -> None:
    log = tmp_path / "stderr"
    log.write_text("Traceback (most recent call last):\n  ...\nMemoryError: out of memory\n\n  \n")
    assert stderr_tail(log) == "MemoryError: out of memory"
    log.write_bytes(b"x" * 10_000 + b"\nlast \xff line\n")
    assert stderr_tail(log, max_bytes=100) == "last \ufffd line"
    assert stderr_tail(tmp_path / "missing") == ""
    log.write_text("")
    assert stderr_tail(log) == ""
