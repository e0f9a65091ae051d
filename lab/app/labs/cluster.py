"""The Cluster lab: the lab's tasks on a Dask cluster, where each worker is a process with a pool of threads.

The layouts (W worker processes x T threads) are the processes-vs-threads
choice at cluster scale: each runs on a LocalCluster started for it, and the
first is the baseline of the speedups. A run can also go to a scheduler: the
host's own (GIL_LAB_DASK_SCHEDULER), or, on a person's own machine, one they
name. Links never carry an address: a link that could point a page at any
address would be a way into the network of whoever opens it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts import cluster as charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.form import ControlRange, nearest
from lab.app.history import display_time
from lab.app.links import LinkReader
from lab.cluster import csvio
from lab.cluster.csvio import ClusterRun, ImportedClusterRun
from lab.cluster.results import ClusterResult
from lab.cluster.runner import ClusterExperiment
from lab.cluster.settings import (
    CLUSTER_WORKLOADS,
    LOCAL,
    ClusterLayout,
    ClusterSettings,
    configured_scheduler,
)
from lab.cluster.takeaway import takeaway
from lab.core import config
from lab.core.errors import InvalidSettings
from lab.engine.workloads import WORKLOADS

INTRO = (
    "The same tasks on a Dask cluster: each worker is a process with its own GIL and a pool of threads, "
    "so worker processes × threads is the processes-vs-threads choice at cluster scale."
)
OFFERED_LAYOUTS: tuple[str, ...] = ("1x1", "1x2", "2x1", "2x2", "1x4", "4x1")
DEFAULT_LAYOUTS: tuple[str, ...] = ("1x1", "1x2", "2x1")
TASK_RANGE = ControlRange(1, 64, 8)
REPEAT_RANGE = ControlRange(1, 5, 1)
WHERE_LABELS = {
    "local": "A LocalCluster per layout",
    "host": "This host's Dask cluster",
    "address": "A scheduler you name",
}


@dataclass(frozen=True)
class ClusterControls:
    """The controls' ranges: also the bounds a share link is clamped to."""

    tasks: ControlRange = TASK_RANGE
    repeats: ControlRange = REPEAT_RANGE


@dataclass(frozen=True)
class ClusterForm:
    """What the Cluster lab's sidebar holds, in the CLI's names.

    `where` is "local" (a LocalCluster per layout), "host" (the scheduler the
    host set) or "address" (one the person typed, on their own machine only).
    """

    workload: str = "squares"
    tasks: int = 8
    size: int = 3_000_000
    layouts: tuple[str, ...] = DEFAULT_LAYOUTS
    repeats: int = 1
    where: str = "local"
    address: str = ""

    def cluster_settings(self, host_scheduler: str | None) -> ClusterSettings:
        """The engine's settings for what the controls hold (InvalidSettings if they cannot run)."""
        scheduler: str | None = None
        if self.where == "host":
            if host_scheduler is None:
                raise InvalidSettings("this host offers no Dask cluster; choose a LocalCluster per layout")
            scheduler = host_scheduler
        elif self.where == "address":
            if not self.address.strip():
                raise InvalidSettings("enter the scheduler's address, tcp://HOST:PORT")
            scheduler = self.address
        return ClusterSettings.create(
            self.workload,
            tasks=self.tasks,
            size=self.size,
            layouts=self.layouts if scheduler is None else None,
            repeats=self.repeats,
            scheduler=scheduler,
        )


def host_offers_cluster() -> bool:
    """Whether the host named a scheduler at all (a malformed one is refused when a run is admitted)."""
    return config.text(os.environ, config.DASK_SCHEDULER) is not None


def offered_layouts() -> tuple[str, ...]:
    """The layouts people may choose here: in public mode, none with more processes than the host allows."""
    host = state.hosting()
    if not host.public:
        return OFFERED_LAYOUTS
    cap = host.limits.max_processes
    return tuple(name for name in OFFERED_LAYOUTS if ClusterLayout.parse(name).workers <= cap)


def offered_places() -> tuple[str, ...]:
    places = ["local"]
    if host_offers_cluster():
        places.append("host")
    if not state.hosting().public:
        places.append("address")
    return tuple(places)


def read_cluster_link(
    params: Mapping[str, Any], controls: ClusterControls, layouts: tuple[str, ...], places: tuple[str, ...]
) -> tuple[ClusterForm, list[str]]:
    """The form from a share link, clamped like every lab's; never an address (see the module docstring)."""
    reader = LinkReader(params)
    workload = reader.choice("workload", CLUSTER_WORKLOADS, "squares")
    info = WORKLOADS[workload]
    default_size = nearest(info.size_choices, info.default_size)
    defaults = tuple(name for name in DEFAULT_LAYOUTS if name in layouts) or layouts[:1]
    linkable = tuple(place for place in places if place != "address")
    if reader.text("scheduler") is not None:
        reader.notices.append("ignored the link's scheduler: a link never chooses an address")
    form = ClusterForm(
        workload=workload,
        tasks=reader.number("tasks", controls.tasks, controls.tasks.default),
        size=reader.size(info.size_choices, default_size),
        layouts=reader.names("layouts", layouts, defaults, "layout"),
        repeats=reader.number("repeats", controls.repeats, controls.repeats.default),
        where=reader.choice("cluster", linkable, "local"),
    )
    return form, reader.notices


