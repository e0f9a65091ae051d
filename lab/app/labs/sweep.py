"""The Scaling view: one workload at several worker counts, per mode and interpreter, with a fitted model.

Where the CPU-bound lab answers "how fast were threads here", this view
answers "how do threads, processes and subinterpreters *scale*, and how far
can each go on this machine": it runs a sweep (`lab.sweep.runner`), draws
speedup and efficiency against workers with the ideal, the fitted curves and
the cores band, and says what the fits mean. Everything else (link, Run and
Cancel, the host's line, history, CSV) is the shared flow of `lab.app.flow`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts.sweep import PNG_CONFIG, figure_html, scaling_figure
from lab.app.flow import Bar, Lab, Progress
from lab.app.form import ControlRange, nearest
from lab.app.history import display_time
from lab.app.links import LinkReader
from lab.core.interpreters import Interpreter
from lab.engine.settings import RunSettings
from lab.engine.workloads import WORKLOADS
from lab.sweep import csvio as sweep_csv
from lab.sweep.report import counts_line, describe_sweep, sweep_takeaway
from lab.sweep.results import LineFit, SweepResult
from lab.sweep.runner import Sweep
from lab.sweep.settings import (
    DEFAULT_MODES,
    DEFAULT_REPEATS,
    DEFAULT_WORKERS,
    SCALES,
    SWEEP_MODES,
    SWEEP_SIZES,
    SweepSettings,
    SweepStep,
)

WORKLOAD_CHOICES: tuple[str, ...] = ("squares", "sha256")
WORKER_CHOICES: tuple[int, ...] = (1, 2, 4, 8, 16)
REPEATS = ControlRange(1, 5, DEFAULT_REPEATS)
SCALE_HELP = (
    "**strong**: the same total work at every worker count — how much faster does it get? "
    "**weak**: the same work per worker — does n times the work take the same time?"
)
MODE_HELP = {
    "threads": "a pool of n threads in one process: one GIL, unless the build is free-threaded",
    "processes": "a pool of n processes: one interpreter, and one GIL, each",
    "interpreters": "a pool of n subinterpreters in one process, each with its own GIL (3.12+)",
}
INTRO = (
    "One workload at 1, 2, 4… workers in threads, processes and subinterpreters, under any Python here: "
    "a fitted serial fraction says how far each can go on this machine."
)


def default_size(workload: str) -> int:
    info = WORKLOADS[workload]
    return nearest(info.size_choices, SWEEP_SIZES.get(workload, info.default_size))


@dataclass(frozen=True)
class SweepForm:
    """What the Scaling view's sidebar holds, in the CLI's names (`python -m lab sweep`).

    `pythons` are line labels from `python_options` (`3.12`, `3.13t:gil=off`);
    empty means the server's own Python.
    """

    workload: str = "squares"
    size: int = 1_000_000
    workers: tuple[int, ...] = DEFAULT_WORKERS
    modes: tuple[str, ...] = DEFAULT_MODES
    pythons: tuple[str, ...] = ()
    scale: str = "strong"
    repeats: int = DEFAULT_REPEATS

    def sweep_settings(self) -> SweepSettings:
        """The engine's settings for what the controls hold (InvalidSettings when they cannot run)."""
        return SweepSettings.create(
            RunSettings.create(self.workload),
            workers=self.workers,
            modes=self.modes,
            scale=self.scale,
            pythons=self.pythons or None,
            repeats=self.repeats,
            size=self.size,
        )


def python_options(found: Sequence[Interpreter]) -> list[str]:
    """Each offered interpreter as a line choice: free-threaded builds once with the GIL off, once on."""
    options: list[str] = []
    for interpreter in found:
        if interpreter.free_threaded:
            options += [f"{interpreter.name}:gil=off", f"{interpreter.name}:gil=on"]
        else:
            options.append(interpreter.name)
    return options


