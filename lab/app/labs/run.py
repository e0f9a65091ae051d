"""The CPU-bound and I/O-bound labs: a workload in batch, threads, processes, subinterpreters and asyncio.

One class serves both; they differ in their workloads. The CPU-bound lab
also offers a person's own function ("your function", on their own machine
only: public mode never runs a visitor's code), and both labs offer every
Python this host found, the GIL switch of free-threaded builds, the X-ray and
the switch interval.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts import run as charts
from lab.app.charts import xray as xray_charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.form import (
    DEFAULT_FUNCTION,
    LABS,
    SWITCH_INTERVALS_MS,
    ControlRange,
    Controls,
    RunForm,
    defaults_for,
    nearest,
)
from lab.app.history import history_table, modes_table, run_label
from lab.app.links import link_params, read_link
from lab.core.errors import InvalidSettings
from lab.core.interpreters import GIL_SETTINGS
from lab.engine.results import RunResult
from lab.engine.runner import Experiment
from lab.engine.settings import MODES, START_METHODS, RunSettings
from lab.engine.workloads import WORKLOADS
from lab.run import csvio
from lab.run.csvio import ImportedRun, Run
from lab.run.takeaway import takeaway
from lab.run.trace import trace_of
from lab.run.verdict import verdict

MODE_HELP = {
    "batch": "one task after another, in one thread",
    "threads": "one threading.Thread per task (or a pool, under Advanced)",
    "processes": "a process pool: one interpreter, and one GIL, per process",
    "interpreters": "a pool of subinterpreters in one process, each with its own GIL (3.12+)",
    "asyncio": "coroutines on one event loop: awaits sleep or the async HTTP client",
    "asyncio_to_thread": "the blocking call in asyncio.to_thread, as FastAPI runs a plain def",
    "asyncio_blocking": "the blocking call straight inside async def: the classic mistake",
}
OWN_PYTHON = ""  # the interpreter choice meaning "the server's own"
EXAMPLE_CODE = '''import re

WORDS = re.compile(r"[a-z]+")


def work(n: int) -> int:
    """Count the words in n lines of text: re releases no GIL here."""
    line = "the quick brown fox jumps over the lazy dog " * 4
    return sum(len(WORDS.findall(line)) for _ in range(n))
'''
EXAMPLE_ARGS = "[20000]"


class RunLab(Lab[RunForm, RunSettings, Experiment, Run]):
    """The CPU-bound or the I/O-bound lab."""

    csv_name = "gil-lab-history.csv"
    explainer = "gil"

    def __init__(self, key: str, title: str, intro: str) -> None:
        self.key = key
        self.title = title
        self.intro = intro
        self.workloads = tuple(
            name for name in LABS[title] if not WORKLOADS[name].private_only or not state.hosting().public
        )

    @property
    def widget_key(self) -> str:
        return f"{self.key}_workload"

    def k(self, name: str) -> str:
        """The session-state key of one of this lab's widgets."""
        return f"{self.key}_{name}"

    def controls(self) -> Controls:
        """The controls' ranges; in public mode the process count stops at the host's cap."""
        base = Controls()
        host = state.hosting()
        if not host.public:
            return base
        cap = max(1, min(base.workers.high, host.limits.max_processes))
        return replace(base, workers=ControlRange(1, cap, min(base.workers.default, cap)))

    def read_link(self, params: Mapping[str, Any]) -> tuple[RunForm, list[str]]:
        form, notices = read_link(
            params,
            self.controls(),
            state.machine().parallel_slots,
            pythons=state.interpreter_names(),
            allow_code=not state.hosting().public,
        )
        if form.workload not in self.workloads:
            form = replace(
                defaults_for(self.workloads[0], state.machine().parallel_slots), python=form.python
            )
        if WORKLOADS[form.workload].needs_code and not form.code:
            form = replace(form, code=EXAMPLE_CODE, args=form.args if form.args != "[]" else EXAMPLE_ARGS)
        return form, notices

    def apply(self, form: RunForm) -> None:
        values = {
            "workload": form.workload,
            "tasks": form.tasks,
            f"size_{form.workload}": form.size,
            "workers": form.workers,
            "threads": form.threads,
            "modes": list(form.modes),
            "url": form.url,
            "latency_ms": form.latency_ms,
            "repeats": form.repeats,
            "start_method": form.start_method or "default",
            "python": form.python,
            "gil": form.gil or "default",
            "xray": form.xray,
            "switch_interval_ms": form.switch_interval_ms,
            "code": form.code or EXAMPLE_CODE,
            "function": form.function,
            "args": form.args if form.code else EXAMPLE_ARGS,
        }
        for name, value in values.items():
            st.session_state[self.k(name)] = value

    def on_workload_change(self) -> None:
        """A new workload brings its own sensible defaults (task count, modes)."""
        defaults = defaults_for(st.session_state[self.k("workload")], state.machine().parallel_slots)
        st.session_state[self.k("tasks")] = defaults.tasks
        st.session_state[self.k("modes")] = list(defaults.modes)

    def sidebar(self) -> RunForm:
        limits = self.controls()
        st.header(self.title)
        workload = st.radio(
            "Workload",
            self.workloads,
            key=self.k("workload"),
            on_change=self.on_workload_change,
            format_func=lambda name: WORKLOADS[name].label,
        )
        info = WORKLOADS[workload]
        code, function, args = "", DEFAULT_FUNCTION, "[]"
        if info.needs_code:
            code = st.text_area(
                "Your function",
                key=self.k("code"),
                height=220,
                help="A module: imports and one or more functions. Every task calls the one named below.",
            )
            function = st.text_input("Function to call", key=self.k("function"), max_chars=100).strip()
            args = st.text_input(
                "Arguments (a JSON array)", key=self.k("args"), help="Passed to every call, e.g. [20000]."
            )
        tasks = st.slider("Task count", limits.tasks.low, limits.tasks.high, key=self.k("tasks"))
        size = 1
        if info.uses_size:
            size_key = self.k(f"size_{workload}")
            if st.session_state.get(size_key) not in info.size_choices:
                st.session_state[size_key] = nearest(info.size_choices, info.default_size)
            size = st.select_slider(
                "Workload size",
                options=info.size_choices,
                key=size_key,
                format_func=lambda value: f"{value:,}",
                help=f"In {info.unit}; the scale is logarithmic.",
            )
        workers = st.slider(
            "Process count",
            limits.workers.low,
            limits.workers.high,
            key=self.k("workers"),
            help="Workers of the processes and interpreters pools.",
        )
        url, latency = "", st.session_state.get(self.k("latency_ms"), 200)
        if info.downloads:
            url = st.text_input(
                "URL", key=self.k("url"), placeholder="empty: the embedded latency server", max_chars=2048
            ).strip()
            latency = st.slider(
                "Latency (ms)",
                limits.latency_ms.low,
                limits.latency_ms.high,
                key=self.k("latency_ms"),
                disabled=bool(url),
                help="How long the embedded server waits before it answers.",
            )
        modes = st.multiselect(
            "Modes",
            MODES,
            key=self.k("modes"),
            help="\n".join(f"- **{m}**: {text}" for m, text in MODE_HELP.items()),
        )
        repeats = st.slider("Repeats", limits.repeats.low, limits.repeats.high, key=self.k("repeats"))
        python, gil = self.interpreter_controls()
        xray = st.toggle(
            "GIL X-ray",
            key=self.k("xray"),
            help="Sample every thread's state from outside the measured process: on a CPU, waiting "
            "for the GIL or a lock, waiting on I/O, sleeping.",
        )
        with st.expander("Advanced"):
            threads = st.slider(
                "Thread count",
                limits.threads.low,
                limits.threads.high,
                key=self.k("threads"),
                help="0 starts one thread per task; a number uses a pool of that many threads.",
            )
            start_method = st.selectbox(
                "Start method", ["default", *START_METHODS], key=self.k("start_method")
            )
            switch = st.select_slider(
                "Switch interval (ms)",
                options=SWITCH_INTERVALS_MS,
                key=self.k("switch_interval_ms"),
                format_func=lambda value: "default (5)" if value == 0 else f"{value:g}",
                help="sys.setswitchinterval: how long a thread may hold the GIL before it is asked to hand "
                "it over.",
            )
        return RunForm(
            workload=workload,
            tasks=tasks,
            size=size,
            workers=workers,
            threads=threads,
            modes=tuple(modes),
            url=url,
            latency_ms=latency,
            repeats=repeats,
            start_method="" if start_method == "default" else start_method,
            python=python,
            gil=gil,
            xray=xray,
            switch_interval_ms=switch,
            code=code,
            function=function or DEFAULT_FUNCTION,
            args=args,
        )

    def interpreter_controls(self) -> tuple[str, str]:
        """The interpreter (by name, from the discovered list); for free-threaded builds, the GIL switch."""
        found = {interpreter.name: interpreter for interpreter in state.interpreters()}
        names = [OWN_PYTHON, *found]
        if st.session_state.get(self.k("python")) not in names:
            st.session_state[self.k("python")] = OWN_PYTHON
        python = st.selectbox(
            "Interpreter",
            names,
            key=self.k("python"),
            format_func=lambda name: found[name].label if name else "this server's Python",
            help="Every Python found on this machine (python -m lab pythons).",
        )
        chosen = found.get(python)
        if chosen is None or not chosen.free_threaded:
            return python, ""
        gil = st.radio(
            "GIL",
            ["default", *GIL_SETTINGS],
            key=self.k("gil"),
            horizontal=True,
            help="A free-threaded build runs without the GIL unless told otherwise (PYTHON_GIL).",
        )
        return python, "" if gil == "default" else gil

    def link(self, form: RunForm) -> tuple[dict[str, str], list[str]]:
        return link_params(form)

    def form_of(self, run: Run) -> RunForm | None:
        """A stored run's settings as this lab's controls; None for your own function (its code is gone)."""
        settings = run.settings
        if settings.info.needs_code or settings.workload not in self.workloads:
            return None
        return RunForm(
            workload=settings.workload,
            tasks=settings.tasks,
            size=settings.size,
            workers=settings.workers or state.machine().parallel_slots,
            threads=settings.threads or 0,
            modes=settings.modes,
            url=settings.url or "",
            latency_ms=settings.latency_ms,
            repeats=settings.repeats,
            start_method=settings.start_method or "",
            python=settings.python or "",
            gil=settings.gil or "",
            xray=settings.xray,
            switch_interval_ms=settings.switch_interval_ms or 0.0,
        )

    def function_target(self, form: RunForm) -> str | None:
        """Write the person's code to a module of this session and name its function (PATH.py:FUNCTION)."""
        if not WORKLOADS[form.workload].needs_code:
            return None
        if not form.code.strip():
            raise InvalidSettings("write a function in the code box first")
        folder = Path(st.session_state.setdefault("code_dir", tempfile.mkdtemp(prefix="gil-lab-code-")))
        version = folder / hashlib.sha256(form.code.encode()).hexdigest()[:12]  # each edit, its own folder
        path = version / "your_code.py"
        if not path.exists():
            version.mkdir(exist_ok=True)
            path.write_text(form.code, encoding="utf-8")
        return f"{path}:{form.function}"

    def settings(self, form: RunForm) -> RunSettings:
        host = state.hosting()
        settings: RunSettings = host.admit(form.run_settings(self.function_target(form)))
        host.interpreter(settings, allow_paths=False)  # refuses a name this host does not offer
        return settings

    def estimate(self, settings: RunSettings) -> str | None:
        if settings.info.needs_code:
            return f"{settings.tasks} calls × {settings.repeats} repeat(s) in {', '.join(settings.modes)}"
        seconds = state.hosting().estimate_seconds(settings)
        return (
            f"{settings.tasks} {settings.workload} tasks × {settings.repeats} repeat(s) in "
            f"{', '.join(settings.modes)}: about {seconds:.0f} s on this machine"
        )

    def experiment(self, settings: RunSettings, form: RunForm) -> Experiment:
        host = state.hosting()
        interpreter = host.interpreter(settings, allow_paths=False)
        host.check_runnable(settings, interpreter)
        target = (
            state.latency_server().url(settings.latency_ms, settings.bytes)
            if settings.uses_embedded_server
            else None
        )
        return Experiment(
            settings,
            interpreter=interpreter,
            target_url=target,
            deadline_s=host.deadline_s,
            public=host.public,
        )

    def progress(self, settings: RunSettings) -> Progress[Experiment]:
        return ModeBars(settings)

    def finish(self, experiment: Experiment) -> Run | None:
        result = experiment.result()
        return result if result.runs else None

    def owns(self, run: object) -> bool:
        return isinstance(run, RunResult | ImportedRun) and run.settings.kind == (
            "cpu" if self.title == "CPU-bound" else "io"
        )

    def draw(self, result: Run) -> None:
        draw_run(result)

    def history_view(self, runs: list[Run]) -> None:
        st.dataframe(
            history_table(runs),
            width="stretch",
            hide_index=True,
            column_config={"speedup": st.column_config.NumberColumn(format="%.2f×")},
        )
        st.plotly_chart(charts.history_speedup_chart(modes_table(runs)))

    def to_csv(self, runs: list[Run]) -> str:
        return csvio.to_csv(runs)

    def run_label(self, number: int, run: Run) -> str:
        return run_label(number, run)


