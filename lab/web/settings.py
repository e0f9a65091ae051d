"""The web lab's settings and endpoints, validated in one place for the CLI and the page.

`WebSettings.create` is the only way raw input becomes settings, as
`RunSettings.create` is for the CPU and I/O labs: it parses, checks ranges and
fills defaults, raising `InvalidSettings` with a one-line message. The
theoretical ceilings live here too, since they follow from the settings alone
(plus, for CPU work, the measured single-core rate).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings, OverBudget
from lab.core.validate import blank_to_none, parse_names, positive_seconds, whole
from lab.core.work import SQUARES_MAX_SIZE

STAGE_OVERHEAD_S = 1.5  # measured: a fresh uvicorn server per endpoint starts in about 1 s


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the measured app: what a request does and where it runs."""

    name: str
    work: str  # "wait" or "cpu"
    handler: str  # "def" or "async def"
    blocks_loop: bool
    summary: str

    @property
    def probed(self) -> bool:
        """A ping probe runs beside CPU work and blocking calls: the loads that can starve the loop."""
        return self.work == "cpu" or self.blocks_loop


ENDPOINTS: dict[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("def_wait", "wait", "def", False, "time.sleep in a plain def: runs in AnyIO's thread pool"),
        Endpoint("async_wait", "wait", "async def", False, "await asyncio.sleep: waits on the event loop"),
        Endpoint("async_blocking", "wait", "async def", True, "time.sleep in an async def: blocks the loop"),
        Endpoint("def_cpu", "cpu", "def", False, "pure-Python squares loop in a plain def: the thread pool"),
        Endpoint("async_cpu", "cpu", "async def", True, "pure-Python squares loop in an async def: the loop"),
    )
}
PROBE_ENDPOINT = "ping"

MAX_CLIENTS = 2000
MAX_REQUESTS = 100_000
MAX_DURATION_S = 60.0
MAX_LATENCY_MS = 10_000
MAX_THREADPOOL = 1000
MAX_SERVER_WORKERS = 32
DEFAULT_CLIENTS = 100
DEFAULT_DURATION_S = 3.0
DEFAULT_LATENCY_MS = 200
# About 50 ms of pure Python: ten GIL switch intervals (5 ms), so a loop blocked by a request and a loop
# merely waiting for its turn at the GIL look clearly different.
DEFAULT_SIZE = 1_000_000
DEFAULT_THREADPOOL = 40  # AnyIO's default number of thread tokens
REQUEST_MODE_LIMIT_S = 60.0  # a --requests run is cut off here, so a stalled server cannot hang it
PROBE_INTERVAL_S = 0.05
LISTEN_BACKLOG = 2048  # a thousand clients connect at once: none may be refused


