"""The page's form model: what each lab's controls hold, their ranges, and their defaults.

The sidebar widgets read and write these, share links are read into them and
written from them (`lab.app.links`), and each converts to the engine's
settings in exactly one place (`run_settings`, `web_settings`), where the
engine validates. The ranges are also the bounds a share link is clamped to.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.engine.settings import DEFAULT_MODES, RunSettings
from lab.engine.workloads import WORKLOADS
from lab.web.settings import WebSettings

LABS: dict[str, tuple[str, ...]] = {
    "CPU-bound": ("squares", "sha256", "function"),
    "I/O-bound": ("http", "sleep"),
}
WEB_DEFAULT_ENDPOINTS = ("def_wait", "async_wait", "async_blocking")
DEFAULT_FUNCTION = "work"
SWITCH_INTERVALS_MS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)  # 0: the default


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
class RunForm:
    """Everything the CPU-bound and I/O-bound labs' sidebar holds, in the CLI's names.

    `python` is an interpreter's name from the discovered list ("" is the
    server's own); `code` and `function` are the "your function" workload's
    source and the name to call, turned into a module file by the page.
    """

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
    python: str = ""
    gil: str = ""
    xray: bool = False
    switch_interval_ms: float = 0.0
    code: str = ""
    function: str = DEFAULT_FUNCTION
    args: str = "[]"

    @property
    def lab(self) -> str:
        return next(name for name, workloads in LABS.items() if self.workload in workloads)

    def run_settings(self, function_target: str | None = None) -> RunSettings:
        """The engine's settings for what the controls hold (InvalidSettings if they cannot run).

        `function_target` is where the page wrote the person's code (PATH.py:FUNCTION).
        """
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
            function=function_target if WORKLOADS[self.workload].needs_code else None,
            args=self.args if WORKLOADS[self.workload].needs_code else None,
            python=self.python or None,
            gil=self.gil or None,
            switch_interval_ms=self.switch_interval_ms or None,
            xray=self.xray,
        )


def default_modes(workload: str) -> tuple[str, ...]:
    return DEFAULT_MODES[WORKLOADS[workload].kind]


def defaults_for(workload: str, workers: int) -> RunForm:
    info = WORKLOADS[workload]
    return RunForm(
        workload=workload,
        tasks=info.default_tasks,
        size=nearest(info.size_choices, info.default_size),
        workers=workers,
        modes=default_modes(workload),
    )


def nearest(choices: tuple[int, ...], value: int) -> int:
    return min(choices, key=lambda choice: abs(choice - value))


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
class WebForm:
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
