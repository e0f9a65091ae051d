"""The Cluster lab's results as a versioned data model: run -> layouts -> repeats -> tasks.

Every figure (seconds, speedup, cores busy, scheduling overhead) is a method
here, so the CLI, the page, the CSV and the tests read the same numbers. The
JSON form holds each layout's figures and its representative repeat's tasks
for readers, beside the raw repeats; `from_dict` rebuilds from the raw
repeats only, so the round trip is lossless.

Scheduling overhead, per task: the time the layout's task slots (one per
worker thread) spent outside any task, divided by the tasks,

    overhead = (seconds x slots - sum of every task's own wall time) / tasks

where `seconds` runs from the first submit to the last result and `slots` is
min(worker threads, tasks). It is what Dask costs on top of the work: sending
each task and its result, the scheduler's decisions, the first call's
deserialisation on each worker. Two things it deliberately leaves out: time
a task waited *inside* its thread (for the GIL, for a core) is the task's own
wall time, so a pure-Python 1x2 layout shows its GIL in cores busy, not here;
and when the tasks do not divide evenly over the slots, the slots left idle
at the end count as overhead too (choose a task count that is a multiple of
the slots to read it as Dask's cost alone).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from lab.cluster.settings import LOCAL, ClusterLayout, ClusterSettings
from lab.core.contract import Measured, RunListing, listing_of
from lab.core.errors import ResultsFormatError
from lab.core.machine import Machine
from lab.core.records import check_result_header, new_run_id, now_iso, parse_json
from lab.core.steadiness import Steadiness
from lab.engine.spans import TaskSpan

CLUSTER_SCHEMA_VERSION = 1
CLUSTER_KIND = "cluster"
CLUSTER_STATUSES = ("complete", "cancelled", "cut_short", "crashed")
LOST = "lost"  # the row of a task that never reported back from any worker


@dataclass(frozen=True)
class ClusterTask:
    """One task as a Dask worker ran it: where (worker, process, thread), when, and its CPU.

    `start` and `end` are seconds from the layout's first submit (see
    `lab.cluster.protocol` for the clocks). `label` names the task's row in
    the task stream, one row per worker thread ("worker 1 · thread 2");
    `thread` is the thread's own name in its worker. A task that never came
    back (its worker died too often) has no address and the label `lost`.
    """

    index: int
    address: str
    pid: int
    tid: int | None
    thread: str
    label: str
    start: float
    end: float
    cpu: float
    ok: bool = True
    error: str | None = None
    value: str | None = None

    @property
    def wall(self) -> float:
        return max(0.0, self.end - self.start)

    def span(self) -> TaskSpan:
        """The task as the engine's span, so the timeline's shading and hover read it the same way."""
        return TaskSpan(
            self.index,
            self.label,
            self.pid,
            self.start,
            self.end,
            self.cpu,
            self.ok,
            self.error,
            self.value,
            self.tid,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterTask:
        return cls(
            index=int(data["index"]),
            address=str(data["address"]),
            pid=int(data["pid"]),
            tid=None if data.get("tid") is None else int(data["tid"]),
            thread=str(data["thread"]),
            label=str(data["label"]),
            start=float(data["start"]),
            end=float(data["end"]),
            cpu=float(data["cpu"]),
            ok=bool(data["ok"]),
            error=data.get("error"),
            value=data.get("value"),
        )


def overhead_ms_per_task(seconds: float, slots: int, task_walls: list[float], tasks: int) -> float:
    """(seconds x slots - sum of task walls) / tasks, in ms, never below 0 (see the module docstring)."""
    if tasks <= 0 or seconds <= 0:
        return 0.0
    used = max(1, min(slots, tasks))
    return max(0.0, seconds * used - sum(task_walls)) / tasks * 1000


@dataclass(frozen=True)
class LayoutRun:
    """One repeat of one layout: its real layout, the wall time of its tasks, and every task.

    `position` is the layout's place in the run (0 for an existing cluster);
    `startup_seconds` is the cluster's start (or the connection) before the
    first repeat, which `seconds` leaves out.
    """

    position: int
    repeat: int
    layout: ClusterLayout
    seconds: float
    startup_seconds: float
    tasks: tuple[ClusterTask, ...]
    error: str | None = None

    @property
    def ok(self) -> int:
        return sum(1 for task in self.tasks if task.ok)

    @property
    def failed(self) -> int:
        return len(self.tasks) - self.ok

    @property
    def cpu_seconds(self) -> float:
        return sum(task.cpu for task in self.tasks)

    @property
    def cores_busy(self) -> float:
        """CPU seconds of the tasks / wall seconds: at most one per worker for pure Python."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def overhead_ms_per_task(self) -> float:
        walls = [task.wall for task in self.tasks]
        return overhead_ms_per_task(self.seconds, self.layout.slots, walls, len(self.tasks))

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "repeat": self.repeat,
            **self.layout.to_dict(),
            "seconds": self.seconds,
            "startup_seconds": self.startup_seconds,
            "error": self.error,
            "tasks": [task.to_dict() for task in self.tasks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayoutRun:
        return cls(
            position=int(data["position"]),
            repeat=int(data["repeat"]),
            layout=ClusterLayout.from_dict(data),
            seconds=float(data["seconds"]),
            startup_seconds=float(data["startup_seconds"]),
            tasks=tuple(ClusterTask.from_dict(task) for task in data["tasks"]),
            error=data.get("error"),
        )


@dataclass(frozen=True)
class LayoutSummary:
    """A layout over its repeats: what the CLI table, the page, the CSV row and the takeaway read.

    Times are medians over the repeats; ok and failed count every repeat's
    tasks; `tasks` are the representative repeat's (the one nearest the median).
    """

    position: int
    layout: ClusterLayout
    repeats: int
    seconds: float
    seconds_min: float
    seconds_max: float
    speedup: float | None
    cpu_seconds: float
    cores_busy: float
    overhead_ms_per_task: float
    startup_seconds: float
    ok: int
    failed: int
    tasks: tuple[ClusterTask, ...] = ()
    error: str | None = None

    @property
    def name(self) -> str:
        return self.layout.name

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.layout.to_dict(),
            "seconds": self.seconds,
            "seconds_min": self.seconds_min,
            "seconds_max": self.seconds_max,
            "speedup": self.speedup,
            "cpu_seconds": self.cpu_seconds,
            "cores_busy": self.cores_busy,
            "overhead_ms_per_task": self.overhead_ms_per_task,
            "startup_seconds": self.startup_seconds,
            "repeat_count": self.repeats,
            "ok": self.ok,
            "failed": self.failed,
            "error": self.error,
            "tasks": [task.to_dict() for task in self.tasks],
        }


