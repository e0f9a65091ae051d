"""A run finished on the page is stored with its permalink; a store that cannot take it costs one line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from store_samples import sample
from streamlit.testing.v1 import AppTest

from lab.store.store import RunStore

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("GIL_LAB_PUBLIC", "0")
    st.cache_resource.clear()
    yield monkeypatch
    st.cache_resource.clear()


def small_run() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run().switch_page("lab/app/pages/cpu.py").run()
    at.slider(key="cpu_tasks").set_value(2)
    at.select_slider(key="cpu_size_squares").set_value(30_000)
    at.run()
    next(button for button in at.button if button.label == "Run").click()
    return at.run()


def test_a_finished_run_is_stored_under_the_sessions_owner_and_shows_its_permalink(
    database: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    database.setenv("GIL_LAB_DATABASE_URL", url)
    at = small_run()
    assert not at.exception and not at.error
    [caption] = [c.value for c in at.caption if c.value.startswith("Stored: this run's permalink")]
    found = re.search(r"\?run=([A-Za-z0-9_-]{22})", caption)
    assert found is not None
    with RunStore.open(url) as store:
        stored = store.get(found.group(1))
    assert stored.owner == at.session_state.store_owner
    assert stored.run_id == at.session_state.history[0].run_id


@pytest.mark.parametrize(
    "unusable",
    ["postgresql+psycopg://nobody@127.0.0.1:9/none", "sqlite:////proc/none/runs.db", "mysql://x@y/z"],
)
def test_a_store_that_cannot_take_the_run_costs_one_line_and_the_run_is_still_drawn(
    database: pytest.MonkeyPatch, unusable: str
) -> None:
    database.setenv("GIL_LAB_DATABASE_URL", unusable)
    at = small_run()
    assert not at.exception and not at.error
    notes = [w.value for w in at.warning if w.value.startswith("This run could not be stored")]
    assert len(notes) == 1 and "\n" not in notes[0]
    assert len(at.session_state.history) == 1 and [m.label for m in at.metric] == [
        "batch",
        "threads",
        "processes",
    ]


def test_run_these_settings_here_makes_a_new_run_with_a_new_id(
    database: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    database.setenv("GIL_LAB_DATABASE_URL", url)
    record = sample("run")
    with RunStore.open(url) as store:
        old = store.save(record)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = old
    at.run()
    next(button for button in at.button if button.label == "Run these settings here").click()
    at.run()
    assert not at.exception and not at.error and "run" not in at.query_params
    [again] = at.session_state.history
    assert again.run_id != record.run_id and again.settings.tasks == record.settings.tasks
    assert again.settings.modes == record.settings.modes and again.settings.size == record.settings.size
    with RunStore.open(url) as store:
        assert store.count() == 2 and store.get(old).run_id == record.run_id