def cluster_link_params(form: ClusterForm) -> tuple[dict[str, str], list[str]]:
    params = {
        "workload": form.workload,
        "tasks": str(form.tasks),
        "size": str(form.size),
        "repeats": str(form.repeats),
    }
    notices: list[str] = []
    if form.where == "local":
        params["layouts"] = ",".join(form.layouts)
    elif form.where == "host":
        params["cluster"] = "host"
    else:
        notices.append(
            "A share link never carries a scheduler address: it opens with a LocalCluster per layout."
        )
    return params, notices


def history_rows(runs: list[ClusterRun]) -> list[dict[str, Any]]:
    """One row per run for the history table: where it ran, its best layout and that layout's speedup."""
    rows = []
    for number, run in enumerate(runs, start=1):
        measured = [s for s in run.summaries() if s.speedup is not None]
        best = max(measured, key=lambda summary: summary.speedup or 0.0, default=None)
        rows.append(
            {
                "run": number,
                "time": display_time(run.created),
                "workload": run.settings.workload,
                "tasks": run.settings.tasks,
                "size": run.settings.size,
                "cluster": "local" if run.scheduler == LOCAL else run.scheduler,
                "layouts": ", ".join(summary.name for summary in run.summaries()),
                "best layout": best.name if best else None,
                "speedup": round(best.speedup, 2) if best and best.speedup is not None else None,
                "status": run.status.replace("_", " "),
                "source": "imported" if isinstance(run, ImportedClusterRun) else "measured",
            }
        )
    return rows


