"""`python -m lab convoy`: output formats and exit statuses, as a person runs it."""

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

from lab.convoy.csvio import from_csv
from lab.core.procs import group_members

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(120),
]  # real runs in child processes: the full tier, not `make check`

QUICK = ["--cpu-threads", "0,1", "--switch-interval-ms", "5", "--seconds", "0.5"]
CHILDREN = ("lab.convoy.probe", "lab.convoy.client", "lab.xray.sampler")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return lab_cli("convoy", *args)


def start_cli(*args: str) -> subprocess.Popen[str]:
    return start_lab_cli("convoy", *args)


def test_json_has_one_point_per_thread_count_and_interval_with_the_documented_fields() -> None:
    done = cli(*QUICK, "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema_version"] == 1 and data["kind"] == "convoy" and data["status"] == "complete"
    assert data["interpreter"]["gil_enabled"] is True and data["machine"]["usable_cores"] > 0
    points = data["points"]
    assert [(p["cpu_threads"], p["switch_interval_ms"]) for p in points] == [(0, 5.0), (1, 5.0)]
    for point in points:
        for key in ("pings", "mean_ms", "p50_ms", "p99_ms", "max_ms"):
            assert point[key] is not None and point[key] > 0, key
        assert point["p50_ms"] <= point["p99_ms"] <= point["max_ms"]
    assert "1 CPU thread" in done.stderr and "pings" in done.stderr  # progress lines, never in the JSON


def test_csv_reads_back_and_the_table_ends_with_the_takeaway(tmp_path: Path) -> None:
    done = cli(*QUICK, "--format", "csv")
    assert done.returncode == 0, done.stderr
    (run,) = from_csv(done.stdout)
    assert [summary.key for summary in run.summaries()] == [(0, 5.0), (1, 5.0)] and run.all_ok
    path = tmp_path / "convoy.txt"
    done = cli(*QUICK, "--output", str(path))
    assert done.returncode == 0, done.stderr
    text = path.read_text()
    assert text.startswith("GIL Lab convoy: CPU threads 0, 1 × switch interval 5 ms, 0.5 s per point")
    assert "Takeaway:" in text and "FastAPI `def` endpoint" in text


@pytest.mark.parametrize(
    "args",
    [
        ["--switch-interval-ms", "0"],
        ["--switch-interval-ms", "1000"],
        ["--switch-interval-ms", "fast"],
        ["--seconds", "0"],
        ["--seconds", "120"],
        ["--cpu-threads", "-1"],
        ["--cpu-threads", "17"],
        ["--cpu-threads", "1.5"],
        ["--gil", "off"],  # the lab's own Python is a GIL build: it has no switch
        ["--python", "no-such-python"],
        ["--format", "xml"],
        ["--output", "/no/such/folder/convoy.json"],
        ["--surprise"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_killed_probe_exits_1_with_the_reason() -> None:
    proc = start_cli("--cpu-threads", "1", "--switch-interval-ms", "5", "--seconds", "20")
    try:
        probe = children_running(proc, CHILDREN)["lab.convoy.probe"]
        os.kill(probe, signal.SIGKILL)
        err = proc.communicate(timeout=30)[1]
    finally:
        stop(proc)
    assert proc.returncode == 1
    assert "the run crashed: the measured process" in err and "(killed by SIGKILL)" in err


def test_ctrl_c_exits_130_once_every_process_is_gone() -> None:
    proc = start_cli("--cpu-threads", "2", "--switch-interval-ms", "5", "--seconds", "20")
    try:
        groups = list(children_running(proc, CHILDREN).values())
        proc.send_signal(signal.SIGINT)
        err = proc.communicate(timeout=30)[1]
    finally:
        stop(proc)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    assert [group_members(group) for group in groups] == [[], [], []]


def test_a_killed_cli_leaves_no_probe_client_or_xray_behind() -> None:
    """Nothing can clean up after SIGKILL: each child must notice its parent is gone."""
    proc = start_cli("--cpu-threads", "2", "--switch-interval-ms", "5", "--seconds", "20")
    found: dict[str, int] = {}
    try:
        found = children_running(proc, CHILDREN)
        files = psutil.Process(found["lab.convoy.probe"]).open_files()
        run_folder = next(Path(f.path) for f in files if f.path.endswith("probe.stderr")).parents[1]
        proc.kill()
        proc.communicate()
        deadline = time.monotonic() + 20
        while any(group_members(group) for group in found.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [group_members(group) for group in found.values()] == [[], [], []]
    finally:
        for group in found.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
    shutil.rmtree(run_folder)  # the runner was killed, so its files are left to whoever killed it
