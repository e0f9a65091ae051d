"""The web lab's runner: events stream in, and every way out leaves no server or client behind."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lab.core.procs import group_members
from lab.web.runner import WebExperiment, run_web
from lab.web.settings import WebSettings

pytestmark = [pytest.mark.web, pytest.mark.timeout(120)]  # uvicorn servers and aiohttp clients

QUICK = {"clients": 5, "latency_ms": 20, "duration": 0.6}
STALLED = WebSettings.create(endpoints="async_blocking", clients=50, duration=30, server_workers=2)


def wait_for(
    experiment: WebExperiment, predicate: Callable[[dict], bool], timeout: float = 30.0
) -> list[dict]:
    """Poll until an event satisfies `predicate`; returns every event seen."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not experiment.done:
        events = experiment.poll(0.1)
        seen += events
        if any(predicate(event) for event in events):
            return seen
    raise AssertionError(f"no matching event in {timeout} s; saw {[e['event'] for e in seen]}")


def loading(endpoint: str) -> Callable[[dict], bool]:
    return lambda event: event["event"] == "endpoint_started" and event["endpoint"] == endpoint


def test_a_run_streams_events_in_order_and_returns_its_result() -> None:
    events: list[dict] = []
    result = run_web(WebSettings.create(endpoints="async_wait,def_wait", **QUICK), events.append)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and kinds[-1] == "done" and "progress" in kinds
    started = [event["endpoint"] for event in events if event["event"] == "endpoint_started"]
    finished = [event["result"]["endpoint"] for event in events if event["event"] == "endpoint_finished"]
    assert started == finished == ["async_wait", "def_wait"]
    assert result.status == "complete" and result.all_ok
    assert [run.endpoint for run in result.endpoints] == ["async_wait", "def_wait"]
    assert all(run.ok > 0 and run.server_processes == 1 for run in result.endpoints)


def test_progress_follows_each_endpoint() -> None:
    with WebExperiment(WebSettings.create(endpoints="async_wait,def_wait", **QUICK)) as experiment:
        assert [row.state for row in experiment.progress()] == ["waiting", "waiting"]
        wait_for(experiment, loading("def_wait"))
        first, second = experiment.progress()
        assert (first.state, second.state) == ("finished", "running")
        assert first.requests > 0 and first.window_s == pytest.approx(0.6)


def test_cancel_ends_the_server_its_workers_and_the_clients(no_leftover_processes: None) -> None:
    with WebExperiment(STALLED) as experiment:
        wait_for(experiment, loading("async_blocking"))
        groups = [experiment.server_pid, experiment.load_pid]
        assert len(group_members(groups[0])) >= 3  # uvicorn's supervisor and its two workers
        experiment.cancel()
        assert experiment.done
        assert [group_members(group) for group in groups] == [[], []]
        result = experiment.result()
    assert (result.status, result.endpoints) == ("cancelled", ())


def test_an_error_in_the_caller_ends_everything(no_leftover_processes: None) -> None:
    groups: list[int | None] = []
    with pytest.raises(RuntimeError), WebExperiment(STALLED) as experiment:
        wait_for(experiment, loading("async_blocking"))
        groups = [experiment.server_pid, experiment.load_pid]
        raise RuntimeError("the page went away")
    assert all(group is not None and group_members(group) == [] for group in groups)


def test_one_of_two_server_processes_killed_is_a_crashed_run_naming_it(no_leftover_processes: None) -> None:
    settings = WebSettings.create(endpoints="def_wait", server_workers=2, **{**QUICK, "duration": 20})
    with WebExperiment(settings) as experiment:
        wait_for(experiment, loading("def_wait"))
        supervisor = experiment.server_pid
        assert supervisor is not None
        servers = [pid for pid in group_members(supervisor) if pid != supervisor]
        assert len(servers) == 2  # one single-socket uvicorn per server process
        os.kill(servers[0], signal.SIGKILL)
        result = experiment.wait()
    assert result.status == "crashed" and result.message is not None
    assert f"server process {servers[0]} ended (killed by SIGKILL)" in result.message
    assert not group_members(supervisor)


def test_a_killed_server_is_a_crashed_run_with_its_reason(no_leftover_processes: None) -> None:
    settings = WebSettings.create(endpoints="async_wait,def_wait", clients=5, latency_ms=20, duration=2)
    with WebExperiment(settings) as experiment:
        wait_for(experiment, loading("def_wait"))
        server = experiment.server_pid
        assert server is not None
        os.kill(server, signal.SIGKILL)
        result = experiment.wait()
    assert result.status == "crashed"
    assert result.message is not None
    assert "the web server stopped while def_wait was under load (killed by SIGKILL)" in result.message
    assert [run.endpoint for run in result.endpoints] == ["async_wait"]
    assert not result.all_ok


def test_a_server_that_cannot_start_is_reported_with_its_last_words(tmp_path: Path) -> None:
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named fastapi' >&2\nexit 3\n")
    broken.chmod(0o755)
    result = run_web(WebSettings.create(endpoints="def_wait", **QUICK), python=str(broken))
    assert result.status == "crashed" and result.message is not None
    assert "exit status 3" in result.message
    assert "ModuleNotFoundError: No module named fastapi" in result.message