def own_python(found: Sequence[Interpreter]) -> tuple[str, ...]:
    """The server's own interpreter as the default line choice, when discovery found it."""
    own = next((interpreter for interpreter in found if "server" in interpreter.sources), None)
    return (own.name,) if own is not None else ()


def read_sweep_link(
    params: Mapping[str, Any], pythons: Sequence[str], default_pythons: tuple[str, ...]
) -> tuple[SweepForm, list[str]]:
    """The view's form from a share link: unknown names dropped, numbers clamped, each with a notice."""
    reader = LinkReader(params)
    workload = reader.choice("workload", WORKLOAD_CHOICES, "squares")
    info = WORKLOADS[workload]
    counts = reader.names("workers", [str(count) for count in WORKER_CHOICES], (), "worker count")
    form = SweepForm(
        workload=workload,
        size=reader.size(info.size_choices, default_size(workload)),
        workers=tuple(int(count) for count in counts) or DEFAULT_WORKERS,
        modes=reader.names("modes", SWEEP_MODES, DEFAULT_MODES, "mode"),
        pythons=reader.names("pythons", pythons, default_pythons, "interpreter"),
        scale=reader.choice("scale", SCALES, "strong"),
        repeats=reader.number("repeats", REPEATS, REPEATS.default),
    )
    return form, reader.notices


def sweep_link(form: SweepForm) -> dict[str, str]:
    params = {
        "workload": form.workload,
        "size": str(form.size),
        "workers": ",".join(str(count) for count in form.workers),
        "modes": ",".join(form.modes),
        "scale": form.scale,
        "repeats": str(form.repeats),
    }
    if form.pythons:
        params["pythons"] = ",".join(form.pythons)
    return params


