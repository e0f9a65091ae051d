"""The sampler process: how it starts, what it sends, how it ends, and that it leaves nothing behind.

The tests that start a sampler are `slow` (child processes: the full tier);
the refusals made before anything starts are not.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from xray.xray_helpers import START_DEADLINE_S, target, wait_until

from lab.core.errors import InvalidSettings, LabError
from lab.core.procs import end_process_group, group_members, python_module_args, start_child
from lab.xray.client import XraySampler
from lab.xray.protocol import Event


def sampler_is_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except FileNotFoundError:
        return True


@pytest.mark.slow
def test_stopping_ends_the_sampler_and_leaves_no_process_behind() -> None:
    with target("nappers", "1", "0.01") as nappers, XraySampler(nappers.pgid) as xray:
        wait_until(lambda: xray.started, xray, START_DEADLINE_S, "the sampler did not start")
        sampler_pid = xray.sampler_pid
        assert sampler_pid is not None and not sampler_is_gone(sampler_pid)
        recording = xray.stop()

        assert recording.end_reason == "stopped"
        assert group_members(sampler_pid) == []
        assert sampler_is_gone(sampler_pid)
        assert any(thread.key == nappers.threads["napper-1"] for thread in recording.threads)


@pytest.mark.slow
def test_the_sampler_ends_by_itself_once_the_group_it_samples_has_ended() -> None:
    with target("nappers", "1", "0.01") as nappers, XraySampler(nappers.pgid) as xray:
        wait_until(lambda: len(xray.recording().marks) >= 2, xray, START_DEADLINE_S, "no chunks arrived")
        sampler_pid = xray.sampler_pid
        assert sampler_pid is not None
        end_process_group(nappers.proc)
        wait_until(lambda: xray.done, xray, 10.0, "the sampler did not end with its group")
        recording = xray.recording()

        assert recording.end_reason == "group_empty"
        assert group_members(sampler_pid) == []
        napper = next(thread for thread in recording.threads if thread.key == nappers.threads["napper-1"])
        assert napper.last_seen < recording.ended


@pytest.mark.slow
def test_stopping_a_sampler_that_is_still_starting_waits_for_it_and_gets_its_final_flush() -> None:
    with target("nappers", "1", "0.01") as nappers, XraySampler(nappers.pgid) as xray:
        recording = xray.stop()

    assert recording.end_reason == "stopped"
    assert recording.marks


@pytest.mark.slow
@pytest.mark.timing
def test_a_sampler_over_its_cpu_budget_sweeps_less_often_than_asked() -> None:
    with (
        target("nappers", "60", "1.0") as many,
        XraySampler(many.pgid, rate_hz=2000, cpu_budget=0.05) as xray,
    ):
        wait_until(lambda: len(xray.recording().marks) >= 12, xray, 30.0, "too few chunks arrived")
        recording = xray.stop()
    settled = recording.marks[5:]  # the first second finds the pace
    cpu_share = (settled[-1].cpu_s - settled[0].cpu_s) / (settled[-1].t - settled[0].t)
    sweeps_per_s = (settled[-1].sweeps - settled[0].sweeps) / (settled[-1].t - settled[0].t)

    assert cpu_share < 0.1, cpu_share
    assert sweeps_per_s < 1000, sweeps_per_s


@pytest.mark.slow
def test_the_recording_can_be_read_while_the_sampler_runs() -> None:
    with target("nappers", "1", "0.01") as nappers, XraySampler(nappers.pgid) as xray:
        wait_until(lambda: len(xray.recording().marks) >= 3, xray, START_DEADLINE_S, "no chunks arrived")
        live = xray.recording()
        time.sleep(0.3)
        later = xray.stop()

    assert live.end_reason == "running"
    assert live.threads
    assert later.sweeps > live.sweeps


@pytest.mark.slow
def test_a_process_group_that_does_not_exist_is_refused_with_one_line() -> None:
    gone = start_child([sys.executable, "-c", "pass"])
    gone.wait()
    xray = XraySampler(gone.pid)

    with pytest.raises(LabError) as refused:
        xray.start()

    assert str(gone.pid) in str(refused.value)
    assert "\n" not in str(refused.value)
    assert xray.sampler_pid is None


def test_a_system_without_proc_is_refused_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lab.xray.client.proc_available", lambda: False)
    xray = XraySampler(os.getpgid(0))

    with pytest.raises(LabError, match="/proc") as refused:
        xray.start()

    assert "\n" not in str(refused.value)
    assert xray.sampler_pid is None


def test_a_rate_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidSettings):
        XraySampler(os.getpid(), rate_hz=0)
    with pytest.raises(InvalidSettings):
        XraySampler(os.getpid(), rate_hz=100_000)


@pytest.mark.slow
def test_the_sampler_streams_started_chunks_and_stopped_on_its_pipe_and_nothing_on_stdout() -> None:
    with target("nappers", "2", "0.01") as nappers:
        read_fd, write_fd = os.pipe()
        args = ["--pgid", str(nappers.pgid), "--rate-hz", "200", "--pipe", str(write_fd)]
        args += ["--parent-pid", str(os.getpid())]
        sampler = start_child(
            python_module_args("lab.xray.sampler", *args), pass_fds=(write_fd,), stdout=subprocess.PIPE
        )
        os.close(write_fd)
        try:
            events = read_events(read_fd, until=lambda events: count(events, "chunk") >= 3)
            sampler.send_signal(signal.SIGTERM)
            events += read_events(read_fd, until=lambda events: False)  # to the end of the stream
            assert sampler.wait(timeout=5) == 0
            assert sampler.stdout is not None and sampler.stdout.read() == b""
        finally:
            end_process_group(sampler)
            os.close(read_fd)

    kinds = [event["event"] for event in events]
    assert kinds[0] == "started" and kinds[-2:] == ["chunk", "stopped"]
    assert set(kinds[1:-1]) == {"chunk"}
    assert events[0]["pgid"] == nappers.pgid and events[0]["rate_hz"] == 200
    assert events[-1]["reason"] == "stopped"
    marks = [event["mark"] for event in events if event["event"] == "chunk"]
    assert [mark[1] for mark in marks] == sorted(mark[1] for mark in marks)  # sweeps only grow
    sampled = {(item["pid"], item["tid"]) for event in events[1:-1] for item in event["threads"]}
    assert set(nappers.threads.values()) <= sampled


@pytest.mark.slow
def test_the_sampler_dies_with_the_process_that_started_it() -> None:
    with target("nappers", "1", "0.01") as nappers:
        code = (
            "import sys, time\n"
            "from lab.xray.client import XraySampler\n"
            f"xray = XraySampler({nappers.pgid}).start()\n"
            "while not xray.started: xray.poll(0.05)\n"
            "print(xray.sampler_pid, flush=True)\n"
            "time.sleep(3600)\n"
        )
        parent = start_child([sys.executable, "-c", code], stdout=subprocess.PIPE)
        try:
            assert parent.stdout is not None
            sampler_pid = int(parent.stdout.readline())
            assert not sampler_is_gone(sampler_pid)
            parent.kill()
            deadline = time.monotonic() + 5
            while not sampler_is_gone(sampler_pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert sampler_is_gone(sampler_pid)
        finally:
            end_process_group(parent)


def read_events(fd: int, until: Callable[[list[Event]], bool]) -> list[Event]:
    """Events from the pipe until `until(events)` holds or the stream ends (deadline 10 s)."""
    events: list[Event] = []
    buffer = b""
    deadline = time.monotonic() + 10
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while not until(events):
            left = deadline - time.monotonic()
            assert left > 0, f"the sampler's events stopped coming: {events[-1:]}"
            if not selector.select(min(left, 0.2)):
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                break
            *lines, buffer = (buffer + data).split(b"\n")
            events += [json.loads(line) for line in lines if line]
    return events


def count(events: list[Event], kind: str) -> int:
    return sum(1 for event in events if event["event"] == kind)
