"""The scaling sweep's CSV: one row per point, a lossless round trip, damage refused in one line."""

from __future__ import annotations

import csv
import io

import pytest
from sweep.sweep_factories import fake_sweep, measured, sweep_settings

from lab.core.errors import ResultsFormatError
from lab.sweep import csvio as sweep_csv


def test_the_csv_has_one_row_per_point_and_reads_back_to_the_same_sweeps_and_text() -> None:
    first, second = measured(), measured(scale="weak", pythons=None)
    text = sweep_csv.to_csv([first, second])
    lines = text.strip().splitlines()
    assert len(lines) == 1 + len(first.points) + len(second.points)
    header = lines[0].split(",")
    assert "scale" in header and "endpoint" not in header and "serial_fraction" in header
    assert len(header) == len(set(header)) == len(sweep_csv.COLUMNS)
    again = sweep_csv.from_csv(text)
    assert again == [first, second]
    assert sweep_csv.to_csv(again) == text
    assert sweep_csv.from_csv(text.encode("utf-8")) == again


def test_a_sweep_with_no_points_still_writes_one_row_and_reads_back() -> None:
    sweep, _ = fake_sweep(sweep_settings())
    sweep.start()
    sweep.cancel()
    empty = sweep.result()
    assert empty.points == ()
    text = sweep_csv.to_csv([empty])
    assert len(text.strip().splitlines()) == 2
    assert sweep_csv.from_csv(text) == [empty]


def edit_cell(text: str, line: int | None, column: str, value: str) -> str:
    """The CSV with one cell changed (`line` counts the header as 1), or the column in every row (None)."""
    rows = list(csv.reader(io.StringIO(text)))
    for number, row in enumerate(rows[1:], start=2):
        if line in (None, number):
            row[rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (2, "seconds", "fast", "line 2, column seconds: must be a number"),
        (3, "seconds_min", "9.0", "line 3: seconds lie outside min..max"),
        (3, "scale", "weak", "line 3: the run has a different scale than above"),
        (2, "schema_version", "7", "line 2: the sweep CSV has schema version '7'"),
        (None, "status", "exploded", "line 2: unknown status 'exploded'"),
        (2, "workers", "", "line 2: column workers is empty"),
        (2, "mode", "batch", "invalid sweep settings|did not run"),
        (None, "worker_counts", "1;2", "line 2: invalid sweep settings: --workers takes whole numbers"),
        (3, "worker_counts", "1,2", "line 3: the run has a different worker_counts than above"),
        (None, "worker_counts", "2,4", "line 2: invalid sweep settings: its worker counts have no 1"),
    ],
)
def test_a_damaged_csv_imports_nothing_and_says_where_in_one_line(
    line: int | None, column: str, value: str, message: str
) -> None:
    text = sweep_csv.to_csv([measured()])
    with pytest.raises(ResultsFormatError, match=message) as caught:
        sweep_csv.from_csv(edit_cell(text, line, column, value))
    assert "\n" not in str(caught.value)


def test_a_csv_of_another_lab_is_not_taken_for_a_sweep() -> None:
    with pytest.raises(ResultsFormatError, match="not a GIL Lab sweep CSV: missing columns"):
        sweep_csv.from_csv("schema_version,run_id,mode\n2,abc,batch\n")
