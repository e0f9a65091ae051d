"""The web lab's results as a versioned data model: run -> endpoints -> request samples.

Percentiles, throughput and the ping probe's figures are methods here, so the
CLI, the page, the CSV and the tests all read the same numbers. The JSON form
holds the raw samples (a lossless round trip) beside the derived figures for
readers; `from_dict` rebuilds from the raw fields only. Samples are rounded
when they are taken (microseconds), so the round trip is exact.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Protocol

from lab.core.contract import Measured, RunListing, listing_of
from lab.core.errors import ResultsFormatError
from lab.core.machine import Machine
from lab.core.records import check_result_header, new_run_id, now_iso, parse_json
from lab.core.stats import percentile
from lab.core.steadiness import Steadiness
from lab.web.settings import ENDPOINTS, WebSettings

WEB_SCHEMA_VERSION = 1
WEB_KIND = "web"
WEB_STATUSES = ("complete", "cancelled", "crashed")


@dataclass(frozen=True)
class Samples:
    """Latencies of the requests that answered, each with the moment (seconds from the start) it was taken.

    For the load that moment is when the answer arrived; for the ping probe it
    is when the ping was sent, so a blocked loop shows as a gap before a tall point.
    """

    at: tuple[float, ...] = ()
    latency_ms: tuple[float, ...] = ()

    @cached_property
    def ordered(self) -> tuple[float, ...]:
        return tuple(sorted(self.latency_ms))

    def __len__(self) -> int:
        return len(self.latency_ms)

    def percentile(self, q: float) -> float | None:
        return percentile(self.ordered, q)

    @property
    def max_ms(self) -> float | None:
        return self.ordered[-1] if self.ordered else None

    def to_dict(self) -> dict[str, Any]:
        return {"at": list(self.at), "latency_ms": list(self.latency_ms)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Samples:
        at = tuple(float(value) for value in data["at"])
        latency = tuple(float(value) for value in data["latency_ms"])
        if len(at) != len(latency):
            raise ValueError("samples have different numbers of times and latencies")
        return cls(at, latency)


@dataclass(frozen=True)
class Probe:
    """The ping probe that ran beside a load: one request at a time on its own connection.

    `unanswered_ms` is how long the ping in flight when the window closed had
    waited: a loop blocked for the whole window answers no ping at all, and
    this is then the only wait there is to show.
    """

    samples: Samples
    failed: int = 0
    cut: int = 0
    unanswered_ms: float | None = None

    @property
    def longest_wait_ms(self) -> float | None:
        """The longest a ping waited, answered or not."""
        waits = [value for value in (self.samples.max_ms, self.unanswered_ms) if value is not None]
        return max(waits) if waits else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": self.samples.to_dict(),
            "failed": self.failed,
            "cut": self.cut,
            "unanswered_ms": self.unanswered_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Probe:
        return cls(
            samples=Samples.from_dict(data["samples"]),
            failed=int(data["failed"]),
            cut=int(data["cut"]),
            unanswered_ms=optional_float(data.get("unanswered_ms")),
        )


@dataclass(frozen=True)
class EndpointSummary:
    """One endpoint's figures: what the CLI table, the CSV row and the takeaway read."""

    endpoint: str
    requests: int
    ok: int
    failed: int
    cut: int
    seconds: float
    throughput: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    ceiling: float | None
    single_core_rate: float | None
    client_cpu_seconds: float
    server_cpu_seconds: float | None
    server_processes: int
    ping_count: int | None
    ping_p50_ms: float | None
    ping_p95_ms: float | None
    ping_p99_ms: float | None
    ping_max_ms: float | None
    failures: str | None
    error: str | None

    @property
    def share_of_ceiling(self) -> float | None:
        """Measured throughput / ceiling: near 1 when the endpoint did all it could."""
        return self.throughput / self.ceiling if self.ceiling else None

    @property
    def client_busy(self) -> float:
        """Cores the load generator kept busy: near 1 means the clients, not the server, set the pace."""
        return self.client_cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def server_cores_busy(self) -> float | None:
        """Cores the server's processes kept busy: at most one per process while the GIL is held."""
        if self.server_cpu_seconds is None or self.seconds <= 0:
            return None
        return self.server_cpu_seconds / self.seconds

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["share_of_ceiling"] = self.share_of_ceiling
        data["server_cores_busy"] = self.server_cores_busy
        return data


