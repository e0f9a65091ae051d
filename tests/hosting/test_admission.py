"""Public mode as the CLI and the engine apply it: refusals exit 2, the URL guard holds in the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lab.core.errors import OverBudget, RefusedURL
from lab.engine.latency_server import EmbeddedServer
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits

PUBLIC = Hosting(public=True, limits=Limits(max_processes=4), usable_cores=2.0)
PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


def public_lab(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIL_LAB_PUBLIC": "1", "GIL_LAB_QUEUE_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "lab", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_private_hosting_admits_what_validation_admits() -> None:
    big = RunSettings.create("squares", tasks=64, size=100_000_000, workers=16)
    assert PRIVATE.admit(big) == big
    assert PRIVATE.deadline_s is None


def test_public_hosting_refuses_an_expensive_run_and_says_what_to_lower() -> None:
    with pytest.raises(OverBudget, match="lower Task count"):
        PUBLIC.admit(RunSettings.create("squares", tasks=64, size=100_000_000))
    assert PUBLIC.deadline_s == 60


def test_public_hosting_refuses_private_addresses() -> None:
    with pytest.raises(RefusedURL, match="loopback"):
        PUBLIC.admit(RunSettings.create("http", url="http://127.0.0.1:8080/"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "squares", "--tasks", "64", "--size", "100000000"], "would take about"),
        (["run", "squares", "--workers", "64"], "processes here"),
        (["run", "sleep", "--tasks", "5000", "--modes", "threads"], "at once"),
        (["run", "http", "--url", "http://127.0.0.1:9/"], "loopback"),
        (["run", "http", "--url", "http://169.254.169.254/latest/meta-data/"], "link-local"),
        (["run", "http", "--url", "http://2130706433/"], "dotted-quad"),
        (["run", "http", "--url", "http://evil@127.0.0.1/"], "public mode"),
        (["run", "http", "--url", "http://[::1]:80/"], "loopback"),
    ],
)
def test_public_cli_refusals_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    out = public_lab(tmp_path, *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_public_cli_still_runs_against_its_own_embedded_server(tmp_path: Path) -> None:
    out = public_lab(
        tmp_path,
        "run",
        "http",
        "--tasks",
        "4",
        "--modes",
        "batch,asyncio",
        "--latency-ms",
        "10",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(mode["ok"] == 4 for mode in json.loads(out.stdout)["modes"])


@pytest.mark.slow
def test_a_public_worker_refuses_a_loopback_server_that_is_not_its_own(
    latency_server: EmbeddedServer,
) -> None:
    """Even if a URL slipped past the caller, the worker's own guard refuses to connect."""
    settings = RunSettings.create("http", url=latency_server.url(5, 10), tasks=2, modes="batch,asyncio")
    result = run_experiment(settings, public=True)
    errors = {span.error for _, _, span in result.failures()}
    assert len(result.failures()) == 4
    assert all("loopback" in (error or "") for error in errors), errors
    private = run_experiment(settings, public=False)
    assert private.all_ok
