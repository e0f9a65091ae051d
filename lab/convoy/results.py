"""The convoy lab's settings and results: how long an I/O thread queues for the GIL behind CPU threads.

One point per K CPU threads x switch interval: a probe thread in the measured
process answers UDP pings beside K pure-Python CPU threads, and a client in
another process times each round trip (see `lab.convoy.runner`). The
settings validate raw input in one place for the CLI, the page and CSV
import; the results keep every round trip (a lossless JSON round trip) and
derive the figures the table, the CSV, the charts and the takeaway read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from lab.convoy.settings import MAX_CPU_THREADS, ConvoySettings
from lab.core.contract import Measured, RunListing, listing_of
from lab.core.errors import ResultsFormatError
from lab.core.interpreters import RunInterpreter
from lab.core.machine import Machine
from lab.core.records import check_result_header, new_run_id, now_iso, parse_json
from lab.core.stats import percentile
from lab.core.steadiness import Steadiness
from lab.core.validate import whole

CONVOY_SCHEMA_VERSION = 1
CONVOY_KIND = "convoy"
CONVOY_STATUSES = ("complete", "cut_short", "cancelled", "crashed")

P99_MIN_PINGS = 100  # below this many pings a p99 is little more than the slowest one


def cpu_threads_text(count: int) -> str:
    """'1 CPU thread', '4 CPU threads': how every report names a point's thread count."""
    return f"{count} CPU thread{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class PointSummary:
    """One point's figures: what the table, the CSV row, the charts and the takeaway read.

    The last three come from the X-ray of the point's window (None without
    it): the share of the window the probe thread spent waiting on a futex
    (in this process, the GIL), how many of the probe and CPU threads were on
    a core at once (about 1 under the GIL, however many threads), and GIL
    handoffs a second.
    """

    cpu_threads: int
    switch_interval_ms: float
    pings: int
    lost: int
    seconds: float
    mean_ms: float | None
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    gil_enabled: bool
    probe_gil_share: float | None = None
    threads_on_cpu: float | None = None
    handoffs_per_s: float | None = None

    @property
    def key(self) -> tuple[int, float]:
        return (self.cpu_threads, self.switch_interval_ms)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class ConvoyPoint:
    """One point as measured: every answered ping (sent when, round trip in ms), the lost ones, the X-ray.

    `seconds` is the client's window, from its first ping to its last reply;
    `xray` holds `lab.xray.figures.WindowFigures.to_dict()` for that window
    (threads labelled "probe" and "cpu-1".."cpu-K"), or None with `xray_note`
    saying why. `gil_enabled` is the measured process's state at its end.
    """

    cpu_threads: int
    switch_interval_ms: float
    seconds: float
    at: tuple[float, ...]
    latency_ms: tuple[float, ...]
    lost: int
    gil_enabled: bool
    xray: dict[str, Any] | None = None
    xray_note: str | None = None

    @cached_property
    def ordered(self) -> tuple[float, ...]:
        return tuple(sorted(self.latency_ms))

    def summary(self) -> PointSummary:
        ordered = self.ordered
        return PointSummary(
            cpu_threads=self.cpu_threads,
            switch_interval_ms=self.switch_interval_ms,
            pings=len(ordered),
            lost=self.lost,
            seconds=self.seconds,
            mean_ms=sum(ordered) / len(ordered) if ordered else None,
            p50_ms=percentile(ordered, 50),
            p99_ms=percentile(ordered, 99),
            max_ms=ordered[-1] if ordered else None,
            gil_enabled=self.gil_enabled,
            probe_gil_share=self._probe_share("gil_or_lock"),
            threads_on_cpu=None if self.xray is None else float(self.xray["mean_on_cpu"]),
            handoffs_per_s=None if self.xray is None else float(self.xray["handoffs_per_s"]),
        )

    def _probe_share(self, state: str) -> float | None:
        if self.xray is None:
            return None
        probe = next((thread for thread in self.xray["threads"] if thread["worker"] == "probe"), None)
        return None if probe is None else float(probe[state])

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary().to_dict(),
            "at": list(self.at),
            "latency_ms": list(self.latency_ms),
            "xray": self.xray,
            "xray_note": self.xray_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvoyPoint:
        at = tuple(float(value) for value in data["at"])
        latency = tuple(float(value) for value in data["latency_ms"])
        if len(at) != len(latency):
            raise ValueError("a point has different numbers of send times and latencies")
        return cls(
            cpu_threads=whole("cpu-threads", data["cpu_threads"], 0, 0, MAX_CPU_THREADS),
            switch_interval_ms=float(data["switch_interval_ms"]),
            seconds=float(data["seconds"]),
            at=at,
            latency_ms=latency,
            lost=int(data["lost"]),
            gil_enabled=bool(data["gil_enabled"]),
            xray=data.get("xray"),
            xray_note=data.get("xray_note"),
        )


