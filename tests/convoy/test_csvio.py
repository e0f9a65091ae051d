"""The convoy lab's CSV: a lossless round trip, and a broken or foreign file refused in one line."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from convoy.convoy_factories import synthetic

from lab.convoy import csvio as convoy_csv
from lab.convoy.report import takeaway
from lab.core.errors import ResultsFormatError
from lab.web import csvio as web_csv


def test_csv_round_trip_gives_back_the_same_text_and_figures() -> None:
    results = [synthetic(), synthetic(gil=False, run_id="convoy0002")]
    text = convoy_csv.to_csv(results)
    header = text.splitlines()[0].split(",")
    assert "cpu_threads" in header and "endpoint" not in header  # the page tells the labs' CSVs apart by it
    assert len(text.strip().splitlines()) == 1 + 12
    imported = convoy_csv.from_csv(text)
    assert [run.run_id for run in imported] == ["convoy0001", "convoy0002"]
    assert imported[0].summaries() == results[0].summaries()
    assert imported[0].interpreter == results[0].interpreter and imported[0].settings == results[0].settings
    assert convoy_csv.to_csv(imported) == text
    assert takeaway(imported[1]) == takeaway(results[1])


def test_a_run_that_measured_nothing_still_round_trips_through_csv() -> None:
    empty = synthetic(points=(), status="crashed", message="the probe failed")
    (imported,) = convoy_csv.from_csv(convoy_csv.to_csv([empty]))
    assert imported.summaries() == [] and imported.status == "crashed" and not imported.all_ok


def corrupt(text: str, old: str, new: str) -> str:
    """Every row of the run changed alike, so the check that fails is the one about the value."""
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.split("\n", 1)[0] + "\n", "header but no runs"),
        (lambda text: corrupt(text, ",convoy,", ",web,"), "is not a convoy run"),
        (lambda text: corrupt(text, "convoy0001,", "bad id!,"), "run_id"),
        (lambda text: corrupt(text, ",complete,", ",fine,"), "unknown status"),
        (lambda text: text.replace(",5.0,", ",7.0,", 1), "is not among the run's settings"),
        (lambda text: text.replace("cpu_threads,", "threads,", 1), "missing column cpu_threads"),
        (lambda text: text + text.splitlines()[1] + "\n", "appears twice"),
        (lambda text: corrupt(text, "0,1,2", "0,99"), "invalid settings"),
    ],
)
def test_a_broken_csv_is_refused_with_one_line(change: Callable[[str], str], message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message) as caught:
        convoy_csv.from_csv(change(convoy_csv.to_csv([synthetic()])))
    assert "\n" not in str(caught.value)


def test_another_labs_csv_is_not_a_convoy_csv() -> None:
    web = "schema_version,run_id,endpoint\n1,abc,def_wait\n"
    with pytest.raises(ResultsFormatError, match="not a GIL Lab convoy CSV: missing columns"):
        convoy_csv.from_csv(web)
    assert "cpu_threads" not in web_csv.COLUMN_NAMES
