"""One `Lab` per lab, and the one flow every lab's page follows: controls -> settings -> admit -> run -> draw.

A lab says what is particular to it (its controls, its link, its settings,
its experiment, its progress bars, its results, its history table and CSV);
`render` does the rest the same way for all: the share link in the URL,
refusals as one line, Run and Cancel, waiting in the host's line, polling the
experiment every 0.1 s so Streamlit can stop the script between polls (a
click on Cancel, Stop, a rerun or a closed tab ends the run's processes
through the experiment's `close()`), the history and the machine panel.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import streamlit as st

from lab.app import state, stored
from lab.app.history import remove_run
from lab.app.places import RUN_PARAM
from lab.app.report import measured_on
from lab.app.text import text
from lab.catalog import LABS
from lab.core.errors import LabError, ResultsFormatError
from lab.core.machine import Machine, machine_lines
from lab.hosting.line import Runnable

POLL_SECONDS = 0.1
REDRAW_SECONDS = 0.5  # a progress bar's text (its clock) changes at most this often

F = TypeVar("F")  # the lab's form (what its controls hold)
S = TypeVar("S")  # the engine's settings
R = TypeVar("R")  # a result
E = TypeVar("E", bound=Runnable)  # the experiment


class Progress(ABC, Generic[E]):
    """Progress bars drawn inside the run's status box, updated after every poll."""

    @abstractmethod
    def update(self, experiment: E) -> None: ...


class Bar:
    """One progress bar that tells the browser only what is worth drawing.

    Every redraw is a message to the page and a render in the browser, and the
    browser usually runs on the machine being measured: ten redraws a second
    cost headless Chromium 35-45 % of a core here beyond the page's spinners,
    taken from the cores the run is timing. So a bar is redrawn when it fills or at most every
    REDRAW_SECONDS (its elapsed-time clock still moves), never with what it
    already shows.
    """

    def __init__(self, value: float, text: str) -> None:
        self._slot = st.progress(value, text=text)
        self._shown = (value, text)
        self._drawn_at = time.monotonic()

    def show(self, value: float, text: str) -> None:
        if (value, text) == self._shown:
            return
        if value < 1.0 and time.monotonic() - self._drawn_at < REDRAW_SECONDS:
            return
        self._slot.progress(value, text=text)
        self._shown, self._drawn_at = (value, text), time.monotonic()


def stop_here_if_asked() -> None:
    """Let Streamlit end this script run here if Stop, Cancel, a rerun or a closed tab asked it to.

    Streamlit handles such a request at the script's next message to the page
    or its next read of the session state; between two bar redraws the poll
    loop reads the state, so a click still ends the run within a poll
    (`tests/browser/test_e2e.py` times it) without a message every 0.1 s.
    """
    _ = "cancelled" in st.session_state


class Lab(ABC, Generic[F, S, E, R]):
    """What a lab's page needs to know about the lab; `render(lab)` does the rest."""

    key: str  # its URL path, and the prefix of its session state
    title: str
    intro: str  # one line under the title
    explainer: str | None = None  # lab/app/text/<name>.md, shown under the results
    csv_name: str
    running_label = "Running the experiment…"

    # --- the form: from a link, into the widgets, out of the widgets, into a link
    @abstractmethod
    def read_link(self, params: Mapping[str, Any]) -> tuple[F, list[str]]: ...

    @abstractmethod
    def apply(self, form: F) -> None:
        """Put the form's values into the widgets' session state."""

    @abstractmethod
    def sidebar(self) -> F:
        """Draw the controls; return what they hold."""

    @abstractmethod
    def link(self, form: F) -> tuple[dict[str, str], list[str]]: ...

    @property
    @abstractmethod
    def widget_key(self) -> str:
        """A key of one of the lab's widgets: when it is missing, the widgets need their values again."""

    # --- running
    @abstractmethod
    def settings(self, form: F) -> S:
        """The engine's settings, admitted by this host (LabError says why not)."""

    def estimate(self, settings: S) -> str | None:
        return None

    def form_of(self, run: R) -> F | None:
        """The controls that would run a stored run's settings again here; None where this lab cannot say."""
        return None

    @abstractmethod
    def experiment(self, settings: S, form: F) -> E: ...

    @abstractmethod
    def progress(self, settings: S) -> Progress[E]: ...

    @abstractmethod
    def finish(self, experiment: E) -> R | None:
        """The result to keep, or None when nothing was measured."""

    # --- results and history
    @abstractmethod
    def owns(self, run: object) -> bool: ...

    @abstractmethod
    def draw(self, result: R) -> None: ...

    @abstractmethod
    def history_view(self, runs: list[R]) -> None: ...

    @abstractmethod
    def to_csv(self, runs: list[R]) -> str: ...

    def run_label(self, number: int, run: R) -> str:
        return f"#{number} {self.title}"


