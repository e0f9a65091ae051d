"""`python -m lab cluster` as a person runs it: output formats, exit codes, one-line errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from cluster.cluster_helpers import HandStartedCluster, wait_until

from lab.cluster.csvio import from_csv

pytestmark = pytest.mark.slow  # child processes: the full tier, not `make check`

QUICK = ("sleep", "--tasks", "2", "--size", "20", "--layouts", "1x1,2x1")


def lab(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", "cluster", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.slow
def test_json_has_the_documented_fields_per_layout_and_task() -> None:
    out = lab(*QUICK, "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert (
        data["scheduler"] == "local" and data["schema_version"] == 1 and data["machine"]["usable_cores"] > 0
    )
    assert [layout["layout"] for layout in data["layouts"]] == ["1x1", "2x1"]
    for layout in data["layouts"]:
        fields = {"layout", "workers", "threads_per_worker", "seconds", "speedup", "cores_busy"}
        assert fields | {"overhead_ms_per_task", "ok", "failed", "tasks"} <= set(layout)
        assert (layout["ok"], layout["failed"], len(layout["tasks"])) == (2, 0, 2)
        task = layout["tasks"][0]
        assert task["address"].startswith("tcp://127.0.0.1:") and task["pid"] > 0 and task["tid"] > 0
        assert task["label"].startswith("worker ") and task["end"] > task["start"] >= 0
    assert data["layouts"][0]["speedup"] == 1.0 and data["layouts"][1]["workers"] == 2


@pytest.mark.slow
def test_csv_is_one_row_per_layout_that_imports_back(tmp_path: Path) -> None:
    target = tmp_path / "cluster.csv"
    out = lab(*QUICK, "--format", "csv", "--output", str(target))
    assert out.returncode == 0, out.stderr
    text = target.read_text()
    assert text.splitlines()[0].split(",").count("layout") == 1 and len(text.splitlines()) == 3
    (run,) = from_csv(text)
    assert [summary.name for summary in run.summaries()] == ["1x1", "2x1"] and run.all_ok


@pytest.mark.slow
def test_the_table_names_each_layout_and_says_what_it_showed() -> None:
    out = lab(*QUICK)
    assert out.returncode == 0, out.stderr
    assert "Scheduler: local clusters, one per layout" in out.stdout
    assert [line.split()[0] for line in out.stdout.splitlines() if line[:3] in ("1x1", "2x1")] == [
        "1x1",
        "2x1",
    ]
    assert "Takeaway:" in out.stdout and "starting a LocalCluster of 2x1" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("squares", "--scheduler", "tcp://127.0.0.1:8786", "--layouts", "1x1"), "--layouts does not apply"),
        (("squares", "--scheduler", "http://127.0.0.1:8786"), "--scheduler must be tcp://HOST:PORT"),
        (("squares", "--layouts", "2by1"), "--layouts takes WxT items"),
        (("http",), "choose from squares, sha256, sleep"),
        (("squares", "--tasks", "0"), "--tasks must be between 1 and 1,000"),
    ],
)
def test_invalid_arguments_exit_2_with_one_line(args: tuple[str, ...], message: str) -> None:
    out = lab(*args)
    assert out.returncode == 2
    assert message in one_line(out.stderr)


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_within_seconds_and_exit_1() -> None:
    started = time.monotonic()
    out = lab("squares", "--scheduler", f"tcp://127.0.0.1:{closed_port()}")
    assert out.returncode == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:" in one_line(out.stderr)
    assert time.monotonic() - started < 30


def test_public_mode_never_connects_to_a_visitors_scheduler() -> None:
    out = lab("squares", "--scheduler", "tcp://10.0.0.1:8786", env={"GIL_LAB_PUBLIC": "1"})
    assert out.returncode == 2
    assert "connects to no scheduler a visitor names" in one_line(out.stderr)


def test_public_mode_counts_each_layouts_processes() -> None:
    out = lab("sleep", "--layouts", "1x1,4x1", env={"GIL_LAB_PUBLIC": "1", "GIL_LAB_MAX_PROCESSES": "2"})
    assert out.returncode == 2
    assert "layout 4x1 starts 4 worker processes; at most 2" in one_line(out.stderr)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[HandStartedCluster]:
    with HandStartedCluster(tmp_path) as started:
        yield started


@pytest.mark.slow
def test_a_cluster_started_by_hand_is_reported_as_it_is(
    no_leftover_processes: None, cluster: HandStartedCluster
) -> None:
    out = lab("squares", "--tasks", "4", "--size", "100000", "--scheduler", cluster.address)
    assert out.returncode == 0, out.stderr
    assert f"Scheduler: {cluster.address}" in out.stdout
    (row,) = [line.split() for line in out.stdout.splitlines() if line.startswith("2x1 ")]
    assert row[1:3] == ["2", "1"]  # two workers, one thread each
    assert "(2 workers × 1 thread)" in out.stdout


@pytest.mark.slow
def test_ctrl_c_ends_the_driver_and_its_cluster(no_leftover_processes: None) -> None:
    command = [sys.executable, "-m", "lab", "cluster", "squares", "--tasks", "16", "--size", "20000000"]
    proc = subprocess.Popen([*command, "--layouts", "2x1"], stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "submitting tasks" in line:
                break
        family = psutil.Process(proc.pid).children(recursive=True)
        assert len(family) >= 3  # the driver and the LocalCluster's two worker processes
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        wait_until(lambda: not any(member.is_running() for member in family), "every process ending", 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
