"""An experiment's settings, validated in one place for the CLI, the page and share links.

`RunSettings.create` is the only way raw input becomes settings: it parses,
checks ranges and fills defaults, raising `InvalidSettings` with a one-line
message. Public mode adds its own, tighter limits on top (see `lab.limits`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from lab.errors import InvalidSettings, RefusedURL
from lab.workloads import WORKLOADS

MODES: tuple[str, ...] = (
    "batch",
    "threads",
    "processes",
    "asyncio",
    "asyncio_to_thread",
    "asyncio_blocking",
)
START_METHODS: tuple[str, ...] = ("fork", "spawn", "forkserver")
DEFAULT_MODES = {"cpu": ("batch", "threads", "processes"), "io": ("batch", "threads", "processes", "asyncio")}

MAX_TASKS = 10_000
MAX_WORKERS = 512
MAX_THREADS = 10_000
MAX_REPEATS = 50
MAX_LATENCY_MS = 60_000
MAX_BODY_BYTES = 256 * 1024 * 1024
MAX_URL_LENGTH = 2048
DEFAULT_LATENCY_MS = 200
DEFAULT_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RunSettings:
    """What to run: one workload, N tasks, a list of modes, repeated R times."""

    workload: str
    tasks: int
    size: int
    modes: tuple[str, ...]
    workers: int | None = None
    threads: int | None = None
    url: str | None = None
    latency_ms: int = DEFAULT_LATENCY_MS
    bytes: int = DEFAULT_BODY_BYTES
    repeats: int = 1
    start_method: str | None = None
    timeout_s: float = 10.0
    max_body_bytes: int = 64 * 1024 * 1024

    @classmethod
    def create(
        cls,
        workload: str,
        *,
        tasks: Any = None,
        size: Any = None,
        modes: Any = None,
        workers: Any = None,
        threads: Any = None,
        url: Any = None,
        latency_ms: Any = None,
        bytes: Any = None,
        repeats: Any = None,
        start_method: Any = None,
        timeout_s: Any = None,
        max_body_bytes: Any = None,
    ) -> RunSettings:
        """Validate raw values (ints or strings); None means the default."""
        if workload not in WORKLOADS:
            raise InvalidSettings(f"unknown workload {workload!r}; choose one of {', '.join(WORKLOADS)}")
        info = WORKLOADS[workload]
        mode_list = parse_modes(modes) if modes is not None else DEFAULT_MODES[info.kind]
        method = None if start_method in (None, "") else str(start_method)
        if method is not None and method not in START_METHODS:
            raise InvalidSettings(
                f"unknown start method {method!r}; choose one of {', '.join(START_METHODS)}"
            )
        return cls(
            workload=workload,
            tasks=whole("tasks", tasks, info.default_tasks, 1, MAX_TASKS),
            size=1 if workload == "http" else whole("size", size, info.default_size, 1, info.max_size),
            modes=mode_list,
            workers=None if workers is None else whole("workers", workers, 1, 1, MAX_WORKERS),
            threads=None if threads is None else whole("threads", threads, 1, 1, MAX_THREADS),
            url=check_url(url) if url not in (None, "") else None,
            latency_ms=whole("latency-ms", latency_ms, DEFAULT_LATENCY_MS, 0, MAX_LATENCY_MS),
            bytes=whole("bytes", bytes, DEFAULT_BODY_BYTES, 0, MAX_BODY_BYTES),
            repeats=whole("repeats", repeats, 1, 1, MAX_REPEATS),
            start_method=method,
            timeout_s=positive_seconds("timeout", timeout_s, 10.0),
            max_body_bytes=whole("max-body-bytes", max_body_bytes, 64 * 1024 * 1024, 1, MAX_BODY_BYTES),
        )

    @property
    def kind(self) -> str:
        return WORKLOADS[self.workload].kind

    @property
    def uses_embedded_server(self) -> bool:
        return self.workload == "http" and self.url is None

    def process_count(self, usable_cores: float) -> int:
        """Workers for `processes`: as asked, else one per usable core (never more than tasks)."""
        if self.workers is not None:
            return self.workers
        slots = max(1, int(-(-usable_cores // 1)))
        return max(1, min(self.tasks, slots))

    def with_changes(self, **changes: Any) -> RunSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["modes"] = list(self.modes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        fields = {name: data.get(name) for name in cls.__dataclass_fields__ if name != "workload"}
        return cls.create(str(data.get("workload")), **fields)


def whole(name: str, value: Any, default: int, low: int, high: int) -> int:
    """A whole number in [low, high]; accepts ints and digit strings, nothing else."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if not text.lstrip("-").isdigit():
            raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidSettings(f"--{name} must be between {low:,} and {high:,}, got {value:,}")
    return value


def positive_seconds(name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidSettings(f"--{name} must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise InvalidSettings(f"--{name} must be between 0 and 3600 seconds, got {value!r}")
    return seconds


def parse_modes(value: Any) -> tuple[str, ...]:
    """'batch,threads' or a list -> a tuple of known modes, in order, without repeats."""
    return parse_names(value, MODES, "mode")


def parse_names(value: Any, known: Iterable[str], what: str) -> tuple[str, ...]:
    """A comma-separated string or a list of names -> the known ones, in order, once each.

    An unknown name or an empty list is an error naming what was expected.
    """
    choices = tuple(known)
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        if name not in choices:
            raise InvalidSettings(f"unknown {what} {name!r}; choose from {', '.join(choices)}")
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidSettings(f"choose at least one {what}")
    return tuple(names)


def check_url(value: Any) -> str:
    """Syntax only: http or https with a host. Public mode checks the address too."""
    url = str(value).strip()
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"malformed URL {url[:80]!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "none"
        raise RefusedURL(f"unsupported URL scheme {shown!r}: only http and https are fetched")
    if not parts.hostname:
        raise RefusedURL(f"URL {url[:80]!r} has no host")
    if port == 0:
        raise RefusedURL(f"URL {url[:80]!r} has port 0")
    return url
