"""The CPU- and I/O-bound labs' CSV: exact round trip, pandas-friendly, all-or-nothing import."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pandas as pd
import pytest
from factories import (
    ModeProfile,
    failed_http_result,
    make_result,
    repeated_result,
    sha256_result,
    sleep_result,
    squares_result,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.app.history import import_any_csv
from lab.core.errors import ResultsFormatError
from lab.core.steadiness import judge
from lab.core.steadiness_columns import STEADINESS_NAMES
from lab.engine.results import RunResult
from lab.run.csvio import COLUMN_NAMES, ImportedRun, Run, from_csv, to_csv

REQUIRED_COLUMNS = [
    *("lab", "schema_version", "run_id", "created", "status", "workload", "workload_kind", "tasks", "size"),
    *("workers_setting", "threads_setting", "modes_setting", "url", "latency_ms", "bytes", "repeats"),
    *("start_method", "mode", "seconds", "seconds_min", "seconds_max", "speedup", "cpu_seconds"),
    *("cores_busy", "startup_seconds", "workers", "ok", "failed", "error", "python_version"),
    *("implementation", "gil_enabled", "logical_cores", "physical_cores", "usable_cores", "os"),
    "machine_start_method",
]


def sample_history() -> list[Run]:
    return [
        squares_result(),
        repeated_result(),
        sleep_result(run_id="sleep01", status="cut_short", message='stopped: "budget", 30 s\nover'),
        failed_http_result(),
        sha256_result(run_id="sha01", workers=3, threads=7, start_method="spawn"),
    ]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def rewrite(text: str, change: dict[str, str], row: int = 0) -> str:
    """The CSV with some cells of one data row replaced, written back the same way."""
    rows = csv_rows(text)
    rows[row].update(change)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def without_tasks(result: Run) -> list:
    return [replace(summary, tasks=()) for summary in result.summaries()]


# --- export ----------------------------------------------------------------------------------


def test_csv_has_the_documented_columns_and_one_row_per_run_and_mode() -> None:
    history = sample_history()
    text = to_csv(history)
    header = next(csv.reader(io.StringIO(text)))
    assert tuple(header) == COLUMN_NAMES
    assert set(REQUIRED_COLUMNS) <= set(header)
    rows = csv_rows(text)
    assert len(rows) == sum(len(run.modes) for run in history)
    assert [(row["run_id"], row["mode"]) for row in rows[:3]] == [
        ("run0001", "batch"),
        ("run0001", "threads"),
        ("run0001", "processes"),
    ]


def test_csv_values_are_the_summaries_figures() -> None:
    result = repeated_result()
    rows = {row["mode"]: row for row in csv_rows(to_csv([result]))}
    for summary in result.summaries():
        row = rows[summary.mode]
        assert float(row["seconds"]) == summary.seconds
        assert float(row["seconds_min"]) == summary.seconds_min
        assert float(row["seconds_max"]) == summary.seconds_max
        assert float(row["speedup"]) == summary.speedup
        assert float(row["cores_busy"]) == summary.cores_busy
        assert int(row["ok"]) == summary.ok
        assert int(row["repeats"]) == 3


def test_pandas_reads_the_csv_with_numeric_dtypes() -> None:
    frame = pd.read_csv(io.StringIO(to_csv(sample_history())))
    for column in (
        "seconds",
        "seconds_min",
        "seconds_max",
        "speedup",
        "cpu_seconds",
        "cores_busy",
        "usable_cores",
    ):
        assert frame[column].dtype == "float64", column
    for column in ("schema_version", "tasks", "size", "repeats", "workers", "ok", "failed", "logical_cores"):
        assert frame[column].dtype == "int64", column
    assert frame["gil_enabled"].dtype == bool
    assert frame.loc[frame["mode"] == "threads", "failed"].tolist() == [0, 0, 0, 3, 0]


# --- round trip ------------------------------------------------------------------------------


def test_export_import_export_gives_exactly_the_same_text() -> None:
    text = to_csv(sample_history())
    assert to_csv(from_csv(text)) == text


def test_imported_runs_keep_every_summary_figure_but_no_spans() -> None:
    history = sample_history()
    imported = from_csv(to_csv(history))
    assert [run.run_id for run in imported] == [run.run_id for run in history]
    for original, back in zip(history, imported, strict=True):
        assert isinstance(back, ImportedRun)
        assert isinstance(back, ImportedRun) and not isinstance(original, ImportedRun)
        assert back.settings == original.settings
        assert back.machine == original.machine
        assert (back.status, back.message, back.created) == (
            original.status,
            original.message,
            original.created,
        )
        assert back.summaries() == without_tasks(original)
        assert back.baseline_mode == original.baseline_mode
        assert back.all_ok == original.all_ok
        assert all(summary.tasks == () for summary in back.summaries())


def test_a_run_that_measured_no_mode_survives_the_round_trip() -> None:
    empty = RunResult(
        settings=squares_result().settings,
        machine=squares_result().machine,
        runs=(),
        status="crashed",
        message="worker died",
        run_id="crash01",
    )
    text = to_csv([empty, squares_result()])
    back = from_csv(text)
    assert back[0].run_id == "crash01" and back[0].summaries() == [] and back[0].status == "crashed"
    assert to_csv(back) == text


def test_csv_accepts_bytes_with_a_byte_order_mark_and_windows_line_ends() -> None:
    text = to_csv([squares_result(), sleep_result(run_id="sleep01", message="stopped, by hand")])
    data = ("\ufeff" + text.replace("\n", "\r\n")).encode()
    assert to_csv(from_csv(data)) == text


def test_integer_valued_floats_are_written_canonically() -> None:
    result = make_result("squares", {"batch": ModeProfile((2,), 1)}, usable_cores=2)
    text = to_csv([result])
    assert ",2.0,2.0,2.0," in text
    assert to_csv(from_csv(text)) == text


# --- import ----------------------------------------------------------------------------------


GOOD = to_csv(sample_history())
FIELDS = len(COLUMN_NAMES)

MALFORMED: dict[str, str | bytes] = {
    "empty": "",
    "blank": "  \n\n ",
    "binary junk": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
    "nul in text": GOOD.replace("squares", "squ\x00ares", 1),
    "not utf-8": b"schema_version,run_id\n\xff\xfe\xfa,1\n",
    "other tool": "date,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n",
    "json": '{"schema_version": 1, "run_id": "x"}',
    "missing column": ",".join(name for name in COLUMN_NAMES if name != "seconds") + "\n",
    "duplicate column": GOOD.replace("message\n", "message,seconds\n", 1),
    "short row": GOOD.splitlines()[0] + "\n" + ",".join(["1"] * (FIELDS - 3)) + "\n",
    "long row": GOOD.replace("\n", ",extra\n", 2).replace(",extra\n", "\n", 1),
    "bad quoting": GOOD.splitlines()[0] + '\n1,"run"x,' + ",".join([""] * (FIELDS - 2)) + "\n",
    "wrong schema": rewrite(GOOD, {"schema_version": "3"}, row=4),
    "non-numeric seconds": rewrite(GOOD, {"seconds": "fast"}, row=1),
    "negative seconds": rewrite(GOOD, {"seconds": "-1.0", "seconds_min": "-1.0"}, row=1),
    "nan seconds": rewrite(GOOD, {"seconds": "nan"}, row=1),
    "inf speedup": rewrite(GOOD, {"speedup": "inf"}, row=1),
    "zero speedup": rewrite(GOOD, {"speedup": "0.0"}, row=1),
    "seconds outside min and max": rewrite(GOOD, {"seconds_max": "0.5"}, row=1),
    "unknown mode": rewrite(GOOD, {"mode": "turbo"}, row=1),
    "duplicate mode": rewrite(GOOD, {"mode": "batch"}, row=1),
    "empty mode in a run with modes": rewrite(GOOD, {"mode": ""}, row=1),
    "unknown workload": rewrite(GOOD, {"workload": "mining"}, row=0),
    "wrong kind": rewrite(GOOD, {"workload_kind": "io"}, row=0),
    "another lab's rows": rewrite(GOOD, {"lab": "web"}, row=0),
    "unknown status": rewrite(GOOD, {"status": "great"}, row=0),
    "bad created": rewrite(GOOD, {"created": "yesterday"}, row=0),
    "bad run id": rewrite(GOOD, {"run_id": "a b"}, row=0),
    "bad bool": rewrite(GOOD, {"gil_enabled": "maybe"}, row=0),
    "float for an int": rewrite(GOOD, {"tasks": "8.5"}, row=0),
    "settings out of range": rewrite(GOOD, {"tasks": "0"}, row=0),
    "unknown mode setting": rewrite(GOOD, {"modes_setting": "batch,warp"}, row=0),
    "bad url": rewrite(GOOD, {"url": "ftp://example.test/x"}, row=0),
    "run fields disagree": rewrite(GOOD, {"tasks": "9"}, row=1),
    "machine fields disagree": rewrite(GOOD, {"python_version": "3.12.0"}, row=2),
    "more tasks than ran": rewrite(GOOD, {"ok": "9"}, row=0),
    "zero repeats": rewrite(GOOD, {"repeats_run": "0"}, row=0),
    "zero usable cores": rewrite(GOOD, {"usable_cores": "0.0"}, row=0),
    "required cell empty": rewrite(GOOD, {"cpu_seconds": ""}, row=0),
    "bad last run spoils all": rewrite(GOOD, {"seconds": "x"}, row=len(csv_rows(GOOD)) - 1),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_csv_raises_one_line_error_and_leaves_history_alone(name: str) -> None:
    history: list[Run] = [squares_result()]
    before = list(history)
    with pytest.raises(ResultsFormatError) as caught:
        import_any_csv(history, MALFORMED[name])
    message = str(caught.value)
    assert message and "\n" not in message
    assert history == before


def test_error_messages_say_what_and_where() -> None:
    with pytest.raises(ResultsFormatError, match="schema version '3'"):
        from_csv(MALFORMED["wrong schema"])
    with pytest.raises(ResultsFormatError, match=r"line 3, column seconds: must be a number"):
        from_csv(MALFORMED["non-numeric seconds"])
    with pytest.raises(ResultsFormatError, match="missing column seconds"):
        from_csv(MALFORMED["missing column"])
    with pytest.raises(ResultsFormatError, match="empty"):
        from_csv("")


def test_the_export_of_an_empty_history_imports_as_no_runs() -> None:
    history: list[Run] = [squares_result()]
    assert from_csv(to_csv([])) == []
    assert import_any_csv(history, to_csv([])) == (history, 0)


def test_extra_columns_from_a_spreadsheet_are_ignored() -> None:
    rows = csv_rows(GOOD)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*rows[0], "note"], lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "note": "checked"} for row in rows)
    assert to_csv(from_csv(buffer.getvalue())) == GOOD


# --- properties ------------------------------------------------------------------------------


def assert_import_is_all_or_nothing(text: str | bytes) -> None:
    history: list[Run] = [squares_result()]
    before = list(history)
    try:
        updated, added = import_any_csv(history, text)
    except ResultsFormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert history == before
        return
    assert history == before
    assert updated[: len(before)] == before and len(updated) == len(before) + added
    canonical = to_csv(updated[len(before) :])
    assert to_csv(from_csv(canonical)) == canonical


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_text_only_ever_raises_results_format_error(text: str) -> None:
    assert_import_is_all_or_nothing(text)


@settings(max_examples=100)
@given(st.binary())
def test_arbitrary_bytes_only_ever_raise_results_format_error(data: bytes) -> None:
    assert_import_is_all_or_nothing(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    row=st.integers(min_value=0, max_value=len(csv_rows(GOOD)) - 1),
    column=st.sampled_from(COLUMN_NAMES),
    value=st.one_of(
        st.text(max_size=12),
        st.sampled_from(["", "0", "-1", "1e309", "NaN", "True", "3.5", "batch", "io", "99999999999999"]),
    ),
)
def test_a_corrupted_cell_is_rejected_or_round_trips(row: int, column: str, value: str) -> None:
    assert_import_is_all_or_nothing(rewrite(GOOD, {column: value}, row=row))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=0, max_value=len(GOOD)))
def test_a_truncated_file_is_rejected_or_round_trips(cut: int) -> None:
    assert_import_is_all_or_nothing(GOOD[:cut])


def test_the_runs_steadiness_is_in_its_csv_columns_and_comes_back() -> None:
    unsteady = judge((2.0, 2.62, 2.1), others_busy_cores=0.2, steal=0.0)
    text = to_csv([replace(squares_result(), steadiness=unsteady), sha256_result(run_id="sha01")])
    rows = csv_rows(text)
    assert rows[0]["steady"] == "False" and rows[0]["steadiness_reason"].startswith("the machine's speed")
    assert rows[-1]["steady"] == ""  # not measured: empty, not invented
    first, second = from_csv(text)
    assert first.steadiness == replace(unsteady, calibration_ms=())
    assert second.steadiness is None
    assert to_csv([first, second]) == text


def test_a_csv_from_before_the_steadiness_meter_still_imports() -> None:
    rows = csv_rows(to_csv([squares_result()]))
    buffer = io.StringIO()
    names = [name for name in rows[0] if name not in STEADINESS_NAMES]
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    (run,) = from_csv(buffer.getvalue())
    assert run.steadiness is None and run.summaries()
