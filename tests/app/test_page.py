"""The page's flows, driven through Streamlit's AppTest (no browser): the router, the labs, links, history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab.app.history import is_web_run
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings
from lab.run import csvio as history
from lab.web import csvio as web_history

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

TIMEOUT = 120
APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGES = "lab/app/pages"


def page(**query: str) -> AppTest:
    """The CPU-bound place, opened by its path or, with settings, by an older link to the front page."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    if not query:
        return at.run().switch_page(f"{PAGES}/cpu.py").run()
    return at.run()


def test_the_front_page_offers_every_place_and_says_the_hosts_mode() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and title(at) == "GIL Lab"
    links = {element.proto.label for element in at.get("page_link")}
    assert {"CPU-bound", "I/O-bound", "Web server", "Convoy", "Cluster", "Scaling", "Classics"} <= links
    assert any("Private mode" in caption.value for caption in at.caption)


def open_page(at: AppTest, name: str) -> AppTest:
    return at.switch_page(f"{PAGES}/{name}.py").run()


def title(at: AppTest) -> str:
    return at.title[0].value


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def small_run(at: AppTest) -> AppTest:
    at.slider(key="cpu_tasks").set_value(3)
    at.select_slider(key="cpu_size_squares").set_value(30_000)
    at.run()
    return click(at, "Run")


def test_defaults_render_without_errors() -> None:
    at = page()
    assert not at.exception
    assert title(at) == "CPU-bound"
    assert [s.label for s in at.slider][:2] == ["Task count", "Process count"]
    assert at.select_slider(key="cpu_size_squares").value == 3_000_000
    assert at.multiselect(key="cpu_modes").value == ["batch", "threads", "processes"]
    assert at.session_state.history == []
    assert any(b.label == "Run" for b in at.button)
    assert at.query_params["workload"] == "squares"


@pytest.mark.parametrize(
    "name, heading", [("io", "I/O-bound"), ("web", "Web server"), ("compare", "Compare interpreters")]
)
def test_every_page_renders_without_errors(name: str, heading: str) -> None:
    at = open_page(page(), name)
    assert not at.exception and not at.error
    assert title(at) == heading


def test_a_run_adds_to_the_history_and_draws_the_results() -> None:
    at = small_run(page())
    assert not at.exception
    assert not at.error
    runs = at.session_state.history
    assert len(runs) == 1 and runs[0].status == "complete"
    assert runs[0].interpreter is not None
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
    at = upload(page(), good_csv())
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
    assert title(at) == "I/O-bound"  # an old single-page link opens the lab it meant
    assert at.radio(key="io_workload").value == "sleep"
    assert at.slider(key="io_tasks").value == 5
    assert at.select_slider(key="io_size_sleep").value == 50
    assert at.multiselect(key="io_modes").value == ["batch", "threads"]
    assert at.slider(key="io_repeats").value == 2
    assert not at.warning


def test_tampered_query_parameters_are_clamped_with_a_notice() -> None:
    at = page(tasks="99999", size="-5", workers="abc", modes="warp", url="gopher://x", repeats="-1")
    assert not at.exception
    assert at.slider(key="cpu_tasks").value == 64
    assert at.select_slider(key="cpu_size_squares").value == 10_000
    assert at.slider(key="cpu_repeats").value == 1
    assert len(at.warning) >= 4


def test_a_link_that_names_an_interpreter_by_path_is_refused() -> None:
    at = page(python="/usr/bin/python3")
    assert not at.exception
    assert any("never by path" in warning.value for warning in at.warning)
    assert at.selectbox(key="cpu_python").value == ""


def test_remove_and_clear_history() -> None:
    at = small_run(page())
    at = click(at, "Run")
    assert len(at.session_state.history) == 2
    at = click(at, "Remove run")
    assert len(at.session_state.history) == 1
    at = click(at, "Clear all")
    assert at.session_state.history == []


def test_the_history_keeps_every_labs_runs_and_each_page_shows_its_own() -> None:
    at = small_run(page())
    at = open_page(at, "io")
    assert len(at.session_state.history) == 1
    assert not at.dataframe  # the I/O-bound lab has no runs of its own yet
    at = open_page(at, "cpu")
    assert at.select_slider(key="cpu_size_squares").value == 30_000  # the form was kept across pages
    assert len(at.dataframe) >= 1


@pytest.fixture
def public_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
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
    assert at.slider(key="cpu_workers").value <= 4
    assert any("would take about" in error.value for error in at.error)
    assert next(b for b in at.button if b.label == "Run").disabled


def test_public_mode_offers_no_function_of_your_own_and_ignores_a_links_code(public_page: None) -> None:
    at = page(workload="function", code="eJxLSU3OTFFIVLBVSE4sKUjNS9FLTi0pSsxRyMtXKEotLs0rUUjOzytJzSsBAJXyCxc")
    assert not at.exception
    assert "function" not in at.radio(key="cpu_workload").options
    assert any("does not run visitors' code" in warning.value for warning in at.warning)


def test_your_function_runs_and_gets_a_verdict() -> None:
    at = page()
    at.radio(key="cpu_workload").set_value("function").run()
    at.text_area(key="cpu_code").input("def work(n):\n    return sum(i * i for i in range(n))\n")
    at.text_input(key="cpu_args").input("[20000]")
    at.slider(key="cpu_tasks").set_value(2)
    at.run()
    at = click(at, "Run")
    assert not at.exception and not at.error
    (run,) = at.session_state.history
    assert run.settings.workload == "function" and run.all_ok
    assert any("Verdict" in box.value or "No verdict" in box.value for box in [*at.info, *at.success])
    assert at.query_params["workload"] == "function" and "code" in at.query_params


def test_an_exception_in_your_code_shows_its_own_traceback_and_keeps_the_history() -> None:
    at = small_run(page())
    at.radio(key="cpu_workload").set_value("function").run()
    at.text_area(key="cpu_code").input("import missing_module_of_yours\n\ndef work():\n    return 1\n")
    at.text_input(key="cpu_args").input("[]")
    at.run()
    at = click(at, "Run")
    assert not at.exception
    assert any("missing_module_of_yours" in error.value for error in at.error)
    assert len(at.session_state.history) == 1


WEB_LINK = {"lab": "web", "endpoints": "async_wait,async_blocking", "clients": "20", "duration": "1"}


def test_a_web_lab_link_restores_its_settings() -> None:
    at = page(**WEB_LINK, threadpool="8", server_workers="2")
    assert not at.exception and not at.warning
    assert title(at) == "Web server"
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


@pytest.mark.web
def test_a_web_run_lands_in_the_history_and_its_csv_imports_again() -> None:
    at = click(page(**WEB_LINK), "Run")
    assert not at.exception and not at.error
    (run,) = at.session_state.history
    assert is_web_run(run) and run.status == "complete"
    assert [m.label for m in at.metric] == ["async_wait", "async_blocking"]
    assert len(at.get("plotly_chart")) >= 3
    text = web_history.to_csv([run])
    fresh = upload(page(), text)
    assert any("Imported 1 run" in s.value for s in fresh.success)
    (imported,) = fresh.session_state.history
    assert imported.run_id == run.run_id
    assert web_history.to_csv([imported]) == text
