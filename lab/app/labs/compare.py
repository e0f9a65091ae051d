"""The Compare interpreters view: the same CPU-bound run under several Pythons, side by side.

"What would my threads do on 3.13t?" and "are subinterpreters a replacement
for processes here?" are answered by running one set of settings under each
chosen interpreter (a free-threaded build with the GIL off and on counts as
two), interleaved round by round, and drawing each mode's speedup grouped by
interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts import compare as charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.form import Controls, nearest
from lab.app.links import LinkReader
from lab.compare.results import CompareResult, label_of
from lab.compare.runner import Comparison
from lab.compare.settings import CompareSettings
from lab.compare.takeaway import compare_takeaway
from lab.core.errors import InvalidSettings
from lab.core.interpreters import Interpreter, PythonChoice, current_interpreter
from lab.engine.settings import DEFAULT_MODES, MODES, RunSettings
from lab.engine.workloads import WORKLOADS
from lab.run import csvio

WORKLOAD_CHOICES = ("squares", "sha256")
MAX_ROUNDS = 5


@dataclass(frozen=True)
class CompareForm:
    workload: str = "squares"
    tasks: int = 4
    size: int = 3_000_000
    workers: int = 2
    modes: tuple[str, ...] = DEFAULT_MODES["cpu"]
    rounds: int = 1
    pythons: tuple[str, ...] = ()


def choices(found: list[Interpreter]) -> list[str]:
    """Every offered interpreter by name; a free-threaded build also with the GIL switched off and on."""
    labels: list[str] = []
    for interpreter in found:
        labels.append(interpreter.name)
        if interpreter.free_threaded:
            labels += [f"{interpreter.name}:gil=off", f"{interpreter.name}:gil=on"]
    return labels


def default_pythons(offered: list[str], own: str) -> tuple[str, ...]:
    """This server's own Python and, when there is one, a free-threaded build with the GIL off and on."""
    switched = [label for label in offered if label.endswith(":gil=off") or label.endswith(":gil=on")]
    picks = [own, *switched] if own in offered else switched
    if len(picks) < 2:
        picks = [*picks, *offered][:2]
    return tuple(dict.fromkeys(picks))


