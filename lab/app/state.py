"""What the page keeps: resources shared by every session of a server process, and one session's history.

Shared (cached per server process): the machine, the host's rules, the
interpreters found on this machine (probing them takes a second), and one
embedded latency server. Per session (Streamlit's session state): the history
of runs of every lab, the last run each lab drew, and one-shot messages.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lab.app.history import add_runs
from lab.core.interpreters import Interpreter, discover
from lab.core.machine import Machine, current_machine
from lab.engine.latency_server import EmbeddedServer
from lab.hosting.admission import Hosting


@st.cache_resource(show_spinner=False)
def machine() -> Machine:
    return current_machine()


@st.cache_resource(show_spinner=False)
def hosting() -> Hosting:
    """Public or private, and the limits: read once per server process."""
    return Hosting.from_env(machine().usable_cores)


@st.cache_resource(show_spinner="Looking for the Pythons on this machine…")
def interpreters() -> list[Interpreter]:
    """The usable interpreters this host offers: every one found here, or in public mode the host's list."""
    return hosting().offered_interpreters(discover())


def interpreter_names() -> list[str]:
    return [found.name for found in interpreters()]


@st.cache_resource(show_spinner=False)
def shared_latency_server() -> EmbeddedServer:
    """One embedded latency server per Streamlit server process, reused by every session."""
    return EmbeddedServer().start()


def latency_server() -> EmbeddedServer:
    server = shared_latency_server()
    if not server.alive:
        shared_latency_server.clear()
        server = shared_latency_server()
    return server


def history() -> list[Any]:
    """Every run of this browser session, all labs, newest last."""
    if "history" not in st.session_state:
        st.session_state.history = []
    runs: list[Any] = st.session_state.history
    return runs


def set_history(runs: list[Any]) -> None:
    st.session_state.history = runs


def remember(run: Any, lab: str) -> None:
    """Add a finished run to the history and make it the one its lab draws."""
    set_history(add_runs(history(), [run]))
    st.session_state[f"last_run_{lab}"] = run.run_id


def last_run(lab: str) -> Any | None:
    wanted = st.session_state.get(f"last_run_{lab}")
    return next((run for run in history() if run.run_id == wanted), None)


def flash(kind: str, text: str) -> None:
    """A message shown once, on the next run of the page (after st.rerun)."""
    st.session_state.flash = (kind, text)


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        kind, text = message
        {"error": st.error, "success": st.success, "info": st.info}[kind](text)
