"""The Cluster lab's settings: which workload, how many tasks, which layouts or which scheduler.

`ClusterSettings.create` is the only way raw input (CLI strings, the page's
form, a share link, a CSV row) becomes settings, as `RunSettings.create` is
for the CPU and I/O labs: it parses, checks ranges and fills defaults,
raising `InvalidSettings` with a one-line message. A layout `WxT` is W Dask
worker processes with T threads each, so `--nworkers` vs `--nthreads` is the
processes-vs-threads choice at cluster scale.

A run goes either on embedded `LocalCluster`s, one per layout, or on an
existing cluster named by its scheduler's address, used as it is: its layout
is read from the scheduler when the run starts, so `--layouts` does not apply
there and giving both is refused rather than silently ignored.

Public mode (`admit`) never connects to an address a visitor names: only the
host's own scheduler (`GIL_LAB_DASK_SCHEDULER`), and local layouts count
against the run budget like the processes mode does.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lab.core import config
from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings
from lab.core.validate import blank_to_none, whole
from lab.engine.workloads import WORKLOADS, Workload

# The workloads a Dask task can run as they are: http needs a server and a download folder on every
# worker, and a person's own function would need their code on every worker.
CLUSTER_WORKLOADS: tuple[str, ...] = ("squares", "sha256", "sleep")
DEFAULT_LAYOUTS = "1x1,1x2,2x1"
DEFAULT_TASKS = 8
MAX_TASKS = 1000
MAX_REPEATS = 20
MAX_LAYOUTS = 8
MAX_LAYOUT_WORKERS = 16
MAX_LAYOUT_THREADS = 64
LOCAL = "local"  # what a result says for its scheduler when it ran on embedded clusters

# Costs outside the tasks, measured on the development host (2 cores, Python 3.11, distributed 2026.8):
# the driver imports distributed in about 1.2 s; a LocalCluster with its scheduler took 1.6-2.5 s to
# start and 0.3-1.0 s to close, each worker process about 0.5 s of it (they start side by side, but
# each imports distributed). Rounded up, so a busy host is not under-charged.
DRIVER_START_S = 1.5
CLUSTER_START_S = 2.0
WORKER_START_S = 0.5
CONNECT_S = 1.0

SCHEDULER_PATTERN = re.compile(
    r"(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):([0-9]{1,5})"
)
LAYOUT_PATTERN = re.compile(r"([0-9]{1,3})\s*[xX×]\s*([0-9]{1,3})")


@dataclass(frozen=True)
class ClusterLayout:
    """How many threads each worker process of a cluster has, in worker order.

    A local layout asked for as `WxT` is W workers of T threads; a cluster
    read from its scheduler may mix thread counts, so the layout keeps each
    worker's own count and names itself `WxT` only when they agree.
    """

    worker_threads: tuple[int, ...]

    @classmethod
    def uniform(cls, workers: int, threads: int) -> ClusterLayout:
        return cls((threads,) * workers)

    @classmethod
    def parse(cls, text: str) -> ClusterLayout:
        """'2x1' -> two workers of one thread; InvalidSettings for anything else."""
        found = LAYOUT_PATTERN.fullmatch(text.strip())
        if found is None:
            raise InvalidSettings(
                f"--layouts takes WxT items (W worker processes with T threads each), got {text[:20]!r}"
            )
        workers = whole("layouts", found.group(1), 1, 1, MAX_LAYOUT_WORKERS)
        threads = whole("layouts", found.group(2), 1, 1, MAX_LAYOUT_THREADS)
        return cls.uniform(workers, threads)

    @property
    def workers(self) -> int:
        return len(self.worker_threads)

    @property
    def threads_per_worker(self) -> int | None:
        """The threads of every worker, or None when the workers differ (or there are none)."""
        counts = set(self.worker_threads)
        return counts.pop() if len(counts) == 1 else None

    @property
    def slots(self) -> int:
        """Tasks the cluster runs at once: one per worker thread."""
        return sum(self.worker_threads)

    @property
    def name(self) -> str:
        if self.threads_per_worker is not None:
            return f"{self.workers}x{self.threads_per_worker}"
        if not self.worker_threads:
            return "no workers"
        return "+".join(str(threads) for threads in self.worker_threads)

    def describe(self) -> str:
        """'2 workers × 1 thread', for sentences."""
        threads = self.threads_per_worker
        workers = f"{self.workers} worker{'' if self.workers == 1 else 's'}"
        if threads is None:
            return f"{workers} with {self.name} threads"
        return f"{workers} × {threads} thread{'' if threads == 1 else 's'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.name,
            "workers": self.workers,
            "threads_per_worker": self.threads_per_worker,
            "worker_threads": list(self.worker_threads),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterLayout:
        threads = tuple(int(count) for count in data["worker_threads"])
        if any(count < 1 for count in threads):
            raise ValueError("a worker has fewer than one thread")
        return cls(threads)


def parse_layouts(value: Any) -> tuple[ClusterLayout, ...]:
    """'1x1,1x2,2x1' or a list of such names -> layouts in order, once each."""
    items = value.split(",") if isinstance(value, str) else list(value)
    layouts: list[ClusterLayout] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        layout = ClusterLayout.parse(text)
        if layout not in layouts:
            layouts.append(layout)
    if not layouts:
        raise InvalidSettings("choose at least one layout")
    if len(layouts) > MAX_LAYOUTS:
        raise InvalidSettings(f"at most {MAX_LAYOUTS} layouts in one run, got {len(layouts)}")
    return tuple(layouts)


def scheduler_address(value: Any) -> str:
    """A Dask scheduler's address as tcp://HOST:PORT; InvalidSettings for anything else.

    Only plain TCP: tls:// needs certificates this lab does not manage, and
    other protocols (inproc, ucx) cannot reach a scheduler started by hand.
    """
    text = str(value).strip()
    found = SCHEDULER_PATTERN.fullmatch(text)
    port = int(found.group(2)) if found else 0
    if found is None or not 1 <= port <= 65535:
        raise InvalidSettings(f"--scheduler must be tcp://HOST:PORT, got {text[:60]!r}")
    return f"tcp://{found.group(1)}:{port}"


def configured_scheduler(env: Mapping[str, str] = os.environ) -> str | None:
    """The scheduler this host offers (GIL_LAB_DASK_SCHEDULER), or None; a malformed one is refused."""
    raw = config.text(env, config.DASK_SCHEDULER)
    if raw is None:
        return None
    try:
        return scheduler_address(raw)
    except InvalidSettings:
        raise InvalidSettings(
            f"{config.DASK_SCHEDULER} must be tcp://HOST:PORT, got {raw[:60]!r}; ask the host to fix it"
        ) from None


@dataclass(frozen=True)
class ClusterSettings:
    """What to run: one workload, N tasks, on each layout in turn (or on one existing cluster), R times.

    `layouts` is empty when `scheduler` names an existing cluster: its layout
    is what the scheduler reports when the run starts.
    """

    workload: str
    tasks: int
    size: int
    layouts: tuple[ClusterLayout, ...]
    repeats: int = 1
    scheduler: str | None = None

    @classmethod
    def create(
        cls,
        workload: str,
        *,
        tasks: Any = None,
        size: Any = None,
        layouts: Any = None,
        repeats: Any = None,
        scheduler: Any = None,
    ) -> ClusterSettings:
        """Validate raw values (ints or strings); None (or a blank string) means the default."""
        if workload not in CLUSTER_WORKLOADS:
            raise InvalidSettings(
                f"unknown cluster workload {str(workload)[:40]!r}; choose from {', '.join(CLUSTER_WORKLOADS)}"
            )
        info = WORKLOADS[workload]
        layouts, scheduler = blank_to_none(layouts), blank_to_none(scheduler)
        address = None if scheduler is None else scheduler_address(scheduler)
        if address is not None and layouts is not None:
            raise InvalidSettings(
                "--layouts does not apply with --scheduler: the run uses that cluster as it is; give one"
            )
        return cls(
            workload=workload,
            tasks=whole("tasks", tasks, DEFAULT_TASKS, 1, MAX_TASKS),
            size=whole("size", size, info.default_size, 1, info.max_size),
            layouts=() if address is not None else parse_layouts(layouts or DEFAULT_LAYOUTS),
            repeats=whole("repeats", repeats, 1, 1, MAX_REPEATS),
            scheduler=address,
        )

    @property
    def info(self) -> Workload:
        return WORKLOADS[self.workload]

    @property
    def layout_names(self) -> tuple[str, ...]:
        return tuple(layout.name for layout in self.layouts)

    @property
    def positions(self) -> int:
        """How many layouts the run measures: one per local layout, or the one existing cluster."""
        return len(self.layouts) if self.scheduler is None else 1

    def describe(self) -> str:
        where = (
            f"the cluster at {self.scheduler}" if self.scheduler else f"layouts {','.join(self.layout_names)}"
        )
        size = f" of {self.size:,} {self.info.unit}"
        repeats = f", {self.repeats} repeats" if self.repeats > 1 else ""
        return f"{self.tasks} {self.workload} tasks{size} on {where}{repeats}"

    def cost(self, usable_cores: float) -> float:
        """Seconds the run keeps the host busy: the driver, each cluster's start and every repeat's tasks.

        An existing cluster's layout is only known once connected, so it is
        estimated as one thread: the host can promise no more.
        """
        cost = self.info.cost(self.size)
        computes_reference = type(self.info).reference_value is not Workload.reference_value
        reference = cost.cpu_s if computes_reference else 0.0  # the driver computes it once, first
        cores = max(usable_cores, 0.1)
        layouts = self.layouts if self.scheduler is None else (ClusterLayout.uniform(1, 1),)
        total = DRIVER_START_S + reference
        for layout in layouts:
            parallel = layout.slots if self.info.releases_gil else layout.workers
            speed = min(parallel, self.tasks, cores)
            rounds = math.ceil(self.tasks / min(layout.slots, self.tasks))
            work = self.tasks * cost.cpu_s / speed + rounds * cost.wait_s
            start = CONNECT_S if self.scheduler else CLUSTER_START_S + WORKER_START_S * layout.workers
            total += start + work * self.repeats
        return total

    def admit(self, hosting: HostRules, env: Mapping[str, str] = os.environ) -> ClusterSettings:
        """The settings this host will run, or InvalidSettings/OverBudget saying what to change.

        In public mode the only scheduler is the host's own: an address a
        visitor names could reach into the host's network.
        """
        if not hosting.public:
            return self
        host_scheduler = configured_scheduler(env)
        if self.scheduler is not None and self.scheduler != host_scheduler:
            offer = "; choose this host's cluster instead" if host_scheduler else ""
            raise InvalidSettings(f"this host is public and connects to no scheduler a visitor names{offer}")
        limits = hosting.limits
        if self.repeats > limits.max_repeats:
            raise InvalidSettings(f"at most {limits.max_repeats} repeats here; lower Repeats")
        for layout in self.layouts:
            if layout.workers > limits.max_processes:
                raise InvalidSettings(
                    f"layout {layout.name} starts {layout.workers} worker processes; at most "
                    f"{limits.max_processes} processes here — choose layouts with fewer workers"
                )
            if layout.slots > limits.max_concurrency:
                raise InvalidSettings(
                    f"layout {layout.name} runs {layout.slots} threads; at most {limits.max_concurrency} "
                    "here — choose layouts with fewer threads"
                )
        seconds = self.cost(hosting.usable_cores)
        hosting.check_budget(seconds, "Task count, Workload size, layouts or Repeats")
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "tasks": self.tasks,
            "size": self.size,
            "layouts": list(self.layout_names),
            "repeats": self.repeats,
            "scheduler": self.scheduler,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterSettings:
        return cls.create(
            data["workload"],
            tasks=data.get("tasks"),
            size=data.get("size"),
            layouts=data.get("layouts") or None,
            repeats=data.get("repeats"),
            scheduler=data.get("scheduler"),
        )