def summaries_ok(status: str, settings: ConvoySettings, summaries: Iterable[PointSummary]) -> bool:
    """Complete, every point measured, and every point answered pings."""
    summaries = list(summaries)
    measured = sorted(summary.key for summary in summaries)
    return (
        status == "complete"
        and measured == sorted(settings.points())
        and all(summary.pings > 0 for summary in summaries)
    )


@dataclass(frozen=True)
class ConvoyResult:
    """A whole convoy run: settings, machine, the interpreter as it was at the end, every point measured."""

    settings: ConvoySettings
    machine: Machine
    points: tuple[ConvoyPoint, ...]
    interpreter: RunInterpreter | None = None
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = CONVOY_SCHEMA_VERSION
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness)

    @property
    def lab(self) -> str:
        return CONVOY_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return convoy_listing(self)

    def summaries(self) -> list[PointSummary]:
        return [point.summary() for point in self.points]

    def point(self, cpu_threads: int, switch_interval_ms: float) -> ConvoyPoint | None:
        return next(
            (
                p
                for p in self.points
                if (p.cpu_threads, p.switch_interval_ms) == (cpu_threads, switch_interval_ms)
            ),
            None,
        )

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.summaries())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": CONVOY_KIND,
            "lab": CONVOY_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "settings": self.settings.to_dict(),
            "points": [point.to_dict() for point in self.points],
            "interpreter": self.interpreter.to_dict() if self.interpreter is not None else None,
            "machine": self.machine.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConvoyResult:
        check_result_header(
            data,
            kind=CONVOY_KIND,
            schema_version=CONVOY_SCHEMA_VERSION,
            statuses=CONVOY_STATUSES,
            what="convoy",
        )
        try:
            interpreter = data.get("interpreter")
            return cls(
                settings=ConvoySettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                points=tuple(ConvoyPoint.from_dict(point) for point in data["points"]),
                interpreter=None if interpreter is None else RunInterpreter.from_dict(interpreter),
                status=data["status"],
                message=data.get("message"),
                steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
                run_id=data["run_id"],
                created=data["created"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab convoy result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> ConvoyResult:
        return cls.from_dict(parse_json(text))


class ConvoyRecord(Measured, Protocol):
    """What a convoy run offers readers, measured (ConvoyResult) or read from a CSV."""

    @property
    def interpreter(self) -> RunInterpreter | None: ...

    def summaries(self) -> list[PointSummary]: ...


def convoy_listing(run: ConvoyRecord) -> RunListing:
    """A convoy run in a list of runs: the longest median reply of its points, in ms."""
    summaries = run.summaries()
    headline = max((s.p50_ms for s in summaries if s.p50_ms is not None), default=None)
    return listing_of(
        run,
        CONVOY_KIND,
        workload=None,
        interpreters=(run.interpreter.name,) if run.interpreter is not None else (),
        headline=headline,
        headline_label="ms p50, worst point",
    )