@dataclass(frozen=True)
class EndpointRun:
    """One endpoint under load: counts, the window's wall time, every answered request's latency.

    `cut` counts requests still in flight when the window closed; they were
    abandoned, so a stalled server cannot stretch the run. `failures` holds
    each distinct failure reason with its count.
    """

    endpoint: str
    seconds: float
    ok: int
    failed: int
    cut: int
    samples: Samples
    ceiling: float | None = None
    single_core_rate: float | None = None
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float | None = None
    server_processes: int = 0
    probe: Probe | None = None
    failures: tuple[tuple[str, int], ...] = ()
    error: str | None = None

    @property
    def requests(self) -> int:
        return self.ok + self.failed + self.cut

    @property
    def answering_seconds(self) -> float:
        """From the start of the load to the last answer (the whole window if nothing answered)."""
        return max(self.samples.at, default=self.seconds) or self.seconds

    @property
    def throughput(self) -> float:
        """Answered requests per second, from the start of the load to the last answer.

        All clients start together, so at a fixed latency L their answers come
        in waves at L, 2L, ...; dividing by the whole window would count the
        wave still in flight when it closed as nothing, and understate a 3 s
        run at 200 ms by up to 1/15. A server that stopped answering shows in
        `cut` and in the latency-over-time series.
        """
        seconds = self.answering_seconds
        return self.ok / seconds if seconds > 0 else 0.0

    def percentile(self, q: float) -> float | None:
        return self.samples.percentile(q)

    def summary(self) -> EndpointSummary:
        probe = self.probe.samples if self.probe is not None else None
        return EndpointSummary(
            endpoint=self.endpoint,
            requests=self.requests,
            ok=self.ok,
            failed=self.failed,
            cut=self.cut,
            seconds=self.seconds,
            throughput=self.throughput,
            p50_ms=self.percentile(50),
            p95_ms=self.percentile(95),
            p99_ms=self.percentile(99),
            max_ms=self.samples.max_ms,
            ceiling=self.ceiling,
            single_core_rate=self.single_core_rate,
            client_cpu_seconds=self.client_cpu_seconds,
            server_cpu_seconds=self.server_cpu_seconds,
            server_processes=self.server_processes,
            ping_count=len(probe) if probe is not None else None,
            ping_p50_ms=probe.percentile(50) if probe is not None else None,
            ping_p95_ms=probe.percentile(95) if probe is not None else None,
            ping_p99_ms=probe.percentile(99) if probe is not None else None,
            ping_max_ms=self.probe.longest_wait_ms if self.probe is not None else None,
            failures=self.failure_text(),
            error=self.error,
        )

    def failure_text(self) -> str | None:
        """Each distinct reason a request failed, with its count, in one line."""
        if not self.failures:
            return None
        return "; ".join(f"{reason} ({count:,}x)" for reason, count in self.failures)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.summary().to_dict(),
            "failure_counts": [list(item) for item in self.failures],
            "samples": self.samples.to_dict(),
            "probe": self.probe.to_dict() if self.probe is not None else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointRun:
        if data["endpoint"] not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {str(data['endpoint'])[:40]!r}")
        return cls(
            endpoint=data["endpoint"],
            seconds=float(data["seconds"]),
            ok=int(data["ok"]),
            failed=int(data["failed"]),
            cut=int(data["cut"]),
            samples=Samples.from_dict(data["samples"]),
            ceiling=optional_float(data.get("ceiling")),
            single_core_rate=optional_float(data.get("single_core_rate")),
            client_cpu_seconds=float(data.get("client_cpu_seconds", 0.0)),
            server_cpu_seconds=optional_float(data.get("server_cpu_seconds")),
            server_processes=int(data.get("server_processes", 0)),
            probe=Probe.from_dict(data["probe"]) if data.get("probe") is not None else None,
            failures=tuple((str(reason), int(count)) for reason, count in data.get("failure_counts", ())),
            error=data.get("error"),
        )


def summaries_ok(status: str, settings: WebSettings, summaries: Iterable[EndpointSummary]) -> bool:
    """Complete, every endpoint measured, and no request failed (cut requests are expected)."""
    summaries = list(summaries)
    measured = tuple(summary.endpoint for summary in summaries)
    return (
        status == "complete"
        and measured == settings.endpoints
        and not any(summary.failed or summary.error for summary in summaries)
    )


def optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class WebResult:
    """A whole web-lab run: settings, machine, each endpoint measured, and how the run ended."""

    settings: WebSettings
    machine: Machine
    endpoints: tuple[EndpointRun, ...]
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = WEB_SCHEMA_VERSION
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness)

    def endpoint(self, name: str) -> EndpointRun:
        for run in self.endpoints:
            if run.endpoint == name:
                return run
        raise KeyError(name)

    @property
    def lab(self) -> str:
        return WEB_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return web_listing(self)

    def summaries(self) -> list[EndpointSummary]:
        return [run.summary() for run in self.endpoints]

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.summaries())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": WEB_KIND,
            "lab": WEB_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "settings": self.settings.to_dict(),
            "machine": self.machine.to_dict(),
            "endpoints": [run.to_dict() for run in self.endpoints],
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebResult:
        check_result_header(
            data, kind=WEB_KIND, schema_version=WEB_SCHEMA_VERSION, statuses=WEB_STATUSES, what="web-lab"
        )
        try:
            return cls(
                settings=WebSettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                endpoints=tuple(EndpointRun.from_dict(run) for run in data["endpoints"]),
                status=data["status"],
                message=data.get("message"),
                steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
                run_id=data["run_id"],
                created=data["created"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab web result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> WebResult:
        return cls.from_dict(parse_json(text))


class WebRecord(Measured, Protocol):
    """What a web-lab run offers readers, measured (WebResult) or read from a CSV."""

    @property
    def settings(self) -> WebSettings: ...

    def summaries(self) -> list[EndpointSummary]: ...


def web_listing(run: WebRecord) -> RunListing:
    """A web-lab run in a list of runs: its best throughput, in answered requests a second."""
    summaries = run.summaries()
    headline = max((summary.throughput for summary in summaries), default=None)
    return listing_of(
        run,
        WEB_KIND,
        workload=",".join(run.settings.endpoints),
        interpreters=(run.machine.python_label,),
        headline=headline,
        headline_label="req/s",
    )
