"""The Convoy page through Streamlit's AppTest (no browser), and its charts as pure functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from factories import make_machine
from streamlit.testing.v1 import AppTest

from lab.app.charts import convoy as charts
from lab.app.charts import xray as xray_charts
from lab.app.labs.convoy import ConvoyForm, history_rows
from lab.convoy import csvio as convoy_csv
from lab.convoy.results import ConvoyPoint, ConvoyResult
from lab.convoy.settings import ConvoySettings
from lab.core.interpreters import RunInterpreter

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

TIMEOUT = 120
PAGE = str(Path(__file__).resolve().parents[2] / "lab" / "app" / "pages" / "convoy.py")


def page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def click(at: AppTest, label: str) -> AppTest:
    next(button for button in at.button if button.label == label).click()
    return at.run()


def small_run(at: AppTest) -> AppTest:
    at.select_slider(key="convoy_threads").set_range(0, 1)
    at.select_slider(key="convoy_intervals").set_range(5.0, 5.0)
    at.select_slider(key="convoy_seconds").set_value(0.5)
    at.run()
    return click(at, "Run")


def test_defaults_render_without_errors() -> None:
    at = page()
    assert not at.exception and not at.error
    assert [s.label for s in at.select_slider] == ["CPU threads", "Switch interval (ms)", "Seconds per point"]
    assert at.select_slider(key="convoy_threads").value == (0, 4)
    assert at.select_slider(key="convoy_intervals").value == (1.0, 20.0)
    assert at.selectbox(key="convoy_python").value == ""
    assert at.query_params["threads_to"] == "4" and at.query_params["interval_ms_to"] == "20"
    assert any("12 points" in caption.value for caption in at.caption)
    assert any("The convoy effect" in block.value for block in at.markdown)


def test_a_run_adds_to_the_history_and_draws_latency_and_xray(no_leftover_processes: None) -> None:
    at = small_run(page())
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = at.session_state.history
    assert isinstance(run, ConvoyResult) and run.status == "complete"
    assert [p.cpu_threads for p in run.points] == [0, 1]
    assert len(at.get("plotly_chart")) == 2  # the latency chart and the chosen point's X-ray
    assert at.selectbox(key=f"convoy_xray_{run.run_id}").value == "1 CPU thread, 5 ms switch interval"
    assert any("FastAPI `def` endpoint" in block.value for block in at.markdown)
    assert at.query_params["threads_to"] == "1" and at.query_params["seconds"] == "0.5"
    at.selectbox(key=f"convoy_xray_{run.run_id}").set_value("0 CPU threads, 5 ms switch interval").run()
    assert not at.exception


def test_a_share_link_sets_the_sliders_and_bad_values_become_notices() -> None:
    at = page(threads_from="1", threads_to="16", interval_ms_from="20", interval_ms_to="0.2", seconds="3")
    assert at.select_slider(key="convoy_threads").value == (1, 16)
    assert at.select_slider(key="convoy_intervals").value == (0.2, 20.0)  # put in order
    assert at.select_slider(key="convoy_seconds").value == 3.0
    assert not at.warning
    at = page(threads_to="5", seconds="forever", python="/usr/bin/python3")
    assert at.select_slider(key="convoy_threads").value == (0, 4)
    notices = " ".join(warning.value for warning in at.warning)
    assert "threads_to='5'" in notices and "seconds='forever'" in notices and "python=" in notices


def test_the_interpreter_choice_offers_the_free_threaded_build_with_the_gil_off() -> None:
    """3.13t is on this machine and in CI (scripts/build-free-threaded-python); only it gets a GIL switch."""
    labels = page().selectbox(key="convoy_python").options
    assert labels[0] == "this server's Python" and "3.13t:gil=off" in labels and "3.13t:gil=on" in labels
    assert not any(":gil=" in label and not label.split(":")[0].endswith("t") for label in labels)


def test_the_form_measures_every_ladder_value_in_its_ranges() -> None:
    form = ConvoyForm(threads=(1, 8), intervals_ms=(1.0, 20.0))
    assert form.cpu_threads == (1, 2, 4, 8) and form.switch_intervals_ms == (1.0, 5.0, 20.0)


# --- the charts and the history table, from synthetic runs


def synthetic_point(cpu_threads: int, interval: float, typical_ms: float) -> ConvoyPoint:
    probe: dict[str, Any] = {
        "pid": 1,
        "tid": 2,
        "name": "probe",
        "worker": "probe",
        "task": True,
        "on_cpu": 0.0,
        "waiting_for_core": 0.0,
        "gil_or_lock": 0.4,
        "io": 0.6,
        "sleep": 0.0,
        "other": 0.0,
        "unknown": 0.0,
        "voluntary_switches": 0,
        "nonvoluntary_switches": 0,
        "segments": [[10.0, 10.005, "gil_or_lock"], [10.005, 10.02, "io"], [10.02, 10.025, "gil_or_lock"]],
    }
    cpu = probe | {"tid": 3, "name": "cpu-1", "worker": "cpu-1", "on_cpu": 1.0, "gil_or_lock": 0.0, "io": 0.0}
    cpu["segments"] = [[10.0, 11.0, "on_cpu"]]
    xray = {"t0": 10.0, "t1": 11.0, "rate_hz": 250.0, "samples": 250, "mean_on_cpu": 1.0}
    xray |= {"handoffs_per_s": 40.0, "threads": [probe, cpu], "others": [], "on_cpu_steps": []}
    return ConvoyPoint(
        cpu_threads=cpu_threads,
        switch_interval_ms=interval,
        seconds=1.0,
        at=(0.0, 0.1, 0.2),
        latency_ms=(typical_ms * 0.9, typical_ms, typical_ms * 1.5),
        lost=0,
        gil_enabled=True,
        xray=xray if cpu_threads else None,
        xray_note=None if cpu_threads else "no X-ray: a test point",
    )


def synthetic_run() -> ConvoyResult:
    settings = ConvoySettings.create(cpu_threads="0,1,2", switch_intervals_ms="5,20", seconds=1)
    points = tuple(
        synthetic_point(count, interval, 0.1 + count * interval) for count, interval in settings.points()
    )
    interpreter = RunInterpreter("3.11", "3.11.9", "CPython", False, True, "/usr/bin/python3")
    return ConvoyResult(settings, make_machine(), points, interpreter, run_id="convoy0001")


def test_the_latency_chart_has_p50_and_p99_per_interval_and_the_intervals_drawn() -> None:
    fig = charts.latency_figure(synthetic_run())
    names = [trace.name for trace in fig.data]
    assert names == [
        "p50, 5 ms switch interval",
        "p99, 5 ms switch interval",
        "p50, 20 ms switch interval",
        "p99, 20 ms switch interval",
    ]
    assert sorted(shape.y0 for shape in fig.layout.shapes) == [5.0, 20.0]
    assert fig.layout.yaxis.type == "log" and list(fig.data[0].x) == [0, 1, 2]
    assert fig.data[0].line.color == fig.layout.shapes[0].line.color


def test_the_latency_chart_of_a_run_without_answers_says_so() -> None:
    run = synthetic_run()
    silent = ConvoyResult(run.settings, run.machine, (), run.interpreter, status="crashed")
    fig = charts.latency_figure(silent)
    assert "No point answered" in fig.layout.annotations[0].text


def test_a_points_xray_draws_on_the_xray_chart_with_its_shares_beside_it() -> None:
    point = synthetic_run().points[1]
    fig = xray_charts.xray_figure(point.xray or {}, charts.xray_title(point), 2.0)
    assert fig.layout.title.text == "X-ray: 1 CPU thread, 5 ms switch interval"
    waits = next(trace for trace in fig.data if trace.name == "waiting for the GIL or a lock")
    assert list(waits.base) == pytest.approx([0.0, 20.0]) and list(waits.x) == pytest.approx([5.0, 5.0])
    frame = charts.xray_shares_frame(point)
    assert list(frame["thread"]) == ["probe", "cpu-1"]
    assert frame.loc[0, "waiting for the GIL or a lock"] == 0.4 and frame.loc[1, "on a CPU"] == 1.0


def test_a_point_without_xray_has_no_shares() -> None:
    point = synthetic_run().points[0]
    assert point.xray is None and charts.xray_shares_frame(point).empty


def test_history_rows_read_fresh_and_imported_runs_alike() -> None:
    run = synthetic_run()
    (imported,) = convoy_csv.from_csv(convoy_csv.to_csv([run]))
    fresh, back = history_rows([run, imported])
    assert fresh["source"] == "measured" and back["source"] == "imported"
    assert fresh["p50 ms behind 1 CPU thread @ interval"] == "5.1 @ 5, 20.1 @ 20"
    assert {key: value for key, value in fresh.items() if key not in ("run", "source")} == {
        key: value for key, value in back.items() if key not in ("run", "source")
    }
    assert list(charts.latency_figure(imported).data[0].y) == list(charts.latency_figure(run).data[0].y)
