"""Share links: the page's settings in the URL query string, read back safely.

A link is input like any other: whatever it holds, reading it never raises.
Unknown keys are ignored, out-of-range numbers are clamped to the control's
range, sizes snap to the nearest offered size, and each change is reported
as a one-line notice. Names follow the CLI (`workload`, `tasks`, `size`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lab.errors import InvalidSettings
from lab.settings import MODES, START_METHODS, RunSettings, check_url
from lab.web.settings import ENDPOINTS, WebSettings
from lab.workloads import WORKLOADS

LABS: dict[str, tuple[str, ...]] = {"CPU-bound": ("squares", "sha256"), "I/O-bound": ("http", "sleep")}
WEB_LAB = "Web server"
WEB_DEFAULT_ENDPOINTS = ("def_wait", "async_wait", "async_blocking")
MIB = 1024 * 1024
SIZE_CHOICES: dict[str, tuple[int, ...]] = {
    "squares": (10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000, 30_000_000, 100_000_000),
    "sha256": tuple(MIB * 2**power for power in range(0, 11)),
    "sleep": (10, 20, 50, 100, 200, 500, 1000, 2000),
    "http": (1,),
}


@dataclass(frozen=True)
class ControlRange:
    low: int
    high: int
    default: int


@dataclass(frozen=True)
class Controls:
    """The page's control ranges: also the bounds a share link is clamped to."""

    tasks: ControlRange = ControlRange(1, 64, 8)
    workers: ControlRange = ControlRange(1, 16, 2)
    threads: ControlRange = ControlRange(0, 256, 0)  # 0: one thread per task
    latency_ms: ControlRange = ControlRange(0, 2000, 200)
    repeats: ControlRange = ControlRange(1, 5, 1)


@dataclass(frozen=True)
class PageSettings:
    """Everything the sidebar holds, in the CLI's names."""

    workload: str = "squares"
    tasks: int = 8
    size: int = 3_000_000
    workers: int = 2
    threads: int = 0
    modes: tuple[str, ...] = ("batch", "threads", "processes")
    url: str = ""
    latency_ms: int = 200
    repeats: int = 1
    start_method: str = ""

    @property
    def lab(self) -> str:
        return next(name for name, workloads in LABS.items() if self.workload in workloads)

    def run_settings(self) -> RunSettings:
        """The engine's settings for what the controls hold (InvalidSettings if they cannot run)."""
        return RunSettings.create(
            self.workload,
            tasks=self.tasks,
            size=self.size,
            modes=self.modes,
            workers=self.workers,
            threads=self.threads or None,
            url=self.url or None,
            latency_ms=self.latency_ms,
            repeats=self.repeats,
            start_method=self.start_method or None,
        )


def default_modes(workload: str) -> tuple[str, ...]:
    if WORKLOADS[workload].kind == "io":
        return ("batch", "threads", "processes", "asyncio")
    return ("batch", "threads", "processes")


def defaults_for(workload: str, workers: int) -> PageSettings:
    info = WORKLOADS[workload]
    return PageSettings(
        workload=workload,
        tasks=info.default_tasks,
        size=nearest(SIZE_CHOICES[workload], info.default_size),
        workers=workers,
        modes=default_modes(workload),
    )


def nearest(choices: tuple[int, ...], value: int) -> int:
    return min(choices, key=lambda choice: abs(choice - value))


@dataclass
class LinkReader:
    """Reads one link, collecting a notice for everything it had to change."""

    params: Mapping[str, Any]
    notices: list[str] = field(default_factory=list)

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        if isinstance(value, list):
            value = value[-1] if value else None
        return None if value is None else str(value)[:4096]

    def number(self, name: str, bounds: ControlRange, default: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip().replace("_", "").replace(",", ""))
        except ValueError:
            self.notices.append(f"ignored {name}={raw[:40]!r} from the link: not a whole number")
            return default
        clamped = min(bounds.high, max(bounds.low, value))
        if clamped != value:
            self.notices.append(f"{name}={value:,} from the link is out of range; using {clamped:,}")
        return clamped


