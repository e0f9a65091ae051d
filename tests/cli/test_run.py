"""`python -m lab`: output formats, exit codes and one-line errors, as a person runs it."""

from __future__ import annotations

import csv
import io
import json
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from lab.engine.latency_server import EmbeddedServer

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`


def lab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=timeout
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_run_json_has_the_documented_fields() -> None:
    out = lab("run", "squares", "--tasks", "3", "--size", "20000", "--workers", "2", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema_version"] == 2
    assert data["interpreter"]["name"] and data["interpreter"]["gil_enabled"] is True
    assert data["settings"]["tasks"] == 3 and data["machine"]["usable_cores"] > 0
    assert [mode["mode"] for mode in data["modes"]] == ["batch", "threads", "processes"]
    for mode in data["modes"]:
        assert {"seconds", "speedup", "cpu_seconds", "cores_busy", "ok", "failed", "tasks"} <= set(mode)
        assert mode["ok"] == 3 and mode["failed"] == 0
        assert len(mode["tasks"]) == 3
        assert {"worker", "start", "end", "cpu", "error"} <= set(mode["tasks"][0])
    assert data["modes"][0]["speedup"] == 1.0


def test_run_csv_is_one_row_per_mode(tmp_path) -> None:
    target = tmp_path / "out.csv"
    out = lab(
        "run",
        "sleep",
        "--tasks",
        "2",
        "--size",
        "5",
        "--modes",
        "batch,asyncio",
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["mode"] for row in rows] == ["batch", "asyncio"]
    assert all(float(row["seconds"]) >= 0.005 for row in rows)


def test_run_table_is_readable() -> None:
    out = lab("run", "sleep", "--tasks", "2", "--size", "5", "--modes", "batch,threads")
    assert out.returncode == 0, out.stderr
    assert "mode" in out.stdout and "cores busy" in out.stdout
    assert "threads" in out.stdout and "Usable" in out.stdout


def test_info_json_describes_the_machine() -> None:
    out = lab("info", "--format", "json")
    assert out.returncode == 0
    assert {"python_version", "gil_enabled", "logical_cores", "usable_cores", "start_method"} <= set(
        json.loads(out.stdout)
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "fib"], "unknown workload 'fib'"),
        (["run", "squares", "--modes", "batch,turbo"], "unknown mode 'turbo'"),
        (["run", "squares", "--tasks", "0"], "--tasks must be between 1"),
        (["run", "squares", "--tasks", "lots"], "--tasks must be a whole number"),
        (["run", "squares", "--repeats", "-2"], "--repeats must be between 1"),
        (["run", "http", "--url", "ftp://example.com/x"], "only http and https"),
        (["run", "http", "--url", "file:///etc/passwd"], "only http and https"),
        (["run", "squares", "--start-method", "vfork"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_invalid_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = lab(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_a_refused_connection_is_a_failed_task_with_its_reason() -> None:
    port = closed_port()
    out = lab("run", "http", "--url", f"http://127.0.0.1:{port}/", "--tasks", "2", "--modes", "batch,asyncio")
    assert out.returncode == 1
    assert "4 task(s) failed" in out.stdout
    assert "refused" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_an_http_error_status_is_reported(latency_server: EmbeddedServer) -> None:
    out = lab(
        "run", "http", "--url", f"{latency_server.base_url}/missing", "--tasks", "1", "--modes", "batch"
    )
    assert out.returncode == 1
    assert "404" in out.stdout


def test_a_timeout_is_reported(latency_server: EmbeddedServer) -> None:
    url = latency_server.url(3000, 10)
    out = lab("run", "http", "--url", url, "--tasks", "1", "--modes", "batch,asyncio", "--timeout", "0.5")
    assert out.returncode == 1
    assert "timed out" in out.stdout


def test_http_without_url_uses_its_own_embedded_server_and_overlaps_the_waiting() -> None:
    out = lab(
        "run",
        "http",
        "--tasks",
        "100",
        "--modes",
        "threads,asyncio",
        "--latency-ms",
        "200",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    data = json.loads(out.stdout)
    assert data["target_url"].startswith("http://127.0.0.1:")
    for mode in data["modes"]:
        assert mode["ok"] == 100
        assert mode["seconds"] < 1.5, f"{mode['mode']} took {mode['seconds']:.2f} s for 100 x 200 ms"


def test_ctrl_c_ends_every_worker_and_exits_130() -> None:
    cli = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lab",
            "run",
            "squares",
            "--size",
            "100000000",
            "--modes",
            "processes",
            "--workers",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        tree: list[psutil.Process] = []
        while time.monotonic() < deadline and len(tree) < 3:
            time.sleep(0.05)
            tree = psutil.Process(cli.pid).children(recursive=True)
        assert len(tree) >= 3, "worker and pool did not start"
        cli.send_signal(signal.SIGINT)
        _, err = cli.communicate(timeout=10)
    finally:
        cli.kill()
    assert cli.returncode == 130
    assert "interrupted" in err
    _gone, alive = psutil.wait_procs(tree, timeout=2)
    assert alive == []
