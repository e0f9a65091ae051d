"""Run records: ids, dates, JSON and the header every lab's result JSON is checked for."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lab.core.errors import ResultsFormatError
from lab.core.records import RUN_ID_PATTERN, check_result_header, new_run_id, now_iso, parse_json

GOOD = {"kind": "web", "schema_version": 3, "status": "complete"}


def check(data: Any) -> None:
    check_result_header(data, kind="web", schema_version=3, statuses=("complete",), what="web-lab")


def test_a_result_of_this_kind_version_and_status_passes() -> None:
    check(dict(GOOD))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "no schema_version"),
        ({"kind": "web"}, "no schema_version"),
        ({**GOOD, "kind": "cluster"}, "not a GIL Lab web-lab result: its kind is not 'web'"),
        ({**GOOD, "schema_version": 99}, "web-lab result has schema version 99, this GIL Lab reads 3"),
        ({**GOOD, "status": "x" * 100}, "unknown status 'xxxxxxxxxx"),
    ],
)
def test_anything_else_is_refused_in_one_line(data: Any, message: str) -> None:
    with pytest.raises(ResultsFormatError, match=re.escape(message)) as caught:
        check(data)
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 120


def test_run_ids_are_new_each_time_and_match_the_pattern_imports_check() -> None:
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(RUN_ID_PATTERN.fullmatch(run_id) for run_id in ids)


def test_dates_carry_their_time_zone() -> None:
    assert now_iso().endswith("+00:00")


def test_json_that_does_not_parse_is_a_results_format_error() -> None:
    with pytest.raises(ResultsFormatError):
        parse_json("{not json")
