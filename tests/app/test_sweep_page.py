"""The Scaling view through Streamlit's AppTest: its controls, a real small sweep, its chart, link and CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lab.sweep import csvio as sweep_csv
from lab.sweep.results import SweepResult

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

TIMEOUT = 180
APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "lab/app/pages/sweep.py"


def sweep_page(**query: str) -> AppTest:
    """The router, then the Scaling page, as a visitor following a link to it."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.query_params.clear()  # the default page's own link, which a page switch in a browser drops
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def small_sweep(at: AppTest) -> AppTest:
    """Squares at the smallest size, threads at 1, 2 and 4 workers, one round: a second or two."""
    at.select_slider(key="sweep_size_squares").set_value(10_000)
    at.multiselect(key="sweep_workers").set_value([1, 2, 4])
    at.multiselect(key="sweep_modes").set_value(["threads"])
    at.slider(key="sweep_repeats").set_value(1)
    at.run()
    return click(at, "Run")


def figure(at: AppTest) -> dict[str, Any]:
    chart = at.get("plotly_chart")[0]
    spec: dict[str, Any] = json.loads(chart.proto.spec)
    return spec


def test_the_scaling_view_renders_its_controls_with_their_defaults() -> None:
    at = sweep_page()
    assert not at.exception
    assert at.radio(key="sweep_workload").value == "squares"
    assert at.select_slider(key="sweep_size_squares").value == 1_000_000
    assert at.multiselect(key="sweep_workers").value == [1, 2, 4]
    assert at.multiselect(key="sweep_modes").value == ["threads", "processes"]
    assert at.radio(key="sweep_scale").value == "strong"
    assert at.slider(key="sweep_repeats").value == 3
    assert not next(b for b in at.button if b.label == "Run").disabled
    assert any("6 points × 3 round(s)" in caption.value for caption in at.caption)
    assert at.query_params["workers"] == "1,2,4" and at.query_params["scale"] == "strong"


@pytest.mark.usefixtures("no_leftover_processes")
def test_a_sweep_draws_its_curves_with_the_ideal_line_and_the_cores_band_and_lands_in_the_history() -> None:
    at = small_sweep(sweep_page())
    assert not at.exception
    assert not at.error
    (sweep,) = at.session_state.history
    assert isinstance(sweep, SweepResult) and sweep.status == "complete"
    assert [(p.mode, p.workers) for p in sweep.points] == [("threads", 1), ("threads", 2), ("threads", 4)]
    assert [metric.label for metric in at.metric] == [f"threads · {sweep.interpreters[0]}"]
    names = [trace.get("name", "") for trace in figure(at)["data"]]
    assert "ideal: min(n, 2 cores)" in names
    assert "n > 2 usable cores: no further speedup is possible" in names
    assert "threads" in names and any(name.startswith("threads fit") for name in names)
    assert next(button.proto.label for button in at.get("download_button")) == "Download chart (HTML)"
    at = click(at, "Run")
    assert len(at.session_state.history) == 2


def test_a_share_link_restores_the_sweep() -> None:
    at = sweep_page(
        workload="sha256", size="8388608", workers="1,2", modes="threads", scale="weak", repeats="2"
    )
    assert not at.exception and not at.warning
    assert at.radio(key="sweep_workload").value == "sha256"
    assert at.select_slider(key="sweep_size_sha256").value == 8 * 1024 * 1024
    assert at.multiselect(key="sweep_workers").value == [1, 2]
    assert at.multiselect(key="sweep_modes").value == ["threads"]
    assert at.radio(key="sweep_scale").value == "weak"
    assert at.slider(key="sweep_repeats").value == 2


def test_a_tampered_link_is_clamped_with_a_notice_for_each_change() -> None:
    at = sweep_page(
        workload="mine", workers="0,3,2", modes="warp", scale="sideways", repeats="99", pythons="/bin/sh"
    )
    assert not at.exception
    assert at.radio(key="sweep_workload").value == "squares"
    assert at.multiselect(key="sweep_workers").value == [2]
    assert at.multiselect(key="sweep_modes").value == ["threads", "processes"]
    assert at.radio(key="sweep_scale").value == "strong"
    assert at.slider(key="sweep_repeats").value == 5
    assert len(at.warning) >= 5
    assert any("1 worker added" in caption.value for caption in at.caption)


def test_the_history_exports_a_csv_that_imports_back_through_the_page() -> None:
    at = small_sweep(sweep_page())
    (sweep,) = at.session_state.history
    text = sweep_csv.to_csv([sweep])
    at = click(at, "Clear all")
    assert at.session_state.history == []
    at.file_uploader[0].set_value(("sweeps.csv", text.encode(), "text/csv"))
    at = at.run()
    assert not at.exception
    assert at.session_state.history == [sweep]
    assert any("Imported 1 run(s)" in success.value for success in at.success)


def test_a_damaged_sweep_csv_imports_nothing_and_says_why_in_one_line() -> None:
    at = small_sweep(sweep_page())
    text = sweep_csv.to_csv(at.session_state.history).replace(",strong,", ",sideways,")
    at.file_uploader[0].set_value(("sweeps.csv", text.encode(), "text/csv"))
    at = at.run()
    assert len(at.session_state.history) == 1
    assert any("Nothing imported" in error.value and "scale" in error.value for error in at.error)


@pytest.fixture
def public_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The page as a public host runs it; the cached hosting rules are reset around the test."""
    import streamlit as st

    monkeypatch.setenv("GIL_LAB_PUBLIC", "1")
    monkeypatch.setenv("GIL_LAB_QUEUE_DIR", str(tmp_path))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.usefixtures("public_page")
def test_public_mode_counts_the_whole_sweep_and_refuses_one_over_its_limits() -> None:
    at = sweep_page(workers="1,2,4,8,16", modes="processes")
    assert not at.exception
    assert any("drop the worker counts above" in error.value for error in at.error)
    assert next(b for b in at.button if b.label == "Run").disabled
    at = sweep_page(workers="1,2,4", modes="threads", size="100000000", repeats="5")
    assert any("lower Repeats, worker counts" in error.value for error in at.error)
