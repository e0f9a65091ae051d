"""The typed CSV codec every lab's history file goes through: exact round trips, strict one-line refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lab.core import csvtable
from lab.core.csvtable import (
    Legacy,
    Row,
    RunHeader,
    as_text,
    check_run,
    format_value,
    group_by_run,
    parse_cells,
    read_runs,
    read_table,
    write_table,
)
from lab.core.errors import ResultsFormatError

COLUMNS = {
    "schema_version": "int",
    "run_id": "text",
    "lab": "text",
    "status": "text",
    "created": "text",
    "tasks": "int",
    "seconds": "float",
    "speedup": "float?",
    "ok": "bool",
    "note": "text?",
}
RUN_COLUMNS = ("schema_version", "run_id", "lab", "status", "created")


def row(run_id: str = "run1", **values: Any) -> dict[str, Any]:
    base = {
        "schema_version": 1,
        "run_id": run_id,
        "lab": "demo",
        "status": "complete",
        "created": "2026-01-02T03:04:05+00:00",
        "tasks": 4,
        "seconds": 0.1 + 0.2,
        "speedup": None,
        "ok": True,
        "note": 'says "hi", twice\nover two lines',
    }
    return base | values


def one_line_error(action: Callable[[], object]) -> str:
    """The message `action` is refused with, which must be one line."""
    with pytest.raises(ResultsFormatError) as refused:
        action()
    message = str(refused.value)
    assert "\n" not in message
    return message


def read(text: str) -> list[list[Row]]:
    return read_runs(text, COLUMNS, "demo")


def test_a_table_reads_back_to_the_same_values_and_writes_back_to_the_same_text() -> None:
    rows = [row(), row(tasks=8, seconds=1e-7, speedup=1.9999999999999998, ok=False, note=None)]
    text = write_table(COLUMNS, rows)
    (run,) = read(text)
    assert [parsed.values for parsed in run] == rows
    assert write_table(COLUMNS, [parsed.values for parsed in run]) == text


def test_each_type_is_written_one_way() -> None:
    assert format_value("float", 0.1 + 0.2) == "0.30000000000000004"
    assert format_value("float", 3) == "3.0"
    assert format_value("int", 7.0) == "7"
    assert (format_value("bool", True), format_value("bool?", 0)) == ("True", "False")
    assert format_value("float?", None) == format_value("text", None) == ""


def test_columns_are_written_in_the_order_the_types_give_whatever_order_a_row_has() -> None:
    text = write_table({"b": "int", "a": "text"}, [{"a": "x", "b": 1}])
    assert text == "b,a\n1,x\n"


def test_rows_are_grouped_by_run_in_the_order_each_run_first_appears() -> None:
    text = write_table(COLUMNS, [row("b", tasks=1), row("a", tasks=2), row("b", tasks=3)])
    runs = read(text)
    assert [[parsed.values["tasks"] for parsed in run] for run in runs] == [[1, 3], [2]]
    assert group_by_run([]) == []


def test_rows_remember_the_line_they_ended_on_even_when_a_cell_spans_lines() -> None:
    (run,) = read(write_table(COLUMNS, [row(), row()]))
    assert [parsed.line for parsed in run] == [3, 5]  # the note spans two lines


@pytest.mark.parametrize(
    ("column", "cell", "message"),
    [
        ("tasks", "four", "line 2, column tasks: must be a whole number, got 'four'"),
        ("tasks", "-1", "line 2, column tasks: must be a whole number, got '-1'"),
        ("tasks", "", "line 2, column tasks: is empty, got ''"),
        ("seconds", "fast", "line 2, column seconds: must be a number, got 'fast'"),
        ("seconds", "-0.5", "line 2, column seconds: must be a finite number >= 0, got '-0.5'"),
        ("seconds", "1e999", "line 2, column seconds: must be a finite number >= 0, got '1e999'"),
        ("seconds", "nan", "line 2, column seconds: must be a number, got 'nan'"),
        ("ok", "yes", "line 2, column ok: must be True or False, got 'yes'"),
    ],
)
def test_a_bad_cell_is_refused_naming_its_line_and_column(column: str, cell: str, message: str) -> None:
    raw = {name: str(value) for name, value in row(note=None, speedup=1.5).items()} | {column: cell}
    assert one_line_error(lambda: parse_cells(2, raw, COLUMNS)) == message


def test_a_long_bad_cell_is_quoted_cut_to_forty_characters() -> None:
    raw = {name: str(value) for name, value in row().items()} | {"tasks": "9" * 13 + "x" * 60}
    message = one_line_error(lambda: parse_cells(7, raw, COLUMNS))
    assert message == f"line 7, column tasks: must be a whole number, got {('9' * 13 + 'x' * 27)!r}"


def test_empty_optional_cells_read_as_none_and_bools_in_any_case() -> None:
    raw = {name: str(value) for name, value in row().items()} | {"speedup": "", "note": "", "ok": "FALSE"}
    values = parse_cells(2, raw, COLUMNS)
    assert (values["speedup"], values["note"], values["ok"]) == (None, None, False)


GOOD = write_table(COLUMNS, [row()])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the CSV file is empty"),
        ("  \n\n", "the CSV file is empty"),
        (GOOD.replace("demo", "de\x00mo"), "not a demo CSV: the file contains binary data"),
        ("name,value\nx,1\n", "not a demo CSV: the header has no schema_version or run_id column"),
        (GOOD.replace("tasks,", "run_id,", 1), "the CSV header repeats column 'run_id'"),
        (GOOD.replace(",ok,", ",okay,", 1), "not a demo CSV: missing column ok"),
        (
            "schema_version,run_id\n1,a\n",
            "not a demo CSV: missing columns lab, status, created, tasks, seconds ...",
        ),
        (GOOD + "1,run1\n", "line 4: 2 fields, the header has 10"),
        (GOOD.split("\n", 1)[0] + "\n", "the CSV has a header but no runs"),
        (GOOD + '1,"run2"x,demo\n', "not a readable CSV: "),
    ],
)
def test_a_file_that_is_not_a_good_table_is_refused_in_one_line(text: str, message: str) -> None:
    assert one_line_error(lambda: read(text)).startswith(message)


def test_blank_lines_between_rows_are_skipped() -> None:
    header, first = GOOD.split("\n", 1)
    (run,) = read(header + "\n\n" + first + "\n")
    assert run[0].values == row()


def test_more_rows_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csvtable, "MAX_CSV_ROWS", 2)
    assert len(read(write_table(COLUMNS, [row(), row()]))[0]) == 2
    message = one_line_error(lambda: read(write_table(COLUMNS, [row(), row(), row()])))
    assert message == "the CSV has more than 2 rows"


def test_read_table_hands_each_rows_cells_to_the_labs_parser_with_its_line() -> None:
    seen: list[int] = []

    def parse(line: int, raw: dict[str, str]) -> dict[str, Any]:
        seen.append(line)
        return {"tasks": int(raw["tasks"]) * 10}

    rows = read_table(write_table(COLUMNS, [row(tasks=1), row(tasks=2)]), ["tasks"], parse)
    assert [parsed.values for parsed in rows] == [{"tasks": 10}, {"tasks": 20}]
    assert seen == [parsed.line for parsed in rows]


def test_bytes_are_read_as_utf8_with_or_without_a_byte_order_mark() -> None:
    assert as_text("ünï".encode()) == "ünï"
    assert as_text("\ufeffünï".encode()) == "ünï"
    assert as_text("\ufeffplain") == "plain"


def test_what_is_not_utf8_text_is_refused_in_one_line() -> None:
    assert (
        one_line_error(lambda: as_text(b"\xff\xfe\x00a")) == "not a GIL Lab CSV: the file is not UTF-8 text"
    )
    not_text: Any = 42
    assert one_line_error(lambda: as_text(not_text)) == "not a GIL Lab CSV: expected text, got int"


def checked(rows: list[dict[str, Any]]) -> RunHeader:
    (run,) = read(write_table(COLUMNS, rows))
    return check_run(
        run, RUN_COLUMNS, lab="demo", schema_version=1, statuses=("complete", "crashed"), what="demo"
    )


def test_a_good_run_gives_its_header() -> None:
    assert checked([row(), row(tasks=2)]) == RunHeader("run1", "complete", "2026-01-02T03:04:05+00:00")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([row(), row(lab="other")], "line 5: the run has a different lab than above"),
        ([row(lab="other")], "line 3: lab 'other' is not a demo run"),
        ([row(schema_version=2)], "line 3: schema version 2, this GIL Lab reads 1"),
        ([row("bad id!")], "line 3: run_id 'bad id!' is not valid"),
        ([row(status="fine")], "line 3: unknown status 'fine'"),
        ([row(created="yesterday")], "line 3: created 'yesterday' is not a date"),
    ],
)
def test_a_run_whose_rows_disagree_or_lie_is_refused_naming_the_line(
    rows: list[dict[str, Any]], message: str
) -> None:
    assert one_line_error(lambda: checked(rows)) == message


def test_a_lab_that_reads_another_labs_runs_too_names_both() -> None:
    (run,) = read(write_table(COLUMNS, [row(lab="other")]))
    header = check_run(
        run, ("run_id",), lab=("demo", "other"), schema_version=1, statuses=("complete",), what="x"
    )
    assert header.run_id == "run1"


def test_a_column_older_files_lack_is_read_from_where_they_kept_it_or_given_one_value() -> None:
    old = write_table(
        {name: kind for name, kind in COLUMNS.items() if name != "lab"} | {"kind": "text"},
        [{**{name: value for name, value in row().items() if name != "lab"}, "kind": "demo"}],
    )
    (moved,) = read_table(old, COLUMNS, lambda line, raw: dict(raw), legacy={"lab": Legacy(column="kind")})
    assert moved.values["lab"] == "demo"
    (given,) = read_table(old, COLUMNS, lambda line, raw: dict(raw), legacy={"lab": Legacy(value="demo")})
    assert given.values["lab"] == "demo"
    missing = lambda: read_table(old, COLUMNS, lambda line, raw: dict(raw), what="demo")  # noqa: E731
    assert one_line_error(missing) == "not a demo CSV: missing column lab"
