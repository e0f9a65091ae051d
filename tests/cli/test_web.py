"""`python -m lab.web` (and `python -m lab web`): output formats and exit statuses, as a user runs it."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from cli_runs import children_running, lab_cli, start_lab_cli, stop

from lab.core.procs import group_members
from lab.web.csvio import from_csv

pytestmark = [pytest.mark.web, pytest.mark.timeout(120)]  # uvicorn servers and aiohttp clients

CHILDREN = ("lab.web.serve", "lab.web.load")
QUICK = ["--clients", "10", "--latency-ms", "50", "--duration", "1"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return lab_cli("web", *args)


def start_cli(*args: str) -> subprocess.Popen[str]:
    return start_lab_cli("web", *args)


def test_json_has_settings_machine_and_a_row_per_endpoint() -> None:
    done = cli("--endpoints", "async_wait,async_blocking", *QUICK, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema_version"] == 1 and data["status"] == "complete"
    assert data["settings"]["clients"] == 10 and data["machine"]["usable_cores"] > 0
    rows = {row["endpoint"]: row for row in data["endpoints"]}
    assert list(rows) == ["async_wait", "async_blocking"]
    for row in rows.values():
        for key in (
            "requests",
            "ok",
            "failed",
            "seconds",
            "throughput",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
        ):
            assert row[key] is not None, key
        assert row["failed"] == 0 and row["ok"] > 0
    assert rows["async_wait"]["ceiling"] == pytest.approx(10 / 0.05)
    assert rows["async_blocking"]["ceiling"] == pytest.approx(1 / 0.05)
    assert rows["async_wait"]["ping_p50_ms"] is None and "ping_max_ms" in rows["async_blocking"]
    assert "async_blocking" in done.stderr  # progress lines go to stderr, never into the JSON


def test_table_to_a_file_ends_with_the_takeaway(tmp_path: Path) -> None:
    path = tmp_path / "web.txt"
    done = cli("--endpoints", "def_wait", *QUICK, "--output", str(path))
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert text.startswith("GIL Lab web: 10 clients") and "def_wait" in text and "Takeaway:" in text


def test_the_lab_cli_dispatches_web_and_writes_csv() -> None:
    done = cli("--endpoints", "async_wait", *QUICK, "--format", "csv")
    assert done.returncode == 0, done.stderr
    (run,) = from_csv(done.stdout)
    assert run.settings.clients == 10 and [s.endpoint for s in run.summaries()] == ["async_wait"]


@pytest.mark.parametrize(
    "args",
    [
        ["--clients", "0"],
        ["--endpoints", "def_wait,nope"],
        ["--requests", "5", "--duration", "1"],
        ["--duration", "soon"],
        ["--format", "xml"],
        ["--output", "/no/such/folder/web.json"],
        ["--surprise"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_crashed_server_exits_1_with_the_reason() -> None:
    proc = start_cli("--endpoints", "def_wait", "--clients", "10", "--duration", "20")
    try:
        server = children_running(proc, CHILDREN)["lab.web.serve"]
        os.kill(server, signal.SIGKILL)
        err = proc.communicate(timeout=30)[1]
    finally:
        stop(proc)
    assert proc.returncode == 1
    assert "the run crashed: the web server stopped while def_wait was" in err
    assert "(killed by SIGKILL)" in err


def workers_running(server: int, timeout: float = 30.0) -> None:
    """Wait until uvicorn's supervisor has spawned its two workers."""
    deadline = time.monotonic() + timeout
    while len(group_members(server)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(group_members(server)) >= 3


def test_ctrl_c_exits_130_once_every_process_is_gone() -> None:
    proc = start_cli("--endpoints", "async_blocking", "--server-workers", "2", "--duration", "30")
    try:
        found = children_running(proc, CHILDREN)
        groups = list(found.values())
        workers_running(found["lab.web.serve"])
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    finally:
        stop(proc)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert [group_members(group) for group in groups] == [[], []]


@pytest.mark.parametrize("when", ["starting", "serving"])
def test_a_killed_cli_leaves_no_server_or_client_behind(when: str) -> None:
    """Nothing can clean up after SIGKILL: each child must notice its parent is gone, even mid-import."""
    proc = start_cli("--endpoints", "async_blocking", "--server-workers", "2", "--duration", "30")
    found: dict[str, int] = {}
    try:
        found = children_running(proc, CHILDREN)
        command = psutil.Process(found["lab.web.serve"]).cmdline()
        run_folder = Path(command[command.index("--ready-dir") + 1]).parents[1]
        if when == "serving":
            workers_running(found["lab.web.serve"])
        proc.kill()
        proc.communicate()
        deadline = time.monotonic() + 20
        while any(group_members(group) for group in found.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [group_members(group) for group in found.values()] == [[], []]
    finally:
        for group in found.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    shutil.rmtree(run_folder)  # the runner was killed, so its files are left to whoever killed it
