"""A run as a Perfetto trace: every task on its real process and thread, and the X-ray's states beside it.

Chrome's Trace Event JSON opens in ui.perfetto.dev and chrome://tracing. Each
mode repeat's spans are placed at their absolute time (the repeat's origin on
the system-wide clock plus the span's offset), named by mode and task, and
each X-rayed thread gets a track of its states under its own (see
`lab.xray.trace`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lab.core.errors import InvalidSettings
from lab.engine.results import RunResult
from lab.xray.model import Recording, Segment, ThreadRecord
from lab.xray.trace import TaskSpan, chrome_trace


def trace_of(result: RunResult) -> dict[str, Any]:
    """The run's Chrome Trace Event dict (the repeats the worker dated; imported runs have none)."""
    spans = [
        TaskSpan(
            pid=span.pid,
            tid=span.tid,
            name=f"{run.mode} task {span.index}",
            start_s=run.origin + span.start,
            end_s=run.origin + span.end,
            args={
                "mode": run.mode,
                "repeat": run.repeat,
                "worker": span.worker,
                "cpu_s": span.cpu,
                "ok": span.ok,
            },
        )
        for run in result.runs
        if run.origin is not None
        for span in run.spans
        if span.tid is not None
    ]
    names = {pid: "worker" for pid in {span.pid for span in spans}}
    return chrome_trace(spans, xray_recording(result), process_names=names)


def xray_recording(result: RunResult) -> Recording | None:
    """The X-ray's threads across every repeat, as one recording of state segments."""
    threads: dict[tuple[int, int], tuple[str, list[Segment]]] = {}
    rate = 0.0
    for run in result.runs:
        figures = run.xray
        if not figures:
            continue
        rate = float(figures["rate_hz"])
        for thread in [*figures["threads"], *figures["others"]]:
            key = (int(thread["pid"]), int(thread["tid"]))
            name = thread["worker"] or thread["name"]
            segments = threads.setdefault(key, (name, []))[1]
            segments.extend(Segment.from_list(item) for item in thread["segments"])
    if not threads:
        return None
    records = tuple(
        ThreadRecord(pid, tid, name, segments[0].start, segments[-1].end, tuple(segments), ())
        for (pid, tid), (name, segments) in sorted(threads.items())
        if segments
    )
    starts = [record.first_seen for record in records]
    ends = [record.last_seen for record in records]
    return Recording(0, rate, min(starts), max(ends), "stopped", records, ())


def write_trace(result: RunResult, path: str | Path) -> None:
    try:
        Path(path).write_text(json.dumps(trace_of(result)), encoding="utf-8")
    except OSError as exc:
        raise InvalidSettings(f"cannot write {path}: {exc.strerror or exc}") from None
