"""`?run=ID` (AppTest): every lab's stored run opens read-only in its own place; bad ids are one notice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from store_samples import LABS, sample
from streamlit.testing.v1 import AppTest

from lab.store.store import RunStore

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunStore]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    monkeypatch.setenv("GIL_LAB_DATABASE_URL", url)
    monkeypatch.setenv("GIL_LAB_PUBLIC", "0")
    st.cache_resource.clear()
    yield RunStore.open(url)
    st.cache_resource.clear()


def opened(run: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = run
    return at.run()


@pytest.mark.parametrize("lab", LABS)
def test_each_labs_stored_run_opens_read_only_where_it_was_measured(store: RunStore, lab: str) -> None:
    record = sample(lab)
    at = opened(store.save(record))
    assert not at.exception and not at.error
    machine = record.runs[0].machine if lab == "compare" else record.machine
    assert at.info[0].value.startswith(f"Measured on: {machine.cpu_model}")
    assert at.get("plotly_chart") and not [button for button in at.button if button.label == "Run"]


@pytest.mark.parametrize("bad", ["nope", "1 OR 1=1", "A" * 22, "z" * 10_000])
def test_a_bad_run_id_is_one_notice_and_the_front_page_opens(store: RunStore, bad: str) -> None:
    at = opened(bad)
    notices = [warning.value for warning in at.warning if "cannot be opened" in warning.value]
    assert len(notices) == 1 and not at.exception
    assert at.title[0].value == "GIL Lab" and at.get("page_link")