def ensure_state(lab: Lab[Any, Any, Any, Any]) -> None:
    """Give the lab's widgets their values: from the link on the first visit, else as last left.

    Streamlit forgets a widget's state when a run does not draw it (another
    page was open), so the form is kept aside after every run and put back.
    """
    saved_key = f"form_{lab.key}"
    if lab.widget_key in st.session_state:
        return
    if saved_key in st.session_state:
        lab.apply(st.session_state[saved_key])
        return
    form, notices = lab.read_link(st.query_params.to_dict())
    lab.apply(form)
    st.session_state[f"notices_{lab.key}"] = notices


def render(lab: Lab[Any, Any, Any, Any]) -> None:
    permalink = stored.requested()
    if permalink is not None and draw_stored(lab, permalink):
        return
    ensure_state(lab)
    host = state.hosting()
    with st.sidebar:
        form = lab.sidebar()
        st.caption(host.describe())
    st.session_state[f"form_{lab.key}"] = form
    params, link_notices = lab.link(form)
    st.query_params.from_dict(params)
    st.title(lab.title)
    st.caption(lab.intro)
    for notice in st.session_state.pop(f"notices_{lab.key}", []):
        st.warning(notice)
    for notice in link_notices:
        st.info(notice)
    state.show_flash()
    try:
        settings = lab.settings(form)
    except LabError as exc:
        st.error(str(exc))
        settings = None
    run_col, cancel_col, note_col = st.columns([1, 1, 4], vertical_alignment="center")
    run_clicked = run_col.button("Run", type="primary", disabled=settings is None, width="stretch")
    run_clicked = st.session_state.pop(f"run_now_{lab.key}", False) or run_clicked
    cancel_slot = cancel_col.empty()
    if st.session_state.pop("cancelled", False):
        note_col.info("Run cancelled: its processes were ended.")
    elif settings is not None:
        note = lab.estimate(settings)
        if note:
            note_col.caption(note)
    if run_clicked and settings is not None:
        cancel_slot.button("Cancel", key="cancel", width="stretch", on_click=mark_cancelled)
        try:
            result = run(lab, settings, form)
        except LabError as exc:
            st.error(str(exc))
            result = None
        cancel_slot.empty()
        if result is not None:
            state.remember(result, lab.key)
            stored.keep(result)
    last = state.last_run(lab.key)
    if last is not None:
        lab.draw(last)
    draw_machine(last.machine if last is not None and hasattr(last, "machine") else state.machine())
    draw_history(lab)
    if lab.explainer:
        with st.expander("What this lab shows", expanded=last is None):
            st.markdown(text(lab.explainer))


def draw_stored(lab: Lab[Any, Any, Any, Any], run: str) -> bool:
    """`?run=ID`: the stored run, read-only, with where and how it was measured; False to draw the lab."""
    found = stored.open_requested(run)
    if found is None:
        return False
    if not lab.owns(found.record):  # a link to another lab's place, or to the default page: go there
        st.switch_page(stored.page_path(found), query_params={RUN_PARAM: found.id})
    st.title(lab.title)
    st.info(measured_on(found))
    title = LABS[found.lab].title if found.lab in LABS else found.lab
    st.caption(f"A stored run, read-only: {title} run {found.run_id}, {found.status.replace('_', ' ')}.")
    again = lab.form_of(found.record)
    back_col, again_col = st.columns([1, 3])
    if back_col.button("Back to the lab", help="Leave this stored run and set up a run of your own here."):
        del st.query_params[RUN_PARAM]
        st.rerun()
    if again is not None and again_col.button(
        "Run these settings here", help="A new run on this host, with its own id: the stored run stays."
    ):
        lab.apply(again)
        st.session_state[f"form_{lab.key}"] = again
        st.session_state[f"run_now_{lab.key}"] = True
        del st.query_params[RUN_PARAM]
        st.rerun()
    lab.draw(found.record)
    machine = getattr(found.record, "machine", None)
    draw_machine(machine if isinstance(machine, Machine) else state.machine())
    return True


