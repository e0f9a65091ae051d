"""The web lab's result model, CSV rows, takeaway and charts, on synthetic runs shaped like real ones."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from factories import make_machine

from lab.app.charts.web import (
    latency_figure,
    latency_over_time_figure,
    ping_figure,
    summary_frame,
    throughput_figure,
)
from lab.core.errors import ResultsFormatError
from lab.web.csvio import (
    ENDPOINT_COLUMNS,
    ImportedWebRun,
    from_csv,
    from_rows,
    rows_to_csv,
    to_csv,
    web_rows,
)
from lab.web.results import EndpointRun, EndpointSummary, Probe, Samples, WebResult, percentile
from lab.web.settings import WebSettings
from lab.web.takeaway import takeaway

SETTINGS = WebSettings.create(clients=100, duration=3, latency_ms=200, threadpool=40)


def waves(count: int, per_wave: int, period_s: float, latency_ms: float) -> Samples:
    """Answers arriving in waves, as they do when every client starts together."""
    at = [round(period_s * (wave + 1), 4) for wave in range(count) for _ in range(per_wave)]
    return Samples(tuple(at), tuple(latency_ms for _ in at))


def make_result(status: str = "complete", message: str | None = None) -> WebResult:
    steady_ping = Samples((0.0, 0.05, 0.1, 0.15), (9.5, 31.25, 12.0, 400.5))
    return WebResult(
        settings=SETTINGS,
        machine=make_machine(),
        endpoints=(
            EndpointRun(
                "def_wait", 3.0, 560, 0, 100, waves(14, 40, 0.2, 440.0), ceiling=200.0, server_cpu_seconds=0.3
            ),
            EndpointRun("async_wait", 3.0, 1400, 0, 100, waves(14, 100, 0.205, 205.0), ceiling=500.0),
            EndpointRun(
                "async_blocking",
                3.0,
                15,
                0,
                100,
                Samples(tuple(0.2 * (n + 1) for n in range(15)), tuple(200.0 * (n + 1) for n in range(15))),
                ceiling=5.0,
                probe=Probe(Samples(), cut=1, unanswered_ms=2996.9),
            ),
            EndpointRun(
                "def_cpu",
                3.0,
                55,
                2,
                100,
                waves(11, 5, 0.25, 1900.0),
                ceiling=20.0,
                single_core_rate=20.0,
                client_cpu_seconds=2.9,
                server_processes=1,
                probe=Probe(steady_ping, cut=1),
                failures=(("HTTP 500", 2),),
            ),
        ),
        status=status,
        message=message,
    )


def test_percentiles_interpolate_like_numpy() -> None:
    ordered = (1.0, 2.0, 3.0, 4.0)
    assert percentile(ordered, 50) == pytest.approx(2.5)
    assert percentile(ordered, 95) == pytest.approx(3.85)
    assert percentile(ordered, 100) == 4.0 and percentile((), 50) is None
    samples = Samples((0.1, 0.2, 0.3), (30.0, 10.0, 20.0))
    assert (samples.percentile(50), samples.max_ms, len(samples)) == (20.0, 30.0, 3)


def test_throughput_runs_to_the_last_answer_so_waves_are_not_undercounted() -> None:
    run = make_result().endpoint("async_wait")
    assert run.requests == 1500
    assert run.answering_seconds == pytest.approx(14 * 0.205)
    assert run.throughput == pytest.approx(100 / 0.205)  # not 1400 / 3.0 = 467
    nothing = EndpointRun("async_blocking", 3.0, 0, 0, 100, Samples())
    assert (nothing.throughput, nothing.answering_seconds) == (0.0, 3.0)


def test_summary_carries_the_figures_and_the_ping_probe() -> None:
    summaries = {s.endpoint: s for s in make_result().summaries()}
    blocking, cpu = summaries["async_blocking"], summaries["def_cpu"]
    assert blocking.ping_count == 0 and blocking.ping_p50_ms is None and blocking.ping_max_ms == 2996.9
    assert cpu.ping_count == 4 and cpu.ping_max_ms == 400.5 and cpu.failures == "HTTP 500 (2x)"
    assert summaries["def_wait"].ping_count is None
    assert summaries["def_wait"].share_of_ceiling == pytest.approx(0.994, abs=0.01)
    assert cpu.client_busy == pytest.approx(2.9 / 3.0)


def test_json_round_trip_is_lossless_and_readable() -> None:
    result = make_result()
    data = json.loads(result.to_json())
    assert data["schema_version"] == 1 and data["kind"] == "web" and data["status"] == "complete"
    assert {"settings", "machine", "endpoints"} <= data.keys()
    first = data["endpoints"][0]
    for key in ("endpoint", "requests", "ok", "failed", "cut", "seconds", "throughput", "ceiling"):
        assert key in first
    assert {"p50_ms", "p95_ms", "p99_ms", "max_ms", "ping_p50_ms", "ping_max_ms"} <= first.keys()
    assert WebResult.from_json(result.to_json()) == result
    assert WebResult.from_json(result.to_json()).to_json() == result.to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "cpu"}, "kind is not 'web'"),
        ({"schema_version": 99}, "schema version 99"),
        ({"status": "weird"}, "unknown status"),
    ],
)
def test_json_that_is_not_a_web_result_is_refused(change: dict, message: str) -> None:
    data = make_result().to_dict() | change
    with pytest.raises(ResultsFormatError, match=message):
        WebResult.from_dict(data)
    with pytest.raises(ResultsFormatError, match="not JSON"):
        WebResult.from_json("{")


def test_all_ok_needs_a_complete_run_of_every_endpoint_without_failures() -> None:
    result = make_result()
    assert not result.all_ok  # def_cpu had two failures
    clean = WebResult(replace(SETTINGS, endpoints=("def_wait",)), make_machine(), result.endpoints[:1])
    assert clean.all_ok
    assert not WebResult(SETTINGS, make_machine(), result.endpoints[:1]).all_ok  # endpoints missing


def test_csv_export_import_export_gives_the_same_text() -> None:
    runs = [make_result(), make_result("crashed", "the web server stopped, with a comma")]
    text = to_csv(runs)
    imported = from_csv(text)
    assert [type(run) for run in imported] == [ImportedWebRun, ImportedWebRun]
    assert to_csv(imported) == text
    assert imported[1].status == "crashed" and imported[1].message == "the web server stopped, with a comma"
    assert imported[0].summaries() == runs[0].summaries()
    assert imported[0].all_ok == runs[0].all_ok


def test_flat_rows_are_one_per_run_and_endpoint_and_import_back_identically() -> None:
    empty = WebResult(
        SETTINGS, make_machine(), (), status="cancelled", message="cancelled before it finished"
    )
    rows = web_rows([make_result(), empty])
    assert len(rows) == 4 + 1
    assert rows[-1]["endpoint"] is None and rows[-1]["status"] == "cancelled"
    assert web_rows(from_rows(rows)) == rows
    assert rows_to_csv(web_rows(from_rows(rows))) == rows_to_csv(rows)


def test_summary_columns_match_the_model() -> None:
    assert set(ENDPOINT_COLUMNS) == set(EndpointSummary.__dataclass_fields__)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text.replace(",complete,", ",finished,"), "unknown status"),
        (lambda text: text.replace("schema_version,", "version,", 1), "no schema_version"),
        (lambda text: text.replace(",def_wait,", ",def_sleep,", 1), "unknown endpoint"),
        (lambda text: "", "empty"),
    ],
)
def test_a_damaged_csv_is_refused_in_one_line(edit, message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message) as caught:
        from_csv(edit(to_csv([make_result()])))
    assert "\n" not in str(caught.value)


def test_takeaway_explains_each_figure_with_its_reason() -> None:
    text = "\n".join(takeaway(make_result()))
    assert "def_wait held at 200 req/s" in text and "40 threads were all busy" in text
    assert "async_wait reached 488 req/s" in text
    assert "async_blocking managed 5.0 req/s" in text and "stalls the whole event loop" in text
    assert "Not one ping was answered in the 3 s window; one waited 3.0 s" in text
    assert "def_cpu did 20 req/s" in text and "A ping beside it waited 22 ms (median), up to 400 ms" in text
    assert "async_wait served 2.4x def_wait" in text
    assert "more uvicorn worker processes" in text
    assert "def_cpu: 2 requests failed: HTTP 500 (2x)." in text
    assert "def_cpu: the clients kept 97% of a core busy" in text
    crashed = takeaway(make_result("crashed", "the web server stopped"))
    assert crashed[-1] == "The run crashed: the web server stopped."


def test_takeaway_says_when_def_cpu_left_requests_half_done() -> None:
    shared = EndpointRun(
        "def_cpu",
        3.0,
        24,
        0,
        100,
        waves(1, 24, 2.9, 2000.0),
        ceiling=22.0,
        single_core_rate=22.0,
        server_cpu_seconds=3.0,
        probe=Probe(Samples((0.0,), (978.0,))),
    )
    text = "\n".join(takeaway(WebResult(SETTINGS, make_machine(), (shared,))))
    assert "def_cpu kept 1.0 cores busy yet answered 8.3 req/s in the window" in text
    assert "up to 40 requests share the core in turns, so each took about 2.0 s" in text
    assert "half done" not in "\n".join(takeaway(make_result()))


def test_charts_draw_fresh_and_imported_runs() -> None:
    result = make_result()
    imported = from_csv(to_csv([result]))[0]
    for run in (result, imported):
        bars = throughput_figure(run)
        assert [trace.name for trace in bars.data] == ["ceiling", "measured"]
        assert list(bars.data[1].x) == ["def_wait", "async_wait", "async_blocking", "def_cpu"]
        assert len(latency_figure(run).data) == 4
        assert len(summary_frame(run)) == 4
    ping = ping_figure(result)
    assert ping is not None
    names = [trace.name for trace in ping.data]
    assert names == ["async_blocking", "async_blocking: unanswered", "def_cpu"]
    window = max(run.seconds for run in result.endpoints if run.probe is not None)
    assert ping.layout.xaxis.range[0] == 0 and ping.layout.xaxis.range[1] >= window  # the whole window
    assert ping.layout.showlegend is True
    assert len(latency_over_time_figure(result).data) == 4
    no_probe = WebResult(SETTINGS, make_machine(), result.endpoints[:2])
    assert ping_figure(no_probe) is None
    assert len(throughput_figure(WebResult(SETTINGS, make_machine(), ())).data) == 0
