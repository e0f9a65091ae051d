"""The Cluster lab's page (AppTest: controls, a real small run, links, CSV, public mode) and its figures."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster.cluster_factories import remote_run, typical_run
from streamlit.testing.v1 import AppTest

from lab.app.charts import cluster as charts
from lab.cluster import csvio
from lab.cluster.results import ClusterResult

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

TIMEOUT = 180
APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGE = "lab/app/pages/cluster.py"


def cluster_page(**query: str) -> AppTest:
    """The router, then the Cluster page, as a visitor following a link to it."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(PAGE).run()


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def small_run(at: AppTest) -> AppTest:
    """Two 20 ms sleeps on 1x1 and 2x1: a few seconds, most of it starting the two LocalClusters."""
    at.radio(key="cluster_workload").set_value("sleep")
    at.run()
    at.slider(key="cluster_tasks").set_value(2)
    at.select_slider(key="cluster_size_sleep").set_value(20)
    at.multiselect(key="cluster_layouts").set_value(["1x1", "2x1"])
    at.run()
    return click(at, "Run")


def figures(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_the_cluster_lab_renders_its_controls_with_their_defaults() -> None:
    at = cluster_page()
    assert not at.exception and not at.error
    assert at.radio(key="cluster_workload").value == "squares"
    assert at.slider(key="cluster_tasks").value == 8
    assert at.select_slider(key="cluster_size_squares").value == 3_000_000
    assert at.radio(key="cluster_where").value == "local"
    assert at.multiselect(key="cluster_layouts").value == ["1x1", "1x2", "2x1"]
    assert at.multiselect(key="cluster_layouts").options == ["1x1", "1x2", "2x1", "2x2", "1x4", "4x1"]
    assert at.query_params["layouts"] == "1x1,1x2,2x1"
    assert not next(b for b in at.button if b.label == "Run").disabled


@pytest.mark.slow
def test_a_run_draws_each_layout_the_takeaway_and_the_task_stream() -> None:
    at = small_run(cluster_page())
    assert not at.exception and not at.error
    (run,) = at.session_state.history
    assert isinstance(run, ClusterResult) and run.all_ok
    assert [metric.label for metric in at.metric] == ["1x1", "2x1"]
    assert any("Sleeping tasks on 2 single-thread workers" in md.value for md in at.markdown)
    titles = [figure["layout"]["title"]["text"] for figure in figures(at)]
    assert titles[0] == "Speedup per layout vs 1x1"
    assert titles[-1].startswith("Task stream per worker thread")
    stream = figures(at)[-1]
    rows = {row for trace in stream["data"] if trace["type"] == "bar" for row in trace["y"]}
    assert rows == {"worker 1 · thread 1", "worker 2 · thread 1"}
    assert at.query_params["workload"] == "sleep" and at.query_params["layouts"] == "1x1,2x1"


def test_a_link_is_clamped_and_never_carries_a_scheduler() -> None:
    at = cluster_page(workload="sha256", tasks="999", layouts="2x1,9x9", scheduler="tcp://10.0.0.1:8786")
    assert not at.exception
    assert at.radio(key="cluster_workload").value == "sha256"
    assert at.slider(key="cluster_tasks").value == 64
    assert at.multiselect(key="cluster_layouts").value == ["2x1"]
    assert at.radio(key="cluster_where").value == "local"
    notices = " ".join(warning.value for warning in at.warning)
    assert "tasks=999 from the link is out of range; using 64" in notices
    assert "ignored unknown layout(s) from the link: 9x9" in notices
    assert "a link never chooses an address" in notices


@pytest.mark.slow
def test_an_unreachable_scheduler_is_one_line_and_no_run_is_kept() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    at = cluster_page()
    at.radio(key="cluster_where").set_value("address")
    at.run()
    at.text_input(key="cluster_address").set_value(f"tcp://127.0.0.1:{port}")
    at.slider(key="cluster_tasks").set_value(1)
    at = click(at.run(), "Run")
    assert not at.exception
    assert at.session_state.history == []
    assert "scheduler" not in at.query_params  # the address stays out of the link
    (status,) = at.status
    assert status.label.startswith(f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}")
    assert status.state == "error" and "\n" not in status.label


@pytest.mark.slow
def test_the_history_exports_a_layout_csv_that_imports_back() -> None:
    at = small_run(cluster_page())
    text = csvio.to_csv(at.session_state.history)
    assert text.splitlines()[0].split(",").count("layout") == 1
    assert [summary.name for summary in csvio.from_csv(text)[0].summaries()] == ["1x1", "2x1"]
    at.session_state.history = []
    at.file_uploader[0].set_value(("cluster.csv", text.encode(), "text/csv"))
    at = at.run()
    assert len(at.session_state.history) == 1, [error.value for error in at.error]
    assert isinstance(at.session_state.history[0], csvio.ImportedClusterRun)


@pytest.fixture
def public_page(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The page as a public host with its own Dask scheduler runs it; cached host rules reset around it."""
    import streamlit as st

    monkeypatch.setenv("GIL_LAB_PUBLIC", "1")
    monkeypatch.setenv("GIL_LAB_MAX_PROCESSES", "2")
    monkeypatch.setenv("GIL_LAB_DASK_SCHEDULER", "tcp://127.0.0.1:8786")
    monkeypatch.setenv("GIL_LAB_QUEUE_DIR", str(tmp_path))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.usefixtures("public_page")
def test_public_mode_offers_the_hosts_cluster_but_no_address_and_no_layout_over_the_cap() -> None:
    at = cluster_page()
    assert not at.exception
    assert at.radio(key="cluster_where").options == ["A LocalCluster per layout", "This host's Dask cluster"]
    assert "4x1" not in at.multiselect(key="cluster_layouts").options
    at.radio(key="cluster_where").set_value("host")
    at = at.run()
    assert not at.error
    assert at.query_params["cluster"] == "host"
    assert any("tcp://127.0.0.1:8786" in caption.value for caption in at.caption)


def test_the_speedup_chart_draws_the_ideal_each_layout_could_reach_without_the_gil() -> None:
    figure = charts.speedup_chart(typical_run()).to_dict()
    bars, ideal = figure["data"]
    assert list(bars["x"]) == ["1x1", "1x2", "2x1"]
    assert list(ideal["y"]) == [
        1.0,
        2.0,
        2.0,
    ]  # two usable cores: either shape could double, were it not for the GIL
    assert bars["marker"]["color"][1] != bars["marker"]["color"][2]  # threads and processes look different


def test_the_task_stream_has_a_row_per_worker_thread_and_a_colour_per_worker() -> None:
    figure = charts.task_stream_chart(typical_run(failed=1)).to_dict()
    bars = [trace for trace in figure["data"] if trace["type"] == "bar"]
    assert [sorted(set(trace["y"])) for trace in bars] == [
        ["worker 1 · thread 1"],
        ["worker 1 · thread 1", "worker 1 · thread 2"],
        ["lost", "worker 1 · thread 1", "worker 2 · thread 1"],
    ]
    threads = dict(zip(bars[1]["y"], bars[1]["marker"]["line"]["color"], strict=True))
    assert threads["worker 1 · thread 1"] == threads["worker 1 · thread 2"]  # one process, one colour
    workers = dict(zip(bars[2]["y"], bars[2]["marker"]["line"]["color"], strict=True))
    assert workers["worker 1 · thread 1"] != workers["worker 2 · thread 1"]
    crosses = [trace for trace in figure["data"] if trace["type"] == "scatter"]
    assert [list(trace["y"]) for trace in crosses] == [["lost"]]


def test_an_imported_run_draws_its_figures_and_an_empty_run_draws_notes() -> None:
    (imported,) = csvio.from_csv(csvio.to_csv([typical_run()]))
    for chart in (charts.speedup_chart, charts.cores_chart, charts.overhead_chart):
        assert chart(imported).to_dict()["data"][0]["type"] == "bar"
    result = typical_run()
    empty = ClusterResult(result.settings, result.machine, (), status="cancelled")
    stream = charts.task_stream_chart(empty).to_dict()
    assert stream["data"] == [] and "no task stream to show" in stream["layout"]["annotations"][0]["text"]


def test_an_existing_clusters_cores_are_measured_against_its_own_threads() -> None:
    figure = charts.cores_chart(remote_run()).to_dict()
    (line,) = figure["layout"]["shapes"]
    assert line["y0"] == 2 and "the cluster's threads: 2" in figure["layout"]["annotations"][0]["text"]
