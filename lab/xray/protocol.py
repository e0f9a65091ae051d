"""The sampler child's event stream: one JSON object per line on a pipe, and its folding into a Recording.

Events, in order:

- `{"event": "started", "pgid", "rate_hz", "t", "sampler_pid"}` once the
  group's processes are found and the first sweep is about to run.
- `{"event": "chunk", "mark": [t, sweeps, cpu_s], "threads": [...]}` about
  every 0.2 s. Each thread item has the shape of `ThreadRecord.to_dict()`
  but holds only what is new since the previous chunk: segments closed
  since (the open one is cut at `t` and continues in the next chunk) and
  one switch count read at `t`.
- `{"event": "stopped", "t", "reason"}` after a last chunk; `reason` is
  "stopped" (SIGTERM) or "group_empty" (no process of the group is left).
- `{"event": "error", "message"}` if the sampler fails; it exits after it.

Chunks keep a long run from piling up in the sampler's memory and let the
caller draw while the run goes on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lab.xray.model import Recording, Segment, SweepMark, SwitchCount, ThreadRecord

Event = dict[str, Any]


def encode(event: Event) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


@dataclass
class _ThreadParts:
    """A thread's record as chunks arrive: mutable while the run goes on."""

    pid: int
    tid: int
    name: str
    first_seen: float
    last_seen: float
    segments: list[Segment] = field(default_factory=list)
    switches: list[SwitchCount] = field(default_factory=list)

    def add(self, item: ThreadRecord) -> None:
        self.name = item.name
        self.last_seen = max(self.last_seen, item.last_seen)
        for segment in item.segments:
            last = self.segments[-1] if self.segments else None
            if last is not None and last.state == segment.state and last.end == segment.start:
                self.segments[-1] = Segment(last.start, segment.end, last.state)  # cut at a chunk edge
            else:
                self.segments.append(segment)
        self.switches.extend(item.switches)

    def freeze(self) -> ThreadRecord:
        return ThreadRecord(
            self.pid,
            self.tid,
            self.name,
            self.first_seen,
            self.last_seen,
            tuple(self.segments),
            tuple(self.switches),
        )


class RecordingBuilder:
    """Folds the sampler's events into a `Recording`, one event at a time."""

    def __init__(self, pgid: int, rate_hz: float) -> None:
        self.pgid = pgid
        self.rate_hz = rate_hz
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.end_reason: str | None = None
        self.errors: list[str] = []
        self._threads: dict[tuple[int, int], _ThreadParts] = {}
        self._marks: list[SweepMark] = []

    def apply(self, event: Event) -> None:
        kind = event.get("event")
        if kind == "started":
            self.started_at = float(event["t"])
            self.rate_hz = float(event["rate_hz"])
        elif kind == "chunk":
            self._marks.append(SweepMark.from_list(event["mark"]))
            for data in event["threads"]:
                self._add_thread(ThreadRecord.from_dict(data))
        elif kind == "stopped":
            self.stopped_at = float(event["t"])
            self.end_reason = str(event["reason"])
        elif kind == "error":
            self.errors.append(str(event["message"]))

    def _add_thread(self, item: ThreadRecord) -> None:
        parts = self._threads.get(item.key)
        if parts is None:
            parts = self._threads[item.key] = _ThreadParts(
                item.pid, item.tid, item.name, item.first_seen, item.last_seen
            )
        parts.add(item)

    def recording(self, unfinished_reason: str = "running") -> Recording:
        """What has arrived so far; `unfinished_reason` ends it until the sampler says how it ended."""
        started = self.started_at if self.started_at is not None else 0.0
        last_mark = self._marks[-1].t if self._marks else started
        return Recording(
            pgid=self.pgid,
            rate_hz=self.rate_hz,
            started=started,
            ended=self.stopped_at if self.stopped_at is not None else last_mark,
            end_reason=self.end_reason or unfinished_reason,
            threads=tuple(parts.freeze() for parts in self._threads.values()),
            marks=tuple(self._marks),
        )