class SweepLab(Lab[SweepForm, SweepSettings, Sweep, SweepResult]):
    key = "sweep"
    title = "Scaling"
    intro = INTRO
    explainer = "sweep"
    csv_name = "gil-lab-sweeps.csv"
    running_label = "Running the sweep…"

    @property
    def widget_key(self) -> str:
        return self.k("workload")

    def k(self, name: str) -> str:
        return f"{self.key}_{name}"

    def offered(self) -> list[Interpreter]:
        return state.interpreters()

    def read_link(self, params: Mapping[str, Any]) -> tuple[SweepForm, list[str]]:
        found = self.offered()
        return read_sweep_link(params, python_options(found), own_python(found))

    def apply(self, form: SweepForm) -> None:
        values: dict[str, Any] = {
            "workload": form.workload,
            f"size_{form.workload}": form.size,
            "workers": list(form.workers),
            "modes": list(form.modes),
            "pythons": list(form.pythons),
            "scale": form.scale,
            "repeats": form.repeats,
        }
        for name, value in values.items():
            st.session_state[self.k(name)] = value

    def sidebar(self) -> SweepForm:
        st.header(self.title)
        workload = st.radio(
            "Workload",
            WORKLOAD_CHOICES,
            key=self.k("workload"),
            format_func=lambda name: WORKLOADS[name].label,
        )
        info = WORKLOADS[workload]
        size_key = self.k(f"size_{workload}")
        if st.session_state.get(size_key) not in info.size_choices:
            st.session_state[size_key] = default_size(workload)
        size = st.select_slider(
            "Workload size",
            options=info.size_choices,
            key=size_key,
            format_func=lambda value: f"{value:,}",
            help=f"In {info.unit} per task; the scale is logarithmic.",
        )
        workers = st.multiselect(
            "Worker counts",
            WORKER_CHOICES,
            key=self.k("workers"),
            help="Threads, processes or subinterpreters per point. 1 is added when left out: every "
            "speedup is measured against one worker.",
        )
        modes = st.multiselect(
            "Modes",
            SWEEP_MODES,
            key=self.k("modes"),
            help="\n".join(f"- **{mode}**: {text}" for mode, text in MODE_HELP.items()),
        )
        options = python_options(self.offered())
        pythons_key = self.k("pythons")
        st.session_state[pythons_key] = [
            label for label in st.session_state.get(pythons_key, []) if label in options
        ]
        pythons = st.multiselect(
            "Interpreters",
            options,
            key=pythons_key,
            placeholder="this server's Python",
            help="One line per mode and interpreter: put GIL builds, free-threaded builds and "
            "subinterpreters on one chart (python -m lab pythons lists them).",
        )
        scale = st.radio("Scale", SCALES, key=self.k("scale"), horizontal=True, help=SCALE_HELP)
        repeats = st.slider(
            "Repeats",
            REPEATS.low,
            REPEATS.high,
            key=self.k("repeats"),
            help="Rounds over every point, interleaved, so a busy moment hits all points alike.",
        )
        return SweepForm(
            workload=workload,
            size=size,
            workers=tuple(sorted(workers)),
            modes=tuple(mode for mode in SWEEP_MODES if mode in modes),
            pythons=tuple(pythons),
            scale=scale,
            repeats=repeats,
        )

    def link(self, form: SweepForm) -> tuple[dict[str, str], list[str]]:
        return sweep_link(form), []

    def interpreters(self, settings: SweepSettings) -> list[Interpreter]:
        """The chosen Pythons, by name from this host's list; refuses what one of them cannot run."""
        host = state.hosting()
        found = self.offered()
        chosen = [
            host.interpreter_named(choice.name, allow_paths=False, found=found) for choice in settings.pythons
        ]
        interpreters = chosen or [host.interpreter_named(None, allow_paths=False)]
        for python, interpreter in enumerate(interpreters):
            largest = SweepStep(0, settings.workers[-1], python, settings.base.modes)
            host.check_runnable(settings.for_step(largest), interpreter)
        return interpreters

    def settings(self, form: SweepForm) -> SweepSettings:
        admitted: SweepSettings = state.hosting().admit(form.sweep_settings())
        self.interpreters(admitted)
        return admitted

    def estimate(self, settings: SweepSettings) -> str | None:
        seconds = settings.estimate_seconds(state.hosting().estimate_seconds)
        points = len(settings.workers) * len(settings.base.modes) * settings.python_count
        note = " · 1 worker added: speedups are measured against it" if settings.added_one else ""
        return f"{points} points × {settings.rounds} round(s): about {seconds:.0f} s on this machine{note}"

    def experiment(self, settings: SweepSettings, form: SweepForm) -> Sweep:
        host = state.hosting()
        return Sweep(settings, self.interpreters(settings), deadline_s=host.deadline_s, public=host.public)

    def progress(self, settings: SweepSettings) -> Progress[Sweep]:
        return PointBars()

    def finish(self, experiment: Sweep) -> SweepResult | None:
        result = experiment.result()
        return result if result.points else None

    def owns(self, run: object) -> bool:
        return isinstance(run, SweepResult)

    def draw(self, result: SweepResult) -> None:
        draw_sweep(result)

    def history_view(self, runs: list[SweepResult]) -> None:
        st.dataframe(sweep_history_rows(runs), width="stretch", hide_index=True)

    def to_csv(self, runs: list[SweepResult]) -> str:
        return sweep_csv.to_csv(runs)

    def run_label(self, number: int, run: SweepResult) -> str:
        return f"#{number} {run.settings.base.describe_work} sweep ({run.scale})"


class PointBars(Progress[Sweep]):
    """One bar per line (mode × interpreter): rounds done over every worker count, and which is running."""

    def __init__(self) -> None:
        self.bars: dict[tuple[str, str], Bar] = {}

    def update(self, experiment: Sweep) -> None:
        rows: dict[tuple[str, str], list[str]] = {}
        done: dict[tuple[str, str], tuple[int, int]] = {}
        for row in experiment.progress():
            line = (row.mode, row.interpreter)
            mark = " ▶" if row.state == "running" else ""
            rows.setdefault(line, []).append(f"{row.workers}: {row.rounds_done}/{row.rounds}{mark}")
            finished, total = done.get(line, (0, 0))
            done[line] = (finished + row.rounds_done, total + row.rounds)
        for line, parts in rows.items():
            finished, total = done[line]
            label = f"{line[0]} · {line[1]} — rounds done per worker count: " + " · ".join(parts)
            share = finished / total if total else 0.0
            if line not in self.bars:
                self.bars[line] = Bar(share, label)
            self.bars[line].show(share, label)