def summarize(runs: list[LayoutRun], baseline: list[LayoutRun]) -> LayoutSummary:
    """One layout's repeats as figures; speedup against the baseline layout's median seconds.

    A speedup needs both layouts to have done all their work: a layout that
    lost tasks finished early for the wrong reason, so its speedup is None.
    """
    median = statistics.median(run.seconds for run in runs)
    typical = min(runs, key=lambda run: abs(run.seconds - median))
    base = statistics.median(run.seconds for run in baseline)
    complete = not any(run.failed or run.error for run in [*runs, *baseline])
    errors = [run.error for run in runs if run.error]
    return LayoutSummary(
        position=typical.position,
        layout=typical.layout,
        repeats=len(runs),
        seconds=median,
        seconds_min=min(run.seconds for run in runs),
        seconds_max=max(run.seconds for run in runs),
        speedup=base / median if complete and median > 0 else None,
        cpu_seconds=statistics.median(run.cpu_seconds for run in runs),
        cores_busy=statistics.median(run.cores_busy for run in runs),
        overhead_ms_per_task=statistics.median(run.overhead_ms_per_task for run in runs),
        startup_seconds=typical.startup_seconds,
        ok=sum(run.ok for run in runs),
        failed=sum(run.failed for run in runs),
        tasks=typical.tasks,
        error=errors[0] if errors else None,
    )