def read_link(
    params: Mapping[str, Any], controls: Controls, cores_default: int
) -> tuple[PageSettings, list[str]]:
    """Settings from a share link's query parameters, and notices for what was changed."""
    reader = LinkReader(params)
    workload = reader.text("workload") or "squares"
    if workload not in WORKLOADS:
        reader.notices.append(f"ignored workload={workload[:40]!r} from the link: unknown workload")
        workload = "squares"
    base = defaults_for(workload, cores_default)
    size = base.size
    raw_size = reader.text("size")
    if raw_size is not None and workload != "http":
        choices = SIZE_CHOICES[workload]
        wanted = reader.number("size", ControlRange(choices[0], choices[-1], base.size), base.size)
        size = nearest(choices, wanted)
        if size != wanted:
            reader.notices.append(
                f"size={wanted:,} from the link is not offered; using the nearest, {size:,}"
            )
    modes = base.modes
    raw_modes = reader.text("modes")
    if raw_modes is not None:
        known = [
            name for name in dict.fromkeys(part.strip() for part in raw_modes.split(",")) if name in MODES
        ]
        unknown = [part for part in raw_modes.split(",") if part.strip() and part.strip() not in MODES]
        if unknown:
            reader.notices.append(
                f"ignored unknown mode(s) from the link: {', '.join(u[:20] for u in unknown[:5])}"
            )
        modes = tuple(known) or base.modes
    url = ""
    raw_url = reader.text("url")
    if raw_url:
        try:
            url = check_url(raw_url)
        except InvalidSettings as exc:
            reader.notices.append(f"ignored the link's url: {exc}")
    start_method = reader.text("start_method") or ""
    if start_method and start_method not in START_METHODS:
        reader.notices.append(f"ignored start_method={start_method[:20]!r} from the link")
        start_method = ""
    settings = PageSettings(
        workload=workload,
        tasks=reader.number("tasks", controls.tasks, base.tasks),
        size=size,
        workers=reader.number("workers", controls.workers, base.workers),
        threads=reader.number("threads", controls.threads, base.threads),
        modes=modes,
        url=url,
        latency_ms=reader.number("latency_ms", controls.latency_ms, base.latency_ms),
        repeats=reader.number("repeats", controls.repeats, base.repeats),
        start_method=start_method,
    )
    return settings, reader.notices


def link_params(settings: PageSettings) -> dict[str, str]:
    """The query string for these settings (defaults included, so a link is explicit)."""
    params = {
        "workload": settings.workload,
        "tasks": str(settings.tasks),
        "size": str(settings.size),
        "workers": str(settings.workers),
        "threads": str(settings.threads),
        "modes": ",".join(settings.modes),
        "repeats": str(settings.repeats),
    }
    if settings.workload == "http":
        del params["size"]
        params["latency_ms"] = str(settings.latency_ms)
        if settings.url:
            params["url"] = settings.url
    if settings.start_method:
        params["start_method"] = settings.start_method
    return params


@dataclass(frozen=True)
class WebControls:
    """The web lab's control ranges, and the bounds its share links are clamped to."""

    clients: ControlRange = ControlRange(1, 1000, 100)
    requests: ControlRange = ControlRange(0, 5000, 0)  # 0: run each endpoint for the duration
    duration: ControlRange = ControlRange(1, 10, 3)
    latency_ms: ControlRange = ControlRange(0, 2000, 200)
    threadpool: ControlRange = ControlRange(1, 200, 40)
    server_workers: ControlRange = ControlRange(1, 4, 1)


@dataclass(frozen=True)
class WebPageSettings:
    """The web lab's sidebar, in the CLI's names (`python -m lab web`)."""

    endpoints: tuple[str, ...] = WEB_DEFAULT_ENDPOINTS
    clients: int = 100
    requests: int = 0
    duration: int = 3
    latency_ms: int = 200
    size: int = 1_000_000
    threadpool: int = 40
    server_workers: int = 1

    def web_settings(self) -> WebSettings:
        return WebSettings.create(
            endpoints=self.endpoints,
            clients=self.clients,
            requests=self.requests or None,
            duration=None if self.requests else self.duration,
            latency_ms=self.latency_ms,
            size=self.size,
            threadpool=self.threadpool,
            server_workers=self.server_workers,
        )


def read_web_link(params: Mapping[str, Any], controls: WebControls) -> tuple[WebPageSettings, list[str]]:
    """Web-lab settings from a link (`lab=web&clients=...`), clamped like `read_link`."""
    reader = LinkReader(params)
    base = WebPageSettings()
    endpoints = base.endpoints
    raw = reader.text("endpoints")
    if raw is not None:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        known = tuple(dict.fromkeys(part for part in parts if part in ENDPOINTS))
        unknown = [part for part in parts if part not in ENDPOINTS]
        if unknown:
            reader.notices.append(
                f"ignored unknown endpoint(s) from the link: {', '.join(u[:20] for u in unknown[:5])}"
            )
        endpoints = known or base.endpoints
    size = base.size
    if reader.text("size") is not None:
        choices = SIZE_CHOICES["squares"]
        wanted = reader.number("size", ControlRange(choices[0], choices[-1], base.size), base.size)
        size = nearest(choices, wanted)
    settings = WebPageSettings(
        endpoints=endpoints,
        clients=reader.number("clients", controls.clients, base.clients),
        requests=reader.number("requests", controls.requests, base.requests),
        duration=reader.number("duration", controls.duration, base.duration),
        latency_ms=reader.number("latency_ms", controls.latency_ms, base.latency_ms),
        size=size,
        threadpool=reader.number("threadpool", controls.threadpool, base.threadpool),
        server_workers=reader.number("server_workers", controls.server_workers, base.server_workers),
    )
    return settings, reader.notices


def web_link_params(settings: WebPageSettings) -> dict[str, str]:
    params = {
        "lab": "web",
        "endpoints": ",".join(settings.endpoints),
        "clients": str(settings.clients),
        "latency_ms": str(settings.latency_ms),
        "size": str(settings.size),
        "threadpool": str(settings.threadpool),
        "server_workers": str(settings.server_workers),
    }
    if settings.requests:
        params["requests"] = str(settings.requests)
    else:
        params["duration"] = str(settings.duration)
    return params
