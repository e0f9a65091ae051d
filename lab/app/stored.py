"""The page and the run store: every finished run stored, and `?run=ID` opening a stored run read-only.

The store is opened once per server process (a failure is not cached: the
next run tries again). A run that cannot be stored is still drawn and kept in
the session's history; the page says so in one line. Each browser session
stores its runs under its own random owner token, which is what public mode
lists for it (`lab.store.store`).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import streamlit as st

from lab.app import state
from lab.app.places import RUN_PARAM
from lab.core.errors import LabError
from lab.store.store import RunStore, StoredRun, StoreLimits


@st.cache_resource(show_spinner=False)
def shared_store() -> RunStore:
    hosting = state.hosting()
    return RunStore.open(public=hosting.public, limits=StoreLimits.from_env(os.environ, hosting.public))


def owner() -> str:
    """This browser session's owner token: its runs, in public mode, are the ones it may list."""
    if "store_owner" not in st.session_state:
        st.session_state.store_owner = secrets.token_urlsafe(16)
    token: str = st.session_state.store_owner
    return token


def keep(result: Any) -> None:
    """Store a finished run and show its permalink, or say in one line why it could not be stored."""
    try:
        stored = shared_store().save(result, owner=owner())
    except LabError as exc:
        st.warning(f"This run could not be stored ({exc}); it stays in this session's history.")
        return
    st.session_state[f"stored_{result.run_id}"] = stored
    st.caption(f"Stored: this run's permalink is `?run={stored}`.")


def page_of(stored: StoredRun) -> str:
    """The page (its file under lab/app/pages/) that draws a stored run of this lab."""
    if stored.lab == "run":
        return "io" if getattr(stored.record.settings, "kind", None) == "io" else "cpu"
    return stored.lab


def page_path(stored: StoredRun) -> str:
    return f"lab/app/pages/{page_of(stored)}.py"


def requested() -> str | None:
    value = st.query_params.get(RUN_PARAM)
    return str(value) if value else None


def open_requested(run: str) -> StoredRun | None:
    """The stored run the link asks for, or None after one notice (unknown, malformed, unreadable)."""
    try:
        stored = shared_store().get(run)
    except LabError as exc:
        st.warning(f"The link's run cannot be opened: {exc}")
        return None
    if not stored.readable:
        st.warning(f"The link's run cannot be opened: it is {stored.problem}")
        return None
    return stored
