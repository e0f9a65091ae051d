"""The page's flows, driven through Streamlit's AppTest (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab import history
from lab.runner import run_experiment
from lab.settings import RunSettings
from lab.web import history as web_history

TIMEOUT = 120
APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def page(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def small_run(at: AppTest) -> AppTest:
    at.slider(key="tasks").set_value(3)
    at.select_slider(key="size_squares").set_value(30_000)
    at.run()
    return click(at, "Run")


def test_defaults_render_without_errors() -> None:
    at = page()
    assert not at.exception
    assert [s.label for s in at.slider][:2] == ["Task count", "Process count"]
    assert at.select_slider(key="size_squares").value == 3_000_000
    assert at.multiselect(key="modes").value == ["batch", "threads", "processes"]
    assert at.session_state.history == []
    assert any(b.label == "Run" for b in at.button)
    assert at.query_params["workload"] == "squares"


def test_a_run_adds_to_the_history_and_draws_the_results() -> None:
    at = small_run(page())
    assert not at.exception
    assert not at.error
    runs = at.session_state.history
    assert len(runs) == 1 and runs[0].status == "complete"
    assert [m.label for m in at.metric] == ["batch", "threads", "processes"]
    assert len(at.get("plotly_chart")) >= 4
    assert at.query_params["tasks"] == "3" and at.query_params["size"] == "30000"
    at = click(at, "Run")
    assert len(at.session_state.history) == 2


def test_the_csv_export_has_one_row_per_run_and_mode() -> None:
    at = small_run(page())
    text = history.to_csv(at.session_state.history)
    lines = text.strip().splitlines()
    assert len(lines) == 1 + 3
    assert "run_id" in lines[0] and ",processes," in lines[3]


def good_csv() -> str:
    result = run_experiment(RunSettings.create("sleep", tasks=2, size=5, modes="batch,threads"))
    return history.to_csv([result])


def upload(at: AppTest, text: str | bytes) -> AppTest:
    data = text.encode() if isinstance(text, str) else text
    at.file_uploader[0].set_value(("history.csv", data, "text/csv"))
    return at.run()


def test_import_of_a_good_csv_adds_its_runs() -> None:
    at = page()
    at = upload(at, good_csv())
    assert not at.exception
    assert len(at.session_state.history) == 1
    assert any("Imported 1 run" in s.value for s in at.success)


@pytest.mark.parametrize("content", ["not,a,gil,lab\n1,2,3,4\n", b"\x89PNG\r\n\x1a\n\x00\x00", ""])
def test_import_of_a_bad_file_keeps_the_history(content: str | bytes) -> None:
    at = small_run(page())
    before = list(at.session_state.history)
    at = upload(at, content)
    assert not at.exception
    assert at.session_state.history == before
    assert any("Nothing imported" in e.value or "not text" in e.value for e in at.error)


def test_query_parameters_restore_settings() -> None:
    at = page(workload="sleep", tasks="5", size="50", modes="batch,threads", repeats="2")
    assert at.radio(key="lab").value == "I/O-bound"
    assert at.radio(key="workload").value == "sleep"
    assert at.slider(key="tasks").value == 5
    assert at.select_slider(key="size_sleep").value == 50
    assert at.multiselect(key="modes").value == ["batch", "threads"]
    assert at.slider(key="repeats").value == 2
    assert not at.warning


def test_tampered_query_parameters_are_clamped_with_a_notice() -> None:
    at = page(tasks="99999", size="-5", workers="abc", modes="warp", url="gopher://x", repeats="-1")
    assert not at.exception
    assert at.slider(key="tasks").value == 64
    assert at.select_slider(key="size_squares").value == 10_000
    assert at.slider(key="repeats").value == 1
    assert len(at.warning) >= 4


def test_remove_and_clear_history() -> None:
    at = small_run(page())
    at = click(at, "Run")
    assert len(at.session_state.history) == 2
    at = click(at, "Remove run")
    assert len(at.session_state.history) == 1
    at = click(at, "Clear all")
    assert at.session_state.history == []


@pytest.fixture
def public_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The page as a public host runs it; the cached hosting rules are reset around the test."""
    import streamlit as st

    monkeypatch.setenv("GIL_LAB_PUBLIC", "1")
    monkeypatch.setenv("GIL_LAB_QUEUE_DIR", str(tmp_path))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_public_mode_says_so_and_refuses_an_over_budget_run(public_page: None) -> None:
    at = page(tasks="64", size="100000000", workers="16")
    assert not at.exception
    assert any("Public mode" in caption.value for caption in at.sidebar.caption)
    assert at.slider(key="workers").value <= 4
    assert any("would take about" in error.value for error in at.error)
    assert next(b for b in at.button if b.label == "Run").disabled


WEB_LINK = {"lab": "web", "endpoints": "async_wait,async_blocking", "clients": "20", "duration": "1"}


def test_a_web_lab_link_restores_its_settings() -> None:
    at = page(**WEB_LINK, threadpool="8", server_workers="2")
    assert not at.exception and not at.warning
    assert at.radio(key="lab").value == "Web server"
    assert at.multiselect(key="endpoints").value == ["async_wait", "async_blocking"]
    assert (at.slider(key="clients").value, at.slider(key="duration").value) == (20, 1)
    assert (at.slider(key="threadpool").value, at.slider(key="server_workers").value) == (8, 2)


def test_a_tampered_web_link_is_clamped() -> None:
    at = page(lab="web", endpoints="nope", clients="999999", threadpool="-4", duration="x")
    assert not at.exception
    assert at.slider(key="clients").value == 1000
    assert at.slider(key="threadpool").value == 1
    assert at.multiselect(key="endpoints").value == ["def_wait", "async_wait", "async_blocking"]
    assert len(at.warning) == 4


def test_a_web_run_lands_in_the_history_and_its_csv_imports_again() -> None:
    at = click(page(**WEB_LINK), "Run")
    assert not at.exception and not at.error
    (run,) = at.session_state.history
    assert web_history.is_web_run(run) and run.status == "complete"
    assert [m.label for m in at.metric] == ["async_wait", "async_blocking"]
    assert len(at.get("plotly_chart")) >= 3
    text = web_history.to_csv([run])
    fresh = upload(page(), text)
    assert any("Imported 1 run" in s.value for s in fresh.success)
    (imported,) = fresh.session_state.history
    assert imported.run_id == run.run_id
    assert web_history.to_csv([imported]) == text