class ClusterLab(Lab[ClusterForm, ClusterSettings, ClusterExperiment, ClusterRun]):
    key = "cluster"
    title = "Cluster"
    intro = INTRO
    explainer = "cluster"
    csv_name = "gil-lab-cluster-history.csv"
    running_label = "Running the Cluster lab…"

    @property
    def widget_key(self) -> str:
        return "cluster_workload"

    def read_link(self, params: Mapping[str, Any]) -> tuple[ClusterForm, list[str]]:
        return read_cluster_link(params, ClusterControls(), offered_layouts(), offered_places())

    def apply(self, form: ClusterForm) -> None:
        st.session_state.cluster_workload = form.workload
        st.session_state.cluster_tasks = form.tasks
        st.session_state[f"cluster_size_{form.workload}"] = form.size
        st.session_state.cluster_layouts = list(form.layouts)
        st.session_state.cluster_repeats = form.repeats
        st.session_state.cluster_where = form.where
        st.session_state.cluster_address = form.address

    def sidebar(self) -> ClusterForm:
        """Workload, tasks, size, where it runs (layouts or a scheduler), repeats."""
        ranges = ClusterControls()
        st.header(self.title)
        workload = st.radio(
            "Workload",
            CLUSTER_WORKLOADS,
            key="cluster_workload",
            format_func=lambda name: WORKLOADS[name].label,
        )
        info = WORKLOADS[workload]
        tasks = st.slider("Task count", ranges.tasks.low, ranges.tasks.high, key="cluster_tasks")
        size_key = f"cluster_size_{workload}"
        if st.session_state.get(size_key) not in info.size_choices:
            st.session_state[size_key] = nearest(info.size_choices, info.default_size)
        size = st.select_slider(
            "Workload size",
            options=info.size_choices,
            key=size_key,
            format_func=lambda value: f"{value:,}",
            help=f"In {info.unit}; the scale is logarithmic.",
        )
        places = offered_places()
        if st.session_state.get("cluster_where") not in places:
            st.session_state.cluster_where = "local"
        where = st.radio("Cluster", places, key="cluster_where", format_func=WHERE_LABELS.__getitem__)
        layouts: tuple[str, ...] = DEFAULT_LAYOUTS
        address = ""
        if where == "local":
            choices = offered_layouts()
            kept = [name for name in st.session_state.get("cluster_layouts", []) if name in choices]
            st.session_state.cluster_layouts = kept
            layouts = tuple(
                st.multiselect(
                    "Layouts",
                    choices,
                    key="cluster_layouts",
                    help="WxT: W worker processes with T threads each. The first is the baseline.",
                )
            )
        elif where == "address":
            address = st.text_input(
                "Scheduler address", key="cluster_address", placeholder="tcp://127.0.0.1:8786", max_chars=300
            ).strip()
        else:
            st.caption("The run uses the host's cluster as it is; its layout is read from its scheduler.")
        repeats = st.slider("Repeats", ranges.repeats.low, ranges.repeats.high, key="cluster_repeats")
        return ClusterForm(
            workload=workload,
            tasks=tasks,
            size=size,
            layouts=layouts,
            repeats=repeats,
            where=where,
            address=address,
        )

    def link(self, form: ClusterForm) -> tuple[dict[str, str], list[str]]:
        return cluster_link_params(form)

    def settings(self, form: ClusterForm) -> ClusterSettings:
        host_scheduler = configured_scheduler() if form.where == "host" else None
        admitted: ClusterSettings = state.hosting().admit(form.cluster_settings(host_scheduler))
        return admitted

    def estimate(self, settings: ClusterSettings) -> str | None:
        seconds = settings.cost(state.machine().usable_cores)
        return f"{settings.describe()}: about {seconds:.0f} s on this machine"

    def experiment(self, settings: ClusterSettings, form: ClusterForm) -> ClusterExperiment:
        return ClusterExperiment(settings, deadline_s=state.hosting().deadline_s)

    def progress(self, settings: ClusterSettings) -> Progress[ClusterExperiment]:
        return LayoutBars(settings)

    def finish(self, experiment: ClusterExperiment) -> ClusterRun | None:
        result = experiment.result()
        return result if result.runs else None

    def owns(self, run: object) -> bool:
        return isinstance(run, ClusterResult | ImportedClusterRun)

    def draw(self, result: ClusterRun) -> None:
        st.subheader("Results")
        summaries = result.summaries()
        if result.scheduler == LOCAL:
            st.caption("Measured on a LocalCluster per layout, started for it and closed after it.")
        elif summaries:
            st.caption(f"Measured on the cluster at {result.scheduler}: {summaries[0].layout.describe()}.")
        base = summaries[0].name if summaries else ""
        for column, summary in zip(st.columns(max(1, len(summaries))), summaries, strict=False):
            speedup = f"{summary.speedup:.2f}× {base}" if summary.speedup is not None else None
            column.metric(summary.name, f"{summary.seconds:.3f} s", speedup, delta_color="off")
            column.caption(
                f"{summary.cores_busy:.2f} cores busy · "
                f"{summary.overhead_ms_per_task:.1f} ms overhead per task"
            )
            if summary.failed:
                column.error(f"{summary.failed} task(s) failed")
        st.markdown("\n".join(f"- {sentence}" for sentence in takeaway(result)))
        left, right = st.columns(2)
        if result.scheduler == LOCAL:
            left.plotly_chart(charts.speedup_chart(result))
            right.plotly_chart(charts.cores_chart(result))
        else:
            left.plotly_chart(charts.cores_chart(result))
            right.plotly_chart(charts.overhead_chart(result))
        if result.scheduler == LOCAL:
            left, right = st.columns(2)
            left.plotly_chart(charts.overhead_chart(result))
            right.markdown(
                "**Overhead per task** is the time the layout's worker threads spent outside any task "
                "(wall time × threads − the tasks' own time), divided by the tasks: sending tasks and "
                "results, the scheduler's decisions, and threads left idle at the end. Waiting for the GIL "
                "*inside* a task is the task's own time: it shows in cores busy."
            )
        if isinstance(result, ClusterResult):
            st.plotly_chart(charts.task_stream_chart(result))
            failures = result.failures()
            if failures:
                st.error(f"{len(failures)} task(s) failed")
                st.dataframe(
                    [
                        {"layout": layout, "repeat": repeat + 1, "task": task.index, "reason": task.error}
                        for layout, repeat, task in failures
                    ],
                    width="stretch",
                )

    def history_view(self, runs: list[ClusterRun]) -> None:
        st.dataframe(history_rows(runs), width="stretch", hide_index=True)

    def to_csv(self, runs: list[ClusterRun]) -> str:
        return csvio.to_csv(runs)

    def run_label(self, number: int, run: ClusterRun) -> str:
        return f"#{number} cluster {run.settings.workload}"


class LayoutBars(Progress[ClusterExperiment]):
    """One progress bar per layout: tasks done over all repeats, elapsed time, state."""

    def __init__(self, settings: ClusterSettings) -> None:
        names = settings.layout_names or (f"the cluster at {settings.scheduler}",)
        self.bars = [Bar(0.0, f"{name}: waiting") for name in names]

    def update(self, experiment: ClusterExperiment) -> None:
        for row in experiment.progress():
            share = row.done / row.total if row.total else 0.0
            state_text = "starting its cluster" if row.state == "starting" else row.state
            label = f"{row.name}: {row.done}/{row.total} tasks · {row.elapsed:.1f} s · {state_text}"
            self.bars[row.position].show(share, label)
