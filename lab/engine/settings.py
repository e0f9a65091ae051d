"""An experiment's settings, validated in one place for the CLI, the page and share links.

`RunSettings.create` is the only way raw input becomes settings: it parses,
checks ranges and fills defaults, raising `InvalidSettings` with a one-line
message. Public mode adds its own, tighter limits on top (`admit`, with `lab.engine.budget`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings
from lab.core.interpreters import GIL_SETTINGS
from lab.core.urlguard import check_public_url, check_url
from lab.core.validate import bounded, parse_names, positive_seconds, switch, whole
from lab.engine.budget import check_settings, estimate_work_seconds
from lab.engine.workloads import BUILTIN_WORKLOADS, CODE_WORKLOAD, WORKLOADS, TaskCost, Workload, split_target

MODES: tuple[str, ...] = (
    "batch",
    "threads",
    "processes",
    "interpreters",
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
MAX_ARGS_CHARS = 100_000
MIN_SWITCH_INTERVAL_MS, MAX_SWITCH_INTERVAL_MS = 0.01, 1000.0
# The X-ray sampler's own default and range (lab.xray.sampler; not imported: the worker runs on 3.10, the
# sampler's package needs 3.11). 250 Hz sees a GIL held for the 5 ms switch interval and costs under 5 %.
MIN_XRAY_HZ, MAX_XRAY_HZ = 10, 5000
DEFAULT_XRAY_HZ = 250
DEFAULT_LATENCY_MS = 200
DEFAULT_BODY_BYTES = 64 * 1024

NO_CODE = "this host is public and never runs a visitor's own code; run GIL Lab on your own machine for that"


@dataclass(frozen=True)
class RunSettings:
    """What to run: one workload, N tasks, a list of modes, repeated R times, under one interpreter."""

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
    function: str | None = None  # the function workload's target, MODULE:FUNCTION or PATH.py:FUNCTION
    args: str = "[]"  # a JSON array: the positional arguments of every call
    check: bool = True  # compare the function's results across tasks and modes
    python: str | None = None  # an interpreter's name (or, from the CLI, its path); None: the lab's own
    gil: str | None = None  # "on" or "off" on a free-threaded build; None: the build's default
    switch_interval_ms: float | None = None  # sys.setswitchinterval in the worker and its pool processes
    xray: bool = False
    xray_hz: int = DEFAULT_XRAY_HZ

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
        function: Any = None,
        args: Any = None,
        check: Any = None,
        python: Any = None,
        gil: Any = None,
        switch_interval_ms: Any = None,
        xray: Any = None,
        xray_hz: Any = None,
    ) -> RunSettings:
        """Validate raw values (ints or strings); None means the default.

        A workload written MODULE:FUNCTION or PATH.py:FUNCTION is the function
        workload with that target.
        """
        if ":" in str(workload) and function in (None, ""):
            workload, function = CODE_WORKLOAD, workload
        if workload not in WORKLOADS:
            known = ", ".join(BUILTIN_WORKLOADS)
            raise InvalidSettings(f"unknown workload {workload!r}; choose one of {known}, or MODULE:FUNCTION")
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
            size=whole("size", size, info.default_size, 1, info.max_size) if info.uses_size else 1,
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
            function=check_function(workload, function),
            args=check_args(args),
            check=True if check is None else switch("check", check),
            python=None if python in (None, "") else str(python).strip(),
            gil=check_gil(gil),
            switch_interval_ms=None
            if switch_interval_ms in (None, "")
            else bounded(
                "switch-interval-ms", switch_interval_ms, MIN_SWITCH_INTERVAL_MS, MAX_SWITCH_INTERVAL_MS
            ),
            xray=False if xray is None else switch("xray", xray),
            xray_hz=whole("xray-hz", xray_hz, DEFAULT_XRAY_HZ, MIN_XRAY_HZ, MAX_XRAY_HZ),
        )

    @property
    def info(self) -> Workload:
        return WORKLOADS[self.workload]

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def uses_embedded_server(self) -> bool:
        return self.info.downloads and self.url is None

    def task_cost(self) -> TaskCost:
        """One task's estimated cost under these settings (the embedded server's latency and body size)."""
        if self.uses_embedded_server:
            return self.info.cost(self.size, latency_ms=self.latency_ms, body_bytes=self.bytes)
        return self.info.cost(self.size)

    @property
    def describe_work(self) -> str:
        """The workload as a person reads it: 'squares', 'mymod:work', or 'your_code.py:work' for a file."""
        if self.function is None:
            return self.workload
        module, function = split_target(self.function)
        return f"{module.rsplit('/', 1)[-1]}:{function}"

    def process_count(self, usable_cores: float) -> int:
        """Workers for the pool modes: as asked, else one per usable core (never more than tasks)."""
        if self.workers is not None:
            return self.workers
        slots = max(1, int(-(-usable_cores // 1)))
        return max(1, min(self.tasks, slots))

    def admit(self, host: HostRules) -> RunSettings:
        """What this host runs: in public mode no visitor's code, the body cap, the budget, the URL guard."""
        if not host.public:
            return self
        if self.info.private_only:
            raise InvalidSettings(NO_CODE)
        settings = replace(self, max_body_bytes=min(self.max_body_bytes, host.limits.max_body_bytes))
        check_settings(settings, host.limits, host.usable_cores)
        if settings.url is not None:
            check_public_url(settings.url)
        return settings

    def cost(self, usable_cores: float) -> float:
        """Seconds the run keeps the host busy (`lab.engine.budget`)."""
        return estimate_work_seconds(self, usable_cores)

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


def parse_modes(value: Any) -> tuple[str, ...]:
    """'batch,threads' or a list -> a tuple of known modes, in order, without repeats."""
    return parse_names(value, MODES, "mode")


def check_function(workload: str, target: Any) -> str | None:
    """The code workload needs a MODULE:FUNCTION target; no other workload takes one."""
    if workload not in WORKLOADS or not WORKLOADS[workload].needs_code:
        if target not in (None, ""):
            raise InvalidSettings(f"the {workload} workload takes no function; give MODULE:FUNCTION instead")
        return None
    text = str(target or "").strip()
    try:
        split_target(text)
    except ValueError as exc:
        raise InvalidSettings(str(exc)) from None
    return text


def check_args(value: Any) -> str:
    """--args: a JSON array, kept as canonical JSON text so it travels to every process unchanged."""
    if value in (None, ""):
        return "[]"
    if isinstance(value, list | tuple):
        parsed: Any = list(value)
    else:
        text = str(value)
        if len(text) > MAX_ARGS_CHARS:
            raise InvalidSettings(f"--args is longer than {MAX_ARGS_CHARS:,} characters")
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidSettings(f"--args must be a JSON array, e.g. '[2000000]': {exc}") from None
    if not isinstance(parsed, list):
        raise InvalidSettings(f"--args must be a JSON array, e.g. '[2000000]', got {type(parsed).__name__}")
    return json.dumps(parsed, separators=(",", ":"))


def check_gil(value: Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().lower()
    if text not in GIL_SETTINGS:
        raise InvalidSettings(f"--gil must be on or off, got {str(value)[:20]!r}")
    return text
