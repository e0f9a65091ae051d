"""Shared by the X-ray tests: start a target process, record it, turn labels into figures."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from lab.core.procs import end_process_group, start_child
from lab.xray.client import XraySampler
from lab.xray.figures import WindowFigures, window_figures
from lab.xray.model import Recording
from lab.xray.sampler import DEFAULT_RATE_HZ
from lab.xray.states import ThreadState

TARGET_SCRIPT = Path(__file__).with_name("xray_target.py")
START_DEADLINE_S = 15.0
SETTLE_S = 0.3  # threads take a moment to reach their state; figures skip it
TRIES = 3  # for relations that other work on this shared 2-core machine can spoil
QUIET_BUSY_SHARE = 0.2  # a try starts once other work leaves the cores at least this idle...
QUIET_DEADLINE_S = 30.0  # ...or after this long regardless
Result = TypeVar("Result")


@dataclass(frozen=True)
class Target:
    proc: subprocess.Popen[bytes]
    threads: dict[str, tuple[int, int]]  # label -> (pid, tid)

    @property
    def pgid(self) -> int:
        return self.proc.pid


@contextmanager
def target(scenario: str, *args: str) -> Iterator[Target]:
    """The target script in its own process group, once it has said where its threads are."""
    proc = start_child([sys.executable, str(TARGET_SCRIPT), scenario, *args], stdout=subprocess.PIPE)
    try:
        yield Target(proc, read_thread_ids(proc))
    finally:
        end_process_group(proc)


def read_thread_ids(proc: subprocess.Popen[bytes]) -> dict[str, tuple[int, int]]:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(START_DEADLINE_S):
            raise AssertionError(f"the target did not report its threads within {START_DEADLINE_S} s")
    line = proc.stdout.readline()
    assert line, f"the target ended early: {proc.stderr.read().decode() if proc.stderr else ''}"
    return {label: (pid, tid) for label, (pid, tid) in json.loads(line).items()}


def wait_until(condition: Callable[[], bool], xray: XraySampler, deadline_s: float, what: str) -> None:
    """Poll the sampler until `condition` holds; fail with `what` after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {deadline_s} s (sampler errors: {xray.errors})")
        xray.poll(0.05)


def record(pgid: int, seconds: float, rate_hz: float = DEFAULT_RATE_HZ) -> Recording:
    """Sample group `pgid` for `seconds` after the sampler has started; its recording."""
    with XraySampler(pgid, rate_hz) as xray:
        wait_until(lambda: xray.started, xray, START_DEADLINE_S, "the sampler did not start")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            xray.poll(min(0.1, max(0.0, end - time.monotonic())))
        return xray.stop()


def figures_of(recording: Recording, threads: dict[str, tuple[int, int]]) -> WindowFigures:
    """Figures for the whole recording after the settling time, the labelled threads as task threads."""
    workers = {key: label for label, key in threads.items()}
    return window_figures(recording, recording.started + SETTLE_S, recording.ended, workers)


def dominant_states(figures: WindowFigures) -> dict[str, ThreadState]:
    return {str(thread.worker): max(ThreadState, key=thread.share) for thread in figures.threads}


def until_good(run: Callable[[], Result], good: Callable[[Result], bool]) -> list[Result]:
    """Up to TRIES results of `run`, each on quiet cores if possible, stopping at the first `good` one."""
    results: list[Result] = []
    while not (results and good(results[-1])) and len(results) < TRIES:
        wait_for_quiet_cores()
        results.append(run())
    return results


def wait_for_quiet_cores() -> None:
    """Wait until other work on the machine leaves the cores mostly idle (at most QUIET_DEADLINE_S)."""
    deadline = time.monotonic() + QUIET_DEADLINE_S
    while busy_share() > QUIET_BUSY_SHARE and time.monotonic() < deadline:
        pass  # busy_share() itself waits a moment


def busy_share(interval_s: float = 0.3) -> float:
    """How busy all cores were over `interval_s`, from /proc/stat."""

    def busy_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # all but idle and iowait

    busy_0, total_0 = busy_and_total()
    time.sleep(interval_s)
    busy_1, total_1 = busy_and_total()
    return (busy_1 - busy_0) / max(1, total_1 - total_0)
