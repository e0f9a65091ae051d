"""The Convoy lab: how long a thread that waits briefly for I/O queues for the GIL behind CPU-bound threads.

The sliders choose ranges on fixed ladders (CPU threads doubling, switch
intervals about ×4-5 apart, so the interval slider is logarithmic); every
ladder value inside a range is measured. The chart draws the probe's p50 and
p99 against CPU threads, one colour per switch interval with that interval as
a dotted reference; the X-ray shows one chosen point's threads over time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import streamlit as st

from lab.app import state
from lab.app.charts import convoy as charts
from lab.app.charts import xray as xray_charts
from lab.app.flow import Bar, Lab, Progress
from lab.app.labs.compare import choices
from lab.app.links import LinkReader
from lab.convoy import csvio as convoy_csv
from lab.convoy.csvio import ConvoyRun, ImportedConvoyRun
from lab.convoy.report import takeaway
from lab.convoy.results import ConvoyResult, cpu_threads_text
from lab.convoy.runner import Convoy
from lab.convoy.settings import ConvoySettings, estimate_seconds
from lab.core.interpreters import Interpreter, PythonChoice, gil_environment

THREAD_LADDER: tuple[int, ...] = (0, 1, 2, 4, 8, 16)
INTERVAL_LADDER_MS: tuple[float, ...] = (0.2, 1.0, 5.0, 20.0, 100.0)
SECONDS_CHOICES: tuple[float, ...] = (0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
OWN_PYTHON = ""  # the interpreter choice meaning "the server's own"
INTRO = (
    "A thread that only waits briefly for I/O, beside CPU-bound threads: each time a ping wakes it, it "
    "queues for the GIL. How long, against the number of CPU threads and the switch interval?"
)


@dataclass(frozen=True)
class ConvoyForm:
    """The sidebar: two ranges on the ladders, seconds per point, an interpreter label ("": the lab's)."""

    threads: tuple[int, int] = (0, 4)
    intervals_ms: tuple[float, float] = (1.0, 20.0)
    seconds: float = 1.0
    python: str = ""

    @property
    def cpu_threads(self) -> tuple[int, ...]:
        low, high = self.threads
        return tuple(count for count in THREAD_LADDER if low <= count <= high)

    @property
    def switch_intervals_ms(self) -> tuple[float, ...]:
        low, high = self.intervals_ms
        return tuple(interval for interval in INTERVAL_LADDER_MS if low <= interval <= high)


def ladder_text(value: float) -> str:
    return f"{value:g}"


def read_range(
    reader: LinkReader, name: str, ladder: tuple[Any, ...], default: tuple[Any, Any]
) -> tuple[Any, Any]:
    """`NAME_from` and `NAME_to` from a link, each a ladder value; a reversed pair is put in order."""
    by_text = {ladder_text(value): value for value in ladder}
    low = by_text[reader.choice(f"{name}_from", by_text, ladder_text(default[0]))]
    high = by_text[reader.choice(f"{name}_to", by_text, ladder_text(default[1]))]
    return (min(low, high), max(low, high))


class ConvoyLab(Lab[ConvoyForm, ConvoySettings, Convoy, ConvoyRun]):
    key = "convoy"
    title = "Convoy"
    intro = INTRO
    explainer = "convoy"
    csv_name = "gil-lab-convoy-history.csv"
    running_label = "Pinging the probe beside CPU threads…"

    @property
    def widget_key(self) -> str:
        return "convoy_threads"

    def read_link(self, params: Mapping[str, Any]) -> tuple[ConvoyForm, list[str]]:
        reader = LinkReader(params)
        base = ConvoyForm()
        seconds = {ladder_text(value): value for value in SECONDS_CHOICES}
        offered = choices(state.interpreters())
        form = ConvoyForm(
            threads=read_range(reader, "threads", THREAD_LADDER, base.threads),
            intervals_ms=read_range(reader, "interval_ms", INTERVAL_LADDER_MS, base.intervals_ms),
            seconds=seconds[reader.choice("seconds", seconds, ladder_text(base.seconds))],
            python=reader.choice("python", offered, OWN_PYTHON),
        )
        return form, reader.notices

    def apply(self, form: ConvoyForm) -> None:
        st.session_state.convoy_threads = form.threads
        st.session_state.convoy_intervals = form.intervals_ms
        st.session_state.convoy_seconds = form.seconds
        st.session_state.convoy_python = form.python

    def sidebar(self) -> ConvoyForm:
        st.header(self.title)
        offered = [OWN_PYTHON, *choices(state.interpreters())]
        if st.session_state.get("convoy_python") not in offered:
            st.session_state.convoy_python = OWN_PYTHON
        python = st.selectbox(
            "Interpreter",
            offered,
            key="convoy_python",
            format_func=lambda label: label or "this server's Python",
            help="The Python of the measured process; NAME:gil=off / gil=on switch a free-threaded build.",
        )
        # A select slider is a range slider only when its `value` is a pair: session state alone (set by
        # `apply`, which wins over `value`) would make it read a moved slider back as one value. Its type
        # stubs say it returns one option, hence the casts.
        threads = cast(
            tuple[int, int],
            st.select_slider(
                "CPU threads",
                options=THREAD_LADDER,
                value=ConvoyForm.threads,
                key="convoy_threads",
                help="Pure-Python threads beside the probe; each value in the range is a point on the chart.",
            ),
        )
        intervals = cast(
            tuple[float, float],
            st.select_slider(
                "Switch interval (ms)",
                options=INTERVAL_LADDER_MS,
                value=ConvoyForm.intervals_ms,
                key="convoy_intervals",
                format_func=ladder_text,
                help="sys.setswitchinterval, on a log scale (CPython's default is 5 ms); one line per value.",
            ),
        )
        seconds = st.select_slider(
            "Seconds per point", options=SECONDS_CHOICES, key="convoy_seconds", format_func=ladder_text
        )
        return ConvoyForm((threads[0], threads[1]), (intervals[0], intervals[1]), seconds, python or "")

    def link(self, form: ConvoyForm) -> tuple[dict[str, str], list[str]]:
        params = {
            "threads_from": ladder_text(form.threads[0]),
            "threads_to": ladder_text(form.threads[1]),
            "interval_ms_from": ladder_text(form.intervals_ms[0]),
            "interval_ms_to": ladder_text(form.intervals_ms[1]),
            "seconds": ladder_text(form.seconds),
        }
        if form.python:
            params["python"] = form.python
        return params, []

    def settings(self, form: ConvoyForm) -> ConvoySettings:
        choice = PythonChoice.parse(form.python) if form.python else None
        settings = ConvoySettings.create(
            cpu_threads=form.cpu_threads,
            switch_intervals_ms=form.switch_intervals_ms,
            seconds=form.seconds,
            python=choice.name if choice else None,
            gil=choice.gil if choice else None,
        )
        admitted: ConvoySettings = state.hosting().admit(settings)
        gil_environment(self.interpreter(admitted), admitted.gil)
        return admitted

    def interpreter(self, settings: ConvoySettings) -> Interpreter:
        return state.hosting().interpreter_named(
            settings.python, allow_paths=False, found=state.interpreters()
        )

    def estimate(self, settings: ConvoySettings) -> str | None:
        seconds = estimate_seconds(settings)
        return f"{len(settings.points())} points × {settings.seconds:g} s: about {seconds:.0f} s"

    def experiment(self, settings: ConvoySettings, form: ConvoyForm) -> Convoy:
        return Convoy(settings, interpreter=self.interpreter(settings), deadline_s=state.hosting().deadline_s)

    def progress(self, settings: ConvoySettings) -> Progress[Convoy]:
        return PointBar(settings)

    def finish(self, experiment: Convoy) -> ConvoyRun | None:
        result = experiment.result()
        return result if result.points else None

    def owns(self, run: object) -> bool:
        return isinstance(run, ConvoyResult | ImportedConvoyRun)

    def draw(self, result: ConvoyRun) -> None:
        st.subheader("Results")
        st.markdown("\n".join(f"- {sentence}" for sentence in takeaway(result)))
        st.plotly_chart(charts.latency_figure(result))
        if isinstance(result, ConvoyResult):
            draw_xray(result)
        else:
            st.caption("An imported run keeps each point's figures, not its round trips or its X-ray.")
        st.dataframe(charts.points_frame(result), width="stretch", hide_index=True)

    def history_view(self, runs: list[ConvoyRun]) -> None:
        st.dataframe(history_rows(runs), width="stretch", hide_index=True)

    def to_csv(self, runs: list[ConvoyRun]) -> str:
        return convoy_csv.to_csv(runs)

    def run_label(self, number: int, run: ConvoyRun) -> str:
        name = run.interpreter.name if run.interpreter is not None else "convoy"
        return f"#{number} convoy ({name})"


def draw_xray(result: ConvoyResult) -> None:
    """The X-ray of one chosen point: its threads' states over time, and their shares of the window."""
    st.subheader("X-ray of a point")
    labelled = {
        f"{cpu_threads_text(point.cpu_threads)}, {point.switch_interval_ms:g} ms switch interval": point
        for point in result.points
    }
    names = list(labelled)
    # One CPU thread at the middle interval shows the queue best; otherwise the first point with CPU threads.
    middle = result.settings.switch_intervals_ms[len(result.settings.switch_intervals_ms) // 2]
    preferred = [
        name
        for name, point in labelled.items()
        if (point.cpu_threads, point.switch_interval_ms) == (1, middle)
    ]
    busy = [name for name, point in labelled.items() if point.cpu_threads > 0]
    default = (preferred or busy or names)[0]
    chosen = st.selectbox("Point", names, index=names.index(default), key=f"convoy_xray_{result.run_id}")
    point = labelled[chosen]
    if point.xray is None:
        st.caption(point.xray_note or "This point has no X-ray.")
        return
    st.plotly_chart(
        xray_charts.xray_figure(
            point.xray, charts.xray_title(point), result.machine.usable_cores, since="the point's start"
        )
    )
    st.markdown(xray_charts.figures_line(chosen, point.xray))
    st.dataframe(charts.xray_shares_frame(point), width="stretch", hide_index=True)
    if point.xray_note:
        st.caption(point.xray_note)


def history_rows(runs: list[ConvoyRun]) -> list[dict[str, Any]]:
    """One row per convoy run: what ran, the reply alone, and the reply behind one CPU thread per interval."""
    rows = []
    for number, run in enumerate(runs, start=1):
        summaries = run.summaries()
        alone = [s.p50_ms for s in summaries if s.cpu_threads == 0 and s.p50_ms is not None]
        behind_one = [
            f"{s.p50_ms:.1f} @ {s.switch_interval_ms:g}"
            for s in sorted(summaries, key=lambda summary: summary.switch_interval_ms)
            if s.cpu_threads == 1 and s.p50_ms is not None
        ]
        rows.append(
            {
                "run": number,
                "time": run.created.replace("T", " ")[:19],
                "interpreter": run.interpreter.describe() if run.interpreter is not None else None,
                "CPU threads": ", ".join(str(count) for count in run.settings.cpu_threads),
                "switch intervals ms": ", ".join(f"{value:g}" for value in run.settings.switch_intervals_ms),
                "p50 ms, no CPU thread": round(max(alone), 3) if alone else None,
                "p50 ms behind 1 CPU thread @ interval": ", ".join(behind_one) or None,
                "status": run.status,
                "source": "imported" if isinstance(run, ImportedConvoyRun) else "measured",
            }
        )
    return rows


class PointBar(Progress[Convoy]):
    """One bar for the whole run; its text names the point being measured."""

    def __init__(self, settings: ConvoySettings) -> None:
        self.total = len(settings.points())
        self.bar = Bar(0.0, f"0 of {self.total} points")

    def update(self, experiment: Convoy) -> None:
        rows = experiment.progress()
        finished = sum(1 for row in rows if row.state == "finished")
        current = next((row for row in rows if row.state not in ("finished", "waiting")), None)
        if current is None:
            self.bar.show(finished / self.total, f"{finished} of {self.total} points")
            return
        within = min(1.0, current.elapsed / current.window_s) if current.window_s > 0 else 0.0
        text = (
            f"Point {finished + 1} of {self.total}: {cpu_threads_text(current.cpu_threads)}, "
            f"{current.switch_interval_ms:g} ms · {current.pings:,} pings · {current.state}"
        )
        self.bar.show(min(1.0, (finished + within) / self.total), text)
