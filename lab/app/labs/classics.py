"""The Classics place: each famous GIL experiment's published figure beside the same experiment run here.

The sidebar chooses the classics (all by default; a link `?classic=NAME`
opens one), the interpreters (every one this host offers) and the scale of
the work. A run goes through `lab.classics.runner.ClassicsRun`, which drives
the labs' own runners one child at a time; each classic is then drawn with
its sources, the published setup, what ran here and how it was scaled, a
chart and a table of the ratios, and the sentence built from the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.charts import classics as charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.links import LinkReader
from lab.classics import csvio
from lab.classics.catalogue import CLASSIC_NAMES, CLASSICS, Classic
from lab.classics.plan import estimate_seconds
from lab.classics.results import ClassicRecord, ClassicsResult
from lab.classics.runner import ClassicsRun
from lab.classics.settings import ClassicsSettings
from lab.core.interpreters import Interpreter
from lab.core.wording import steadiness_sentences

SCALES: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
INTRO = (
    "The experiments people meet the GIL through — Beazley's countdown, the convoy effect, Stinner's "
    "subinterpreters, ccbench, the free-threaded build's cost, FastAPI's pool — with their published "
    "figures beside the same experiments run here, as ratios, since their machines are not ours."
)


@dataclass(frozen=True)
class ClassicsForm:
    """The sidebar: which classics, which interpreters (empty: every one offered), the scale of the work."""

    classics: tuple[str, ...] = CLASSIC_NAMES
    pythons: tuple[str, ...] = ()
    scale: float = 1.0


def offered_names() -> list[str]:
    return [found.name for found in state.interpreters()]


def scale_text(value: float) -> str:
    return f"{value:g}"


def share_link(name: str) -> str:
    """The link that opens this place with one classic chosen (relative: it keeps the host and path)."""
    return f"?classic={name}"


class ClassicsLab(Lab[ClassicsForm, ClassicsSettings, ClassicsRun, ClassicsResult]):
    key = "classics"
    title = "Classics"
    intro = INTRO
    csv_name = "gil-lab-classics-history.csv"
    running_label = "Re-running the classics…"
    asked_scale: float | None = None  # the scale the form asked for, before the host's admission

    @property
    def widget_key(self) -> str:
        return "classics_names"

    def read_link(self, params: Mapping[str, Any]) -> tuple[ClassicsForm, list[str]]:
        reader = LinkReader(params)
        scales = {scale_text(value): value for value in SCALES}
        offered = offered_names()
        form = ClassicsForm(
            classics=reader.names("classic", CLASSIC_NAMES, CLASSIC_NAMES, "classic"),
            pythons=reader.names("python", offered, tuple(offered), "interpreter"),
            scale=scales[reader.choice("scale", scales, "1")],
        )
        return form, reader.notices

    def apply(self, form: ClassicsForm) -> None:
        st.session_state.classics_names = list(form.classics)
        st.session_state.classics_pythons = list(form.pythons or offered_names())
        st.session_state.classics_scale = form.scale

    def sidebar(self) -> ClassicsForm:
        st.header(self.title)
        names = st.multiselect(
            "Classics",
            CLASSIC_NAMES,
            key="classics_names",
            format_func=lambda name: CLASSICS[name].title,
            help="Each classic runs its own experiments, one after another.",
        )
        offered = offered_names()
        st.session_state.classics_pythons = [
            name for name in st.session_state.get("classics_pythons", offered) if name in offered
        ]
        pythons = st.multiselect(
            "Interpreters",
            offered,
            key="classics_pythons",
            help="The countdown runs on each; Stinner's needs a 3.12+ GIL build, the free-threaded cost "
            "a GIL build and a free-threaded build of one version (3.13 and 3.13t).",
        )
        scale = st.select_slider(
            "Scale of the work",
            options=SCALES,
            key="classics_scale",
            format_func=scale_text,
            help="1 takes a few seconds per classic; public mode lowers it to fit the run budget.",
        )
        return ClassicsForm(tuple(names), tuple(pythons), float(scale))

    def link(self, form: ClassicsForm) -> tuple[dict[str, str], list[str]]:
        params: dict[str, str] = {}
        if form.classics and form.classics != CLASSIC_NAMES:
            params["classic"] = ",".join(form.classics)
        if form.pythons and list(form.pythons) != offered_names():
            params["python"] = ",".join(form.pythons)
        if form.scale != 1.0:
            params["scale"] = scale_text(form.scale)
        return params, []

    def settings(self, form: ClassicsForm) -> ClassicsSettings:
        settings = ClassicsSettings.create(
            classics=list(form.classics), pythons=list(form.pythons), scale=form.scale
        )
        admitted: ClassicsSettings = state.hosting().admit(settings)
        self.asked_scale = settings.scale
        self.interpreters(admitted)  # an interpreter this host does not offer is refused before the run
        return admitted

    def interpreters(self, settings: ClassicsSettings) -> list[Interpreter]:
        host = state.hosting()
        return [
            host.interpreter_named(name, allow_paths=False, found=state.interpreters())
            for name in settings.pythons
        ]

    def estimate(self, settings: ClassicsSettings) -> str | None:
        found = self.interpreters(settings)
        seconds = estimate_seconds(settings, state.machine().usable_cores, found, found[0] if found else None)
        lowered = self.asked_scale is not None and settings.scale < self.asked_scale
        scaled = f" (work scaled × {settings.scale:g} to fit this host's budget)" if lowered else ""
        return f"{len(settings.classics)} classic(s): about {seconds:.0f} s{scaled}"

    def experiment(self, settings: ClassicsSettings, form: ClassicsForm) -> ClassicsRun:
        host = state.hosting()
        return ClassicsRun(
            settings, self.interpreters(settings), deadline_s=host.deadline_s, public=host.public
        )

    def progress(self, settings: ClassicsSettings) -> Progress[ClassicsRun]:
        return StepBar()

    def finish(self, experiment: ClassicsRun) -> ClassicsResult | None:
        result = experiment.result()
        return result if result.outcomes or result.missing else None

    def owns(self, run: object) -> bool:
        return isinstance(run, ClassicsResult)

    def draw(self, result: ClassicsResult) -> None:
        st.subheader("Results")
        st.caption(
            f"Scale × {result.settings.scale:g} · {result.machine.usable_cores:g} usable cores · "
            f"status {result.status.replace('_', ' ')}" + (f": {result.message}" if result.message else "")
        )
        for line in steadiness_sentences(result.steadiness):
            st.warning(line)
        for record in result.records():
            draw_record(record, result)

    def history_view(self, runs: list[ClassicsResult]) -> None:
        rows = []
        for number, run in enumerate(runs, start=1):
            records = run.records()
            rows.append(
                {
                    "run": number,
                    "time": run.created.replace("T", " ")[:19],
                    "classics": ", ".join(run.settings.classics),
                    "interpreters": ", ".join(run.settings.pythons),
                    "agree": f"{sum(r.agreeing for r in records)} of {sum(r.compared for r in records)}",
                    "scale": run.settings.scale,
                    "status": run.status,
                }
            )
        st.dataframe(charts.runs_frame(rows), width="stretch", hide_index=True)

    def to_csv(self, runs: list[ClassicsResult]) -> str:
        return csvio.to_csv(runs)

    def run_label(self, number: int, run: ClassicsResult) -> str:
        return f"#{number} classics ({', '.join(run.settings.classics)})"


def draw_sources(classic: Classic) -> None:
    for source in classic.sources:
        note = f" — {source.note}" if source.note else ""
        st.markdown(f"- {source.author}, [{source.title}]({source.url}) ({source.year}){note}")


def draw_record(record: ClassicRecord, result: ClassicsResult) -> None:
    classic = CLASSICS[record.name]
    st.markdown(f"### {classic.title}")
    st.caption(f"[Link to this classic]({share_link(record.name)}) · `python -m lab classics {record.name}`")
    draw_sources(classic)
    st.markdown(f"**Published.** {classic.setup}")
    st.markdown(
        f"**Here.** {classic.here} *Scaled:* {classic.scaling} This run: × {result.settings.scale:g}."
    )
    if record.compare:
        st.plotly_chart(
            charts.ratios_figure(record, classic.title), key=f"classics_chart_{result.run_id}_{record.name}"
        )
        st.dataframe(charts.compare_frame(record), width="stretch", hide_index=True)
    if record.missing:
        st.warning(record.why)
    else:
        st.info(record.why)


class StepBar(Progress[ClassicsRun]):
    """One bar for the whole run; its text names the classic, the step and the interpreter running now."""

    def __init__(self) -> None:
        self.bar = Bar(0.0, "Starting…")

    def update(self, experiment: ClassicsRun) -> None:
        rows = experiment.progress()
        total = max(1, len(rows))
        done = sum(1 for row in rows if row.state in ("finished", "failed"))
        current = next((row for row in rows if row.state == "running"), None)
        text = f"{done} of {total} steps"
        if current is not None:
            title = CLASSICS[current.classic].title
            text = f"Step {done + 1} of {total}: {title} · {current.key} · {current.python}"
        self.bar.show(done / total, text)


def draw_catalogue() -> None:
    """Every classic's published setup and sources, whether or not it has been run here yet."""
    with st.expander("The classics and their sources", expanded=False):
        for classic in CLASSICS.values():
            st.markdown(f"**{classic.title}** · [link]({share_link(classic.name)})")
            st.markdown(classic.setup)
            draw_sources(classic)
            st.caption(f"Here: {classic.here} Scaled: {classic.scaling}")
