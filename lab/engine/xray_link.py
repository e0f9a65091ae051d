"""The runner's GIL X-ray: a sampler on the worker's process group, and each mode's figures from it.

The sampler (`lab.xray`) runs in a process of its own, outside the measured
one: a sampler inside it would need the GIL it is watching. The runner tells
this link where each mode repeat began and ended (the worker's `origin`, on
the system-wide monotonic clock the sampler also reads), and which threads
ran its tasks (each span's pid and native thread id); at the end of the run
each repeat gets its window's figures, JSON-ready, in `ModeRun.xray`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lab.engine.results import ModeRun
from lab.xray.client import XraySampler
from lab.xray.figures import window_figures


@dataclass(frozen=True)
class Window:
    mode: str
    repeat: int
    start: float
    end: float


class XrayLink:
    """One sampler for one experiment, attached to the worker's process group."""

    def __init__(self, sampler: XraySampler) -> None:
        self.sampler = sampler
        self.windows: list[Window] = []

    @classmethod
    def start(cls, pgid: int, rate_hz: float) -> XrayLink:
        """Attach a sampler to the worker's group (LabError with one line if this system cannot)."""
        return cls(XraySampler(pgid, rate_hz).start())

    def poll(self) -> None:
        """Drain what the sampler has sent, without waiting."""
        self.sampler.poll(0.0)

    def mark(self, run: ModeRun) -> None:
        """A mode repeat ended: its window on the shared clock is [origin, origin + seconds]."""
        assert run.origin is not None, "the runner sets every repeat's origin"
        self.windows.append(Window(run.mode, run.repeat, run.origin, run.origin + run.seconds))

    def finish(self, runs: list[ModeRun]) -> list[ModeRun]:
        """Stop the sampler and give each marked repeat its figures."""
        try:
            recording = self.sampler.stop()
        finally:
            self.sampler.close()
        by_repeat = {(window.mode, window.repeat): window for window in self.windows}
        finished = []
        for run in runs:
            window = by_repeat.get((run.mode, run.repeat))
            if window is None:
                finished.append(run)
                continue
            workers = {(span.pid, span.tid): span.worker for span in run.spans if span.ok and span.tid}
            figures = window_figures(recording, window.start, window.end, workers)
            finished.append(replace(run, xray=figures.to_dict()))
        return finished