def summaries_ok(status: str, settings: ClusterSettings, summaries: list[LayoutSummary]) -> bool:
    """Complete, every layout measured, and no task failed."""
    return (
        status == "complete"
        and len(summaries) == settings.positions
        and not any(summary.failed or summary.error for summary in summaries)
    )


@dataclass(frozen=True)
class ClusterResult:
    """A whole Cluster-lab run: settings, the driver's machine, every layout repeat, and how it ended."""

    settings: ClusterSettings
    machine: Machine
    runs: tuple[LayoutRun, ...]
    status: str = "complete"
    message: str | None = None
    run_id: str = field(default_factory=new_run_id)
    created: str = field(default_factory=now_iso)
    schema_version: int = CLUSTER_SCHEMA_VERSION
    steadiness: Steadiness | None = None  # how steady the machine was (lab.core.steadiness)

    @property
    def scheduler(self) -> str:
        """Where it ran: "local" (a LocalCluster per layout) or the existing scheduler's address."""
        return self.settings.scheduler or LOCAL

    @property
    def lab(self) -> str:
        return CLUSTER_KIND

    @property
    def settings_dict(self) -> dict[str, Any]:
        return self.settings.to_dict()

    def listing(self) -> RunListing:
        return cluster_listing(self)

    def summaries(self) -> list[LayoutSummary]:
        positions = sorted({run.position for run in self.runs})
        if not positions:
            return []
        groups = {position: [run for run in self.runs if run.position == position] for position in positions}
        baseline = groups[positions[0]]
        return [summarize(groups[position], baseline) for position in positions]

    def failures(self) -> list[tuple[str, int, ClusterTask]]:
        """(layout, repeat, task) of every task that failed, for the report's 'which and why'."""
        return [(run.layout.name, run.repeat, task) for run in self.runs for task in run.tasks if not task.ok]

    @property
    def all_ok(self) -> bool:
        return summaries_ok(self.status, self.settings, self.summaries())

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "kind": CLUSTER_KIND,
            "lab": CLUSTER_KIND,
            "run_id": self.run_id,
            "created": self.created,
            "status": self.status,
            "message": self.message,
            "steadiness": self.steadiness.to_dict() if self.steadiness is not None else None,
            "scheduler": self.scheduler,
            "settings": self.settings.to_dict(),
            "layouts": [
                {
                    **summary.to_dict(),
                    "repeats": [run.to_dict() for run in self.runs if run.position == summary.position],
                }
                for summary in self.summaries()
            ],
            "machine": self.machine.to_dict(),
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> ClusterResult:
        check_result_header(
            data,
            kind=CLUSTER_KIND,
            schema_version=CLUSTER_SCHEMA_VERSION,
            statuses=CLUSTER_STATUSES,
            what="cluster",
        )
        try:
            return cls(
                settings=ClusterSettings.from_dict(data["settings"]),
                machine=Machine.from_dict(data["machine"]),
                runs=tuple(
                    LayoutRun.from_dict(run) for layout in data["layouts"] for run in layout["repeats"]
                ),
                status=data["status"],
                message=data.get("message"),
                steadiness=Steadiness.from_dict(data["steadiness"]) if data.get("steadiness") else None,
                run_id=data["run_id"],
                created=data["created"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ResultsFormatError(f"not a GIL Lab cluster result: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> ClusterResult:
        return cls.from_dict(parse_json(text))


class ClusterRecord(Measured, Protocol):
    """What a cluster run offers readers, measured (ClusterResult) or read from a CSV."""

    @property
    def settings(self) -> ClusterSettings: ...

    def summaries(self) -> list[LayoutSummary]: ...


def cluster_listing(run: ClusterRecord) -> RunListing:
    """A cluster run in a list of runs: its workload and best speedup over the first layout."""
    summaries = run.summaries()
    headline = max((s.speedup for s in summaries if s.speedup is not None and s.position > 0), default=None)
    return listing_of(
        run,
        CLUSTER_KIND,
        workload=run.settings.workload,
        interpreters=(run.machine.python_label,),
        headline=headline,
        headline_label="best speedup",
    )