def mark_cancelled() -> None:
    """Cancel's click reruns the page, which stops the running script and so ends its run."""
    st.session_state.cancelled = True


def run(lab: Lab[Any, S, E, R], settings: S, form: Any) -> R | None:
    """Run in the engine's processes, polling every 0.1 s so Stop and reruns can end it.

    Streamlit stops a script only where the script talks to it: each poll
    reads the session state (`stop_here_if_asked`), the bars redraw when worth
    it, and `with line` ends the process tree on every way out (done, Cancel,
    Stop, a rerun, a closed tab).
    """
    experiment = lab.experiment(settings, form)
    line = state.hosting().line(experiment)
    started = time.monotonic()
    status = st.status(lab.running_label, expanded=True)
    with status:
        waiting = st.empty()
        progress = lab.progress(settings)
        shown_ahead = 0  # the place in the host's line on the page (0: none shown)
        with line:
            while not line.done:
                line.poll(POLL_SECONDS)
                stop_here_if_asked()
                if line.waiting and line.ahead:
                    if line.ahead != shown_ahead:
                        waiting.info(f"Waiting for the host: {line.ahead} run(s) ahead of yours.")
                        shown_ahead = line.ahead
                    continue
                if shown_ahead:
                    waiting.empty()
                    shown_ahead = 0
                progress.update(experiment)
    result = lab.finish(experiment)
    run_status = getattr(result, "status", None) or getattr(experiment, "status", None)
    if run_status == "complete":
        status.update(
            label=f"Finished in {time.monotonic() - started:.1f} s", state="complete", expanded=False
        )
    else:
        message = getattr(experiment, "message", None) or run_status or "ended"
        status.update(label=str(message), state="error", expanded=True)
    return result


def draw_machine(info: Machine) -> None:
    with st.expander("Machine", expanded=False):
        st.code("\n".join(machine_lines(info)), language=None)
        if info.cpu_quota is not None or info.affinity_cores < info.logical_cores:
            st.caption(
                f"This process may use {info.usable_cores:g} of the {info.logical_cores} cores "
                "the OS reports: ideal lines and default process counts use that figure."
            )


def draw_history(lab: Lab[Any, Any, Any, Any]) -> None:
    st.subheader("History")
    everything = state.history()
    runs = [run for run in everything if lab.owns(run)]
    if runs:
        lab.history_view(runs)
        labels = {lab.run_label(number, run): run.run_id for number, run in enumerate(runs, start=1)}
        pick, remove, clear = st.columns([3, 1, 1], vertical_alignment="bottom")
        chosen = pick.selectbox("Run to remove", list(labels), key=f"remove_choice_{lab.key}")
        if remove.button("Remove run", width="stretch"):
            state.set_history(remove_run(everything, labels[chosen]))
            st.rerun()
        if clear.button("Clear all", width="stretch", help="Remove this lab's runs from the history."):
            state.set_history([run for run in everything if not lab.owns(run)])
            st.rerun()
    else:
        st.caption("Every run of this browser session lands here. Nothing is shared with other visitors.")
    export, upload = st.columns(2, vertical_alignment="bottom")
    with export:
        st.download_button(
            "Download CSV",
            data=lab.to_csv(runs),
            file_name=lab.csv_name,
            mime="text/csv",
            disabled=not runs,
            width="stretch",
            help="This lab's runs, one file you can import again here or on another machine.",
        )
    generation = st.session_state.setdefault("upload_generation", 0)
    uploaded = upload.file_uploader(
        "Import CSV", type=["csv"], key=f"upload_{generation}", help="A CSV any GIL Lab page wrote."
    )
    if uploaded is not None:
        import_history(uploaded.getvalue())


def import_history(data: bytes) -> None:
    """Add a CSV's runs (any lab's) to the history, all or nothing; a bad file changes nothing."""
    from lab.app.history import import_any_csv

    try:
        updated, added = import_any_csv(state.history(), data)
    except ResultsFormatError as exc:
        state.flash("error", f"Nothing imported: {exc}")
    else:
        state.set_history(updated)
        state.flash("success", f"Imported {added} run(s) into the history.")
    st.session_state.upload_generation += 1
    st.rerun()
