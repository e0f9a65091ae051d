"""The Runs place (AppTest): the stored runs listed, two of one lab on one chart, pin, delete, public mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import update
from store_samples import sample
from streamlit.testing.v1 import AppTest

from lab.store.schema import runs
from lab.store.store import RunStore

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "lab/app/pages/runs.py"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunStore]:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    monkeypatch.setenv("GIL_LAB_DATABASE_URL", url)
    monkeypatch.setenv("GIL_LAB_PUBLIC", "0")
    st.cache_resource.clear()  # the page's store and host rules are read once per server process
    yield RunStore.open(url)
    st.cache_resource.clear()


def runs_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at.switch_page(PAGE).run()


def listed(at: AppTest) -> list[dict[str, Any]]:
    frame = at.dataframe[0].value
    return list(frame.to_dict("records"))


def test_every_stored_run_is_listed_newest_first_with_its_link(store: RunStore) -> None:
    ids = [store.save(sample(lab)) for lab in ("run", "web", "sweep")]
    at = runs_page()
    assert not at.exception
    rows = listed(at)
    assert [row["lab"] for row in rows] == ["sweep", "web", "run"]
    assert rows[0]["open"] == f"/sweep?run={ids[2]}" and rows[2]["open"] == f"/cpu?run={ids[0]}"


def test_two_runs_of_one_lab_are_drawn_on_one_chart_and_can_be_pinned_and_deleted(store: RunStore) -> None:
    record = sample("run")
    first, second = store.save(record), store.save(replace(record, run_id="another"))
    at = runs_page()
    at.multiselect[0].set_value(
        [option for option in at.multiselect[0].options if first in option or second in option]
    )
    at.run()
    [chart] = at.get("plotly_chart")
    names = {trace.get("name", "") for trace in json.loads(chart.proto.spec)["data"]}
    assert any(name.startswith("run 1") for name in names) and any(name.startswith("run 2") for name in names)
    next(button for button in at.button if button.key == f"pin_{first}").click()
    at.run()
    assert store.get(first).pinned
    next(button for button in at.button if button.key == f"delete_{second}").click()
    at.run()
    assert store.count() == 1 and not at.exception


def test_public_visitors_see_their_own_and_pinned_runs_and_no_delete_or_pin(
    store: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = sample("run")
    pinned = store.save(record)
    store.pin(pinned)
    store.save(replace(record, run_id="someone-elses"), owner="another session")
    monkeypatch.setenv("GIL_LAB_PUBLIC", "1")
    st.cache_resource.clear()
    at = runs_page()
    assert [row["open"] for row in listed(at)] == [f"/cpu?run={pinned}"]
    at.multiselect[0].set_value(at.multiselect[0].options)
    at.run()
    keys = {button.key for button in at.button}
    assert f"pin_{pinned}" not in keys and f"delete_{pinned}" not in keys


def test_an_unreadable_run_is_listed_with_its_reason(store: RunStore) -> None:
    bad = store.save(sample("convoy"))
    with store.transaction(write=True) as connection:
        connection.execute(update(runs).where(runs.c.id == bad).values(body="{"))
    at = runs_page()
    assert listed(at)[0]["readable"].startswith("unreadable: ")
    at.multiselect[0].set_value(at.multiselect[0].options)
    at.run()
    assert any("unreadable" in warning.value for warning in at.warning) and not at.exception
