"""Running `python -m lab SUBCOMMAND …` as a person does, for the CLI tests of every lab."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterable

import psutil

from lab.core.procs import REPO_ROOT, child_env


def lab_cli(subcommand: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run `python -m lab SUBCOMMAND ARGS` to the end and return its output."""
    return subprocess.run(
        [sys.executable, "-m", "lab", subcommand, *args],
        cwd=REPO_ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_lab_cli(subcommand: str, *args: str) -> subprocess.Popen[str]:
    """Start `python -m lab SUBCOMMAND ARGS` and leave it running (end it with `stop`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "lab", subcommand, *args],
        cwd=REPO_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> None:
    """After a failed check: SIGTERM lets the CLI end its children and files; SIGKILL only if it hangs."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def children_running(
    proc: subprocess.Popen[str], modules: Iterable[str], timeout: float = 30.0
) -> dict[str, int]:
    """Wait until the CLI runs a child for each module; their pids (each leads its group)."""
    wanted = tuple(modules)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found: dict[str, int] = {}
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(proc.pid).children():
                command = " ".join(child.cmdline())
                found |= {module: child.pid for module in wanted if module in command}
        if len(found) == len(wanted):
            return found
        time.sleep(0.05)
    raise AssertionError(f"not all of {', '.join(wanted)} started")