class ModeBars(Progress[Experiment]):
    """One progress bar per mode: tasks done over all repeats, elapsed time, state."""

    def __init__(self, settings: RunSettings) -> None:
        self.bars = {mode: Bar(0.0, f"{mode}: waiting") for mode in settings.modes}

    def update(self, experiment: Experiment) -> None:
        for row in experiment.progress():
            label = f"{row.mode}: {row.done}/{row.total} tasks · {row.elapsed:.1f} s · {row.state}"
            self.bars[row.mode].show(row.done / row.total if row.total else 0.0, label)


def draw_run(result: Run) -> None:
    """A run's figures: a metric per mode, the takeaway, time, speedup, cores, timeline and X-ray."""
    st.subheader("Results")
    if result.interpreter is not None:
        st.caption(f"Measured with {result.interpreter.describe()}")
    summaries = result.summaries()
    for column, summary in zip(st.columns(len(summaries)), summaries, strict=True):
        speedup = f"{summary.speedup:.2f}× {result.baseline_mode}" if summary.speedup is not None else None
        column.metric(summary.mode, f"{summary.seconds:.3f} s", speedup, delta_color="off")
        column.caption(f"{summary.cores_busy:.2f} cores busy · {summary.workers} worker(s)")
        if summary.failed:
            column.error(f"{summary.failed} task(s) failed")
    if result.settings.info.releases_gil is None:
        draw_verdict(result)
    st.markdown("\n".join(f"- {sentence}" for sentence in takeaway(result)))
    left, right = st.columns(2)
    left.plotly_chart(charts.time_chart(result))
    right.plotly_chart(charts.speedup_chart(result))
    left.plotly_chart(charts.cores_chart(result))
    with right:
        st.markdown(
            "**Cores busy** is CPU seconds ÷ wall seconds. Pure-Python threads stay near 1 "
            "whatever their number: the GIL lets one of them run at a time. Processes, subinterpreters, "
            "free-threaded builds and C code that releases the GIL can reach the usable cores. Waiting "
            "keeps none busy."
        )
    if isinstance(result, RunResult):
        st.plotly_chart(charts.timeline_chart(result))
        draw_xray(result)
    failures = result.failures()
    if failures:
        st.error(f"{len(failures)} task(s) failed")
        st.dataframe(
            [
                {"mode": mode, "repeat": repeat + 1, "task": span.index, "reason": span.error}
                for mode, repeat, span in failures
            ],
            width="stretch",
        )