def fit_metric(line: LineFit) -> tuple[str, str | None, str]:
    """A line's metric: the serial fraction (or "no fit"), how far it reaches, and the fit's verdict."""
    fit = line.fit
    if fit.quality == "poor" or fit.serial_fraction is None:
        return "no fit", None, f"poor: {fit.reason}"
    reach = f"at most {fit.max_speedup or 1:.2f}×"
    return (
        f"s = {fit.serial_fraction:.2f} ± {fit.serial_fraction_err or 0:.2f}",
        reach,
        f"{fit.quality}: {fit.reason}",
    )


def draw_sweep(result: SweepResult) -> None:
    """A sweep's figures: a metric per line, the takeaway, the chart (PNG and HTML), the points."""
    st.subheader("Results")
    st.caption(f"{describe_sweep(result)} · {counts_line(result)}")
    fits = result.fits()
    for start in range(0, len(fits), 4):
        row = fits[start : start + 4]
        for column, line in zip(st.columns(len(row)), row, strict=True):
            value, delta, verdict = fit_metric(line)
            column.metric(
                f"{line.mode} · {line.interpreter}",
                value,
                delta,
                delta_color="off",
                help="The serial fraction s of the fitted model, and the most any worker count reaches here.",
            )
            column.caption(verdict)
    st.markdown("\n".join(f"- {sentence}" for sentence in sweep_takeaway(result)))
    fig = scaling_figure(result)
    st.plotly_chart(fig, config=PNG_CONFIG)
    st.download_button(
        "Download chart (HTML)",
        data=figure_html(fig),
        file_name=f"gil-lab-sweep-{result.run_id}.html",
        mime="text/html",
        help="The interactive chart as one HTML file (Plotly loads from its CDN). The camera icon above "
        "the chart saves a PNG.",
    )
    st.dataframe(point_rows(result), width="stretch", hide_index=True)


def point_rows(result: SweepResult) -> list[dict[str, Any]]:
    return [
        {
            "mode": point.mode,
            "interpreter": point.interpreter,
            "workers": point.workers,
            "tasks": point.tasks,
            "seconds": round(point.seconds, 4),
            "min": round(point.seconds_min, 4),
            "max": round(point.seconds_max, 4),
            "speedup": None if (speedup := result.speedup(point)) is None else round(speedup, 3),
            "efficiency": None if (efficiency := result.efficiency(point)) is None else f"{efficiency:.0%}",
            "cores busy": round(point.cores_busy, 2),
            "failed": point.failed,
        }
        for mode, label in result.lines()
        for point in result.line_points(mode, label)
    ]


def fit_summary(line: LineFit) -> str:
    fit = line.fit
    if fit.quality == "poor" or fit.serial_fraction is None:
        return f"{line.mode} {line.interpreter}: no fit"
    return f"{line.mode} {line.interpreter}: s = {fit.serial_fraction:.2f}"


def sweep_history_rows(runs: list[SweepResult]) -> list[dict[str, Any]]:
    """One row per sweep, numbered from 1 in history order, with each line's serial fraction."""
    return [
        {
            "run": number,
            "time": display_time(run.created),
            "workload": run.settings.base.describe_work,
            "scale": run.scale,
            "worker counts": ", ".join(str(count) for count in run.settings.workers),
            "modes": ", ".join(run.settings.base.modes),
            "interpreters": ", ".join(run.interpreters),
            "serial fractions": " · ".join(fit_summary(line) for line in run.fits()),
            "status": run.status.replace("_", " "),
            "run_id": run.run_id,
        }
        for number, run in enumerate(runs, start=1)
    ]
