"""The convoy lab's runner: its processes start, measure, end, fail and cancel, leaving none behind.

The tests that start the probe and the client are `slow` (real child
processes: the full tier); a refusal before anything starts is not.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import replace
from typing import Any

import pytest

from lab.convoy import csvio as convoy_csv
from lab.convoy.results import ConvoyResult
from lab.convoy.runner import Convoy, run_convoy
from lab.convoy.settings import ConvoySettings
from lab.core.errors import InvalidSettings, RunFailed
from lab.core.interpreters import current_interpreter
from lab.core.procs import group_members


def test_a_gil_switch_on_a_gil_build_is_refused_before_anything_starts() -> None:
    settings = ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5", gil="off")
    gil_build = replace(current_interpreter(), free_threaded=False)
    with pytest.raises(InvalidSettings, match="not a free-threaded build"):
        Convoy(settings, interpreter=gil_build)


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_a_run_measures_every_point_with_its_xray_and_reports_the_gil(no_leftover_processes: None) -> None:
    events: list[dict[str, Any]] = []
    settings = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=0.5)
    result = run_convoy(settings, events.append)
    assert result.status == "complete" and result.all_ok, result.message
    assert [(p.cpu_threads, p.switch_interval_ms) for p in result.points] == [(0, 5.0), (1, 5.0)]
    assert [event["point"]["cpu_threads"] for event in events if event["event"] == "point_finished"] == [0, 1]
    assert result.interpreter is not None and result.interpreter.gil_enabled
    assert result.machine.python_version == current_interpreter().version
    busy = result.points[1]
    assert 0.3 < busy.seconds < 2 and len(busy.latency_ms) > 5 and busy.gil_enabled
    assert busy.xray is not None, busy.xray_note
    assert [thread["worker"] for thread in busy.xray["threads"]] == ["probe", "cpu-1"]
    assert busy.summary().probe_gil_share is not None and busy.summary().probe_gil_share > 0
    assert ConvoyResult.from_json(result.to_json()) == result
    assert convoy_csv.to_csv(convoy_csv.from_csv(convoy_csv.to_csv([result]))) == convoy_csv.to_csv([result])


def wait_for_pings(convoy: Convoy, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(row.state == "pinging" and row.pings > 0 for row in convoy.progress()):
        assert time.monotonic() < deadline, "the client never started pinging"
        convoy.poll(0.05)


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_cancel_ends_the_probe_the_client_and_the_xray(no_leftover_processes: None) -> None:
    convoy = Convoy(ConvoySettings.create(cpu_threads="2", switch_intervals_ms="5", seconds=20)).start()
    wait_for_pings(convoy)
    groups = [convoy.probe_pid, convoy.client_pid]
    started = time.monotonic()
    convoy.cancel()
    assert time.monotonic() - started < 5
    assert convoy.status == "cancelled" and convoy.result().points == ()
    assert [group_members(group) for group in groups if group is not None] == [[], []]


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_leaving_the_with_block_by_an_exception_ends_the_run(no_leftover_processes: None) -> None:
    settings = ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5", seconds=20)
    with pytest.raises(KeyboardInterrupt), Convoy(settings) as convoy:
        wait_for_pings(convoy)
        raise KeyboardInterrupt
    assert convoy.status == "cancelled"


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_a_killed_probe_is_a_crashed_run_that_keeps_the_points_before_it(no_leftover_processes: None) -> None:
    convoy = Convoy(ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=1.5)).start()
    while len(convoy.points) < 1:
        convoy.poll(0.05)
    wait_for_pings(convoy)
    assert convoy.probe_pid is not None
    subprocess.run(["kill", "-KILL", str(convoy.probe_pid)], check=True)
    result = convoy.wait()
    assert result.status == "crashed" and len(result.points) == 1
    assert "the measured process" in (result.message or "") and "killed by SIGKILL" in (result.message or "")


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_an_interpreter_that_fails_at_once_is_a_crash_with_its_reason(no_leftover_processes: None) -> None:
    broken = replace(current_interpreter(), name="broken", path="/bin/false")
    result = run_convoy(ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5"), interpreter=broken)
    assert result.status == "crashed" and result.points == ()
    assert (result.message or "").startswith(
        "the measured process (broken) ended before it was ready (exit status 1)"
    )


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_an_unstartable_interpreter_is_a_clear_error(no_leftover_processes: None) -> None:
    gone = replace(current_interpreter(), path="/no/such/python")
    with pytest.raises(RunFailed, match=r"cannot start lab\.convoy\.probe with /no/such/python"):
        run_convoy(ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5"), interpreter=gone)


@pytest.mark.slow  # real runs in child processes: the full tier, not `make check`
def test_a_deadline_cuts_the_run_short_and_keeps_what_finished(no_leftover_processes: None) -> None:
    settings = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=0.5)
    result = run_convoy(settings, deadline_s=1.2)
    assert result.status == "cut_short" and "cut short after 1.2 s" in (result.message or "")
    assert len(result.points) <= 1 and not result.all_ok