def draw_xray(result: RunResult) -> None:
    """The X-ray of each mode's representative repeat, with a Perfetto trace to download."""
    xrayed = [
        summary for summary in result.summaries() if summary.xray and summary.xray.get("threads") is not None
    ]
    if not xrayed:
        return
    st.subheader("GIL X-ray")
    st.caption(
        "Sampled from outside the measured processes (Linux /proc). Red is a thread waiting for the GIL "
        "or a lock, green a thread on a CPU: pure-Python threads hand the GIL on every switch interval."
    )
    st.markdown(
        "\n".join(f"- {xray_charts.figures_line(summary.mode, summary.xray or {})}" for summary in xrayed)
    )
    tabs = st.tabs([summary.mode for summary in xrayed])
    for tab, summary in zip(tabs, xrayed, strict=True):
        with tab:
            figures = summary.xray or {}
            title = f"X-ray of {summary.mode} ({len(figures['threads'])} task threads)"
            st.plotly_chart(xray_charts.xray_figure(figures, title, result.machine.usable_cores))
    st.download_button(
        "Download the trace for Perfetto",
        data=json.dumps(trace_of(result)),
        file_name=f"gil-lab-{result.run_id}.trace.json",
        mime="application/json",
        help="Chrome Trace Event JSON: open it in ui.perfetto.dev or chrome://tracing.",
    )