class CompareLab(Lab[CompareForm, CompareSettings, Comparison, CompareResult]):
    key = "compare"
    title = "Compare interpreters"
    intro = (
        "The same run under several Pythons, interleaved round by round: GIL builds, free-threaded builds "
        "with the GIL off and on, and their subinterpreters."
    )
    explainer = "interpreters"
    csv_name = "gil-lab-compare.csv"
    running_label = "Running under each interpreter…"

    @property
    def widget_key(self) -> str:
        return "compare_pythons"

    def read_link(self, params: Mapping[str, Any]) -> tuple[CompareForm, list[str]]:
        reader = LinkReader(params)
        controls = Controls()
        offered = choices(state.interpreters())
        workload = reader.choice("workload", WORKLOAD_CHOICES, "squares")
        info = WORKLOADS[workload]
        base = CompareForm(workload=workload, size=nearest(info.size_choices, info.default_size))
        form = CompareForm(
            workload=workload,
            tasks=reader.number("tasks", controls.tasks, base.tasks),
            size=reader.size(info.size_choices, base.size),
            workers=reader.number("workers", controls.workers, state.machine().parallel_slots),
            modes=reader.names("modes", MODES, DEFAULT_MODES["cpu"], "mode"),
            rounds=reader.number("rounds", controls.repeats, 1),
            pythons=reader.names(
                "pythons", offered, default_pythons(offered, current_interpreter().name), "interpreter"
            ),
        )
        return form, reader.notices

    def apply(self, form: CompareForm) -> None:
        for name in ("workload", "tasks", "workers", "rounds"):
            st.session_state[f"compare_{name}"] = getattr(form, name)
        st.session_state[f"compare_size_{form.workload}"] = form.size
        st.session_state.compare_modes = list(form.modes)
        st.session_state.compare_pythons = list(form.pythons)

    def sidebar(self) -> CompareForm:
        controls = Controls()
        st.header(self.title)
        offered = choices(state.interpreters())
        pythons = st.multiselect(
            "Interpreters",
            offered,
            key="compare_pythons",
            help="Every Python found on this machine; NAME:gil=off / gil=on switch a free-threaded build.",
        )
        workload = st.radio(
            "Workload",
            WORKLOAD_CHOICES,
            key="compare_workload",
            format_func=lambda name: WORKLOADS[name].label,
        )
        info = WORKLOADS[workload]
        size_key = f"compare_size_{workload}"
        if st.session_state.get(size_key) not in info.size_choices:
            st.session_state[size_key] = nearest(info.size_choices, info.default_size)
        size = st.select_slider(
            "Workload size", options=info.size_choices, key=size_key, format_func=lambda value: f"{value:,}"
        )
        tasks = st.slider("Task count", controls.tasks.low, controls.tasks.high, key="compare_tasks")
        workers = st.slider(
            "Process count", controls.workers.low, controls.workers.high, key="compare_workers"
        )
        modes = st.multiselect("Modes", MODES, key="compare_modes")
        rounds = st.slider(
            "Rounds",
            1,
            MAX_ROUNDS,
            key="compare_rounds",
            help="Each round runs every interpreter once, in turn: drift on a shared machine hits all alike.",
        )
        return CompareForm(workload, tasks, size, workers, tuple(modes), rounds, tuple(pythons))

    def link(self, form: CompareForm) -> tuple[dict[str, str], list[str]]:
        return {
            "workload": form.workload,
            "tasks": str(form.tasks),
            "size": str(form.size),
            "workers": str(form.workers),
            "modes": ",".join(form.modes),
            "rounds": str(form.rounds),
            "pythons": ",".join(form.pythons),
        }, []

    def settings(self, form: CompareForm) -> CompareSettings:
        if len(form.pythons) < 2:
            raise InvalidSettings("choose at least two interpreters to compare")
        base = RunSettings.create(
            form.workload,
            tasks=form.tasks,
            size=form.size,
            modes=form.modes,
            workers=form.workers,
            repeats=form.rounds,
        )
        settings = CompareSettings(base, tuple(PythonChoice.parse(label) for label in form.pythons))
        host = state.hosting()
        admitted: CompareSettings = host.admit(settings)
        for choice in admitted.pythons:
            interpreter = host.interpreter_named(choice.name, allow_paths=False, found=state.interpreters())
            host.check_runnable(admitted.for_choice(choice), interpreter)
        return admitted

    def estimate(self, settings: CompareSettings) -> str | None:
        one = state.hosting().estimate_seconds(settings.for_choice(settings.pythons[0]))
        seconds = one * len(settings.pythons) * settings.rounds
        return (
            f"{len(settings.pythons)} interpreters × {settings.rounds} round(s), "
            f"{settings.base.tasks} {settings.base.workload} tasks each: about {seconds:.0f} s"
        )

    def experiment(self, settings: CompareSettings, form: CompareForm) -> Comparison:
        host = state.hosting()
        interpreters = [
            host.interpreter_named(choice.name, allow_paths=False, found=state.interpreters())
            for choice in settings.pythons
        ]
        return Comparison(settings, interpreters, deadline_s=host.deadline_s, public=host.public)

    def progress(self, settings: CompareSettings) -> Progress[Comparison]:
        return InterpreterBars(settings)

    def finish(self, experiment: Comparison) -> CompareResult | None:
        result = experiment.result()
        return result if result.runs else None

    def owns(self, run: object) -> bool:
        return isinstance(run, CompareResult)

    def draw(self, result: CompareResult) -> None:
        st.subheader("Results")
        st.markdown("\n".join(f"- {sentence}" for sentence in compare_takeaway(result)))
        left, right = st.columns(2)
        left.plotly_chart(charts.speedup_by_interpreter(result))
        right.plotly_chart(charts.cores_by_interpreter(result))
        st.plotly_chart(charts.batch_cost(result))
        st.dataframe(
            [
                {
                    "interpreter": label_of(run),
                    "GIL at the end": "-"
                    if run.interpreter is None
                    else ("on" if run.interpreter.gil_enabled else "off"),
                    "mode": summary.mode,
                    "seconds": round(summary.seconds, 3),
                    "speedup": None if summary.speedup is None else round(summary.speedup, 2),
                    "cores busy": round(summary.cores_busy, 2),
                    "failed": summary.failed,
                }
                for run in result.runs
                for summary in run.summaries()
            ],
            width="stretch",
            hide_index=True,
        )

    def history_view(self, runs: list[CompareResult]) -> None:
        st.dataframe(
            [
                {
                    "run": number,
                    "time": result.created.replace("T", " ")[:19],
                    "workload": result.settings.base.workload,
                    "interpreters": ", ".join(label_of(run) for run in result.runs),
                    "rounds": result.settings.rounds,
                    "status": result.status,
                }
                for number, result in enumerate(runs, start=1)
            ],
            width="stretch",
            hide_index=True,
        )

    def to_csv(self, runs: list[CompareResult]) -> str:
        return csvio.to_csv([run for result in runs for run in result.runs])

    def run_label(self, number: int, run: CompareResult) -> str:
        return f"#{number} " + " vs ".join(label_of(member) for member in run.runs)


class InterpreterBars(Progress[Comparison]):
    def __init__(self, settings: CompareSettings) -> None:
        self.bars = {choice.label: Bar(0.0, f"{choice.label}: waiting") for choice in settings.pythons}

    def update(self, experiment: Comparison) -> None:
        for row in experiment.progress():
            label = f"{row.label}: {row.rounds_done}/{row.rounds} round(s) · {row.state}"
            self.bars[row.label].show(row.rounds_done / row.rounds if row.rounds else 0.0, label)
