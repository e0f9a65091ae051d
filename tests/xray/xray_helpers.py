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

from lab.core.procs import end_process_group, start_child
from lab.xray.client import XraySampler
from lab.xray.figures import WindowFigures, window_figures
from lab.xray.model import Recording
from lab.xray.sampler import DEFAULT_RATE_HZ
from lab.xray.states import ThreadState

TARGET_SCRIPT = Path(__file__).with_name("xray_target.py")
START_DEADLINE_S = 15.0
SETTLE_S = 0.3  # threads take a moment to reach their state; figures skip it


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