VERDICT_TITLES = {
    "holds_gil": "Verdict: holds the GIL",
    "releases_gil": "Verdict: releases the GIL",
    "waits": "Verdict: mostly waits",
    "unknown": "No verdict",
}


def draw_verdict(result: Run) -> None:
    """How GIL-bound the person's function is, with the share, its uncertainty and how it was computed."""
    found = verdict(result)
    share = ""
    if found.gil_share is not None:
        error = f" ± {found.gil_share_err:.0%}" if found.gil_share_err is not None else ""
        share = f" — about {found.gil_share:.0%}{error} of its time holds the GIL"
    body = f"**{VERDICT_TITLES[found.kind]}**{share}. {found.advice}\n\n_{found.basis}._"
    if found.xray_shares:
        shares = found.xray_shares
        body += (
            f"\n\nX-ray of the threads: {shares['on_cpu']:.0%} on a CPU, {shares['gil_or_lock']:.0%} waiting "
            f"for the GIL or a lock, {shares['waiting']:.0%} waiting on I/O or sleeping."
        )
    (st.success if found.kind == "releases_gil" else st.info)(body)


CPU_BOUND_INTRO = (
    "Pure-Python work, C code that releases the GIL, or a function of yours, run one task at a time, "
    "in threads, in processes, in subinterpreters and with asyncio, under any Python on this machine."
)
IO_BOUND_INTRO = (
    "Downloads and plain waiting, run one task at a time, in threads, in processes and with asyncio: "
    "a waiting thread does not hold the GIL."
)


def cpu_bound() -> RunLab:
    return RunLab("cpu", "CPU-bound", CPU_BOUND_INTRO)


def io_bound() -> RunLab:
    return RunLab("io", "I/O-bound", IO_BOUND_INTRO)
