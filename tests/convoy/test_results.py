"""The convoy lab's results: percentiles, a point's summary, and the JSON form."""

from __future__ import annotations

from dataclasses import replace

import pytest
from convoy.convoy_factories import point, synthetic

from lab.convoy.results import ConvoyResult, PointSummary, percentile
from lab.core.errors import ResultsFormatError


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentile((1.0, 2.0, 3.0, 4.0), 50) == 2.5
    assert percentile((1.0, 2.0, 3.0, 4.0), 99) == pytest.approx(3.97)
    assert percentile((), 50) is None


def test_a_point_summarises_its_round_trips_and_its_xray() -> None:
    summary = point(1, 5.0, 5.0).summary()
    assert summary.pings == 50 and summary.lost == 0
    assert summary.p50_ms == pytest.approx(5.0, rel=0.05) and summary.max_ms is not None
    assert summary.mean_ms is not None and summary.p99_ms is not None and summary.p99_ms <= summary.max_ms
    assert summary.probe_gil_share == 0.5 and summary.threads_on_cpu == 1.0 and summary.handoffs_per_s == 10.0
    silent = replace(point(1, 5.0, 5.0), at=(), latency_ms=(), lost=3, xray=None)
    assert silent.summary().p50_ms is None and silent.summary().probe_gil_share is None


def test_json_round_trip_is_exact_and_has_the_documented_fields() -> None:
    result = synthetic()
    data = result.to_dict()
    assert data["schema_version"] == 1 and data["kind"] == "convoy"
    assert set(data) >= {"points", "interpreter", "machine", "settings", "status"}
    for item in data["points"]:
        assert set(item) >= {
            "cpu_threads",
            "switch_interval_ms",
            "pings",
            "mean_ms",
            "p50_ms",
            "p99_ms",
            "max_ms",
        }
    assert ConvoyResult.from_json(result.to_json()) == result


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "no schema_version"),
        ('{"schema_version": 1, "kind": "web"}', "kind is not 'convoy'"),
        ('{"schema_version": 9, "kind": "convoy"}', "schema version 9"),
        ("nope", "not JSON"),
    ],
)
def test_json_that_is_not_a_convoy_result_is_refused(text: str, message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message):
        ConvoyResult.from_json(text)


def test_a_summary_from_the_cli_progress_event_rebuilds() -> None:
    summary = point(2, 20.0, 50.0).summary()
    assert PointSummary(**summary.to_dict()) == summary