@dataclass(frozen=True)
class WebSettings:
    """What to load: which endpoints, how many clients, for how long or how many requests."""

    endpoints: tuple[str, ...]
    clients: int = DEFAULT_CLIENTS
    duration_s: float | None = DEFAULT_DURATION_S
    requests: int | None = None
    latency_ms: int = DEFAULT_LATENCY_MS
    size: int = DEFAULT_SIZE
    threadpool: int = DEFAULT_THREADPOOL
    server_workers: int = 1

    @classmethod
    def create(
        cls,
        *,
        endpoints: Any = None,
        clients: Any = None,
        requests: Any = None,
        duration: Any = None,
        latency_ms: Any = None,
        size: Any = None,
        threadpool: Any = None,
        server_workers: Any = None,
    ) -> WebSettings:
        """Validate raw values (ints or strings); None means the default."""
        requests, duration = blank_to_none(requests), blank_to_none(duration)
        if requests is not None and duration is not None:
            raise InvalidSettings("give --requests or --duration, not both")
        count = None if requests is None else whole("requests", requests, 0, 1, MAX_REQUESTS)
        seconds = None
        if count is None:
            seconds = positive_seconds("duration", duration, DEFAULT_DURATION_S)
            if seconds > MAX_DURATION_S:
                raise InvalidSettings(
                    f"--duration must be at most {MAX_DURATION_S:g} seconds, got {duration!r}"
                )
        return cls(
            endpoints=tuple(ENDPOINTS) if blank_to_none(endpoints) is None else parse_endpoints(endpoints),
            clients=whole("clients", clients, DEFAULT_CLIENTS, 1, MAX_CLIENTS),
            duration_s=seconds,
            requests=count,
            latency_ms=whole("latency-ms", latency_ms, DEFAULT_LATENCY_MS, 0, MAX_LATENCY_MS),
            size=whole("size", size, DEFAULT_SIZE, 1, SQUARES_MAX_SIZE),
            threadpool=whole("threadpool", threadpool, DEFAULT_THREADPOOL, 1, MAX_THREADPOOL),
            server_workers=whole("server-workers", server_workers, 1, 1, MAX_SERVER_WORKERS),
        )

    @property
    def window_s(self) -> float:
        """How long one endpoint may be loaded before requests still in flight are cut off."""
        return self.duration_s if self.duration_s is not None else REQUEST_MODE_LIMIT_S

    def describe_load(self) -> str:
        amount = f"{self.requests:,} requests" if self.requests is not None else f"{self.duration_s:g} s"
        return (
            f"{self.clients:,} clients, {amount} per endpoint, {self.latency_ms} ms latency, "
            f"size {self.size:,}, thread pool {self.threadpool}, {self.server_workers} server worker(s)"
        )

    def ceiling(self, endpoint: str, single_core_rate: float | None, usable_cores: float) -> float | None:
        """The best requests/s the endpoint could reach here; None where nothing bounds it.

        Waiting endpoints are bounded by how many requests can wait at once:
        every client (async_wait), one per pool thread (def_wait) or one per
        event loop (async_blocking), each for `latency_ms`. CPU endpoints run
        one request at a time per process (the GIL), on at most as many cores
        as the machine lets this process use.
        """
        info = ENDPOINTS[endpoint]
        workers = self.server_workers
        if info.work == "cpu":
            if not single_core_rate:
                return None
            return single_core_rate * min(self.clients, workers, usable_cores)
        if self.latency_ms == 0:
            return None
        at_once = {
            "async_wait": self.clients,
            "def_wait": min(self.clients, self.threadpool * workers),
            "async_blocking": min(self.clients, workers),
        }[endpoint]
        return at_once / (self.latency_ms / 1000)

    def admit(self, host: HostRules) -> WebSettings:
        """The web lab under the host's budget: clients, server processes and seconds of load."""
        if not host.public:
            return self
        limits = host.limits
        if self.requests is not None:
            raise InvalidSettings("public mode runs each endpoint for a duration; set Requests to 0")
        if self.clients > limits.max_concurrency:
            raise InvalidSettings(f"at most {limits.max_concurrency:,} clients here; lower Clients")
        if self.server_workers > limits.max_processes:
            raise InvalidSettings(
                f"at most {limits.max_processes} server processes here; lower Server processes"
            )
        seconds = self.cost(host.usable_cores)
        if seconds > limits.max_work_seconds:
            raise OverBudget(
                f"this run would take about {seconds:.0f} s; the limit here is {limits.max_work_seconds:g} s "
                "— lower the duration or choose fewer endpoints"
            )
        return self

    def cost(self, usable_cores: float) -> float:
        """A duration-mode run: each endpoint's window plus its server's start-up and cut-off."""
        return len(self.endpoints) * ((self.duration_s or 0.0) + STAGE_OVERHEAD_S)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["endpoints"] = list(self.endpoints)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WebSettings:
        return cls.create(
            endpoints=data.get("endpoints"),
            clients=data.get("clients"),
            requests=data.get("requests"),
            duration=data.get("duration_s"),
            latency_ms=data.get("latency_ms"),
            size=data.get("size"),
            threadpool=data.get("threadpool"),
            server_workers=data.get("server_workers"),
        )


def parse_endpoints(value: Any) -> tuple[str, ...]:
    """'def_wait,async_wait' or a list -> a tuple of known endpoints, in order, without repeats."""
    return parse_names(value, ENDPOINTS, "endpoint")
