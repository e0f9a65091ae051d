"""A typed CSV codec: one type per column, one way to write each value, strict reading.

Every lab's history file is a table of typed columns ("int", "float?", ...;
"?" marks a column that may be empty). Writing formats each value by its type
(floats as repr, so export -> import -> export gives back the same text);
reading checks the header, the row count and every cell, and fails on the
first problem with a one-line `ResultsFormatError` naming the line and column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lab.core.errors import ResultsFormatError
from lab.core.records import RUN_ID_PATTERN

MAX_CSV_ROWS = 10_000
INT_PATTERN = re.compile(r"[0-9]{1,12}")
FLOAT_PATTERN = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")


def write_table(column_types: Mapping[str, str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A CSV with one column per `column_types` entry, in its order, each value formatted by its type."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(column_types)
    for row in rows:
        writer.writerow([format_value(kind, row[name]) for name, kind in column_types.items()])
    return buffer.getvalue()


def format_value(kind: str, value: Any) -> str:
    """The one way each type is written: floats as repr (exact round trip), None as empty."""
    if value is None:
        return ""
    base = kind.rstrip("?")
    if base == "float":
        return repr(float(value))
    if base == "int":
        return str(int(value))
    if base == "bool":
        return "True" if value else "False"
    return str(value)


class BadValue(Exception):
    """One cell that does not parse; from_csv adds the line and column."""


def parse_value(kind: str, raw: str) -> Any:
    optional = kind.endswith("?")
    base = kind.rstrip("?")
    if raw == "":
        if optional:
            return None
        raise BadValue("is empty")
    if base == "text":
        return raw
    if base == "bool":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise BadValue("must be True or False")
    if base == "int":
        if not INT_PATTERN.fullmatch(raw):
            raise BadValue("must be a whole number")
        return int(raw)
    if not FLOAT_PATTERN.fullmatch(raw):
        raise BadValue("must be a number")
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise BadValue("must be a finite number >= 0")
    return value


@dataclass(frozen=True)
class Row:
    """One parsed CSV row and the line it ended on, for messages."""

    line: int
    raw: dict[str, str]
    values: dict[str, Any]


def as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ResultsFormatError("not a GIL Lab CSV: the file is not UTF-8 text") from None
    if not isinstance(data, str):
        raise ResultsFormatError(f"not a GIL Lab CSV: expected text, got {type(data).__name__}")
    return data.removeprefix("\ufeff")


# Columns added to every lab's CSV after its format's version: a file written before them reads with
# them empty (None), so older exports still import.
LATER_COLUMNS = frozenset({"cpu_model"})


def read_table(
    text: str,
    columns: Iterable[str],
    parse: Callable[[int, dict[str, str]], dict[str, Any]],
    what: str = "GIL Lab",
) -> list[Row]:
    """The CSV reader both labs share: header checks, row limits, then `parse` for each row's cells."""
    if not text.strip():
        raise ResultsFormatError("the CSV file is empty")
    if "\x00" in text:
        raise ResultsFormatError(f"not a {what} CSV: the file contains binary data")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        if "schema_version" not in header or "run_id" not in header:
            raise ResultsFormatError(f"not a {what} CSV: the header has no schema_version or run_id column")
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise ResultsFormatError(f"the CSV header repeats column {duplicates[0]!r}")
        later = [name for name in LATER_COLUMNS if name not in header]
        missing = [name for name in columns if name not in header and name not in later]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            noun = "columns" if len(missing) > 1 else "column"
            raise ResultsFormatError(f"not a {what} CSV: missing {noun} {shown}")
        rows: list[Row] = []
        for cells in reader:
            if not cells:
                continue
            if len(rows) >= MAX_CSV_ROWS:
                raise ResultsFormatError(f"the CSV has more than {MAX_CSV_ROWS:,} rows")
            if len(cells) != len(header):
                raise ResultsFormatError(
                    f"line {reader.line_num}: {len(cells)} fields, the header has {len(header)}"
                )
            raw = dict(zip(header, cells, strict=True)) | dict.fromkeys(later, "")
            rows.append(Row(reader.line_num, raw, parse(reader.line_num, raw)))
    except csv.Error as exc:
        raise ResultsFormatError(f"not a readable CSV: {exc}") from None
    return rows


def check(line: int, condition: bool, message: str) -> None:
    if not condition:
        raise ResultsFormatError(f"line {line}: {message}")


def parse_cells(line: int, raw: Mapping[str, str], column_types: Mapping[str, str]) -> dict[str, Any]:
    """Every cell of one row parsed by its column's type, or a one-line error naming the line and column."""
    values: dict[str, Any] = {}
    for name, kind in column_types.items():
        try:
            values[name] = parse_value(kind, raw[name])
        except BadValue as exc:
            raise ResultsFormatError(f"line {line}, column {name}: {exc}, got {raw[name][:40]!r}") from None
    return values


def read_runs(text: str, column_types: Mapping[str, str], what: str) -> list[list[Row]]:
    """A lab's CSV read and grouped by run (the rows of one run_id, in file order); no runs is refused."""
    rows = read_table(text, column_types, lambda line, raw: parse_cells(line, raw, column_types), what=what)
    if not rows:
        raise ResultsFormatError("the CSV has a header but no runs")
    return group_by_run(rows)


def group_by_run(rows: Iterable[Row]) -> list[list[Row]]:
    """Rows grouped by `run_id`, runs in the order their first row comes."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(str(row.values["run_id"]), []).append(row)
    return list(groups.values())


@dataclass(frozen=True)
class RunHeader:
    """What every run's rows share and must agree on: its id, status and date."""

    run_id: str
    status: str
    created: str


def check_run(
    rows: list[Row],
    run_columns: Iterable[str],
    *,
    kind: str | None,
    schema_version: int,
    statuses: Iterable[str],
    what: str,
) -> RunHeader:
    """The checks every lab's CSV makes of one run's rows: the same run columns on every row, its kind
    and schema version, a valid run id, a known status and a real date."""
    first = rows[0]
    columns = tuple(run_columns)
    for row in rows[1:]:
        for name in columns:
            check(
                row.line, row.values[name] == first.values[name], f"the run has a different {name} than above"
            )
    values, line = first.values, first.line
    if kind is not None:
        check(line, values["kind"] == kind, f"kind {str(values['kind'])[:40]!r} is not a {what} run")
    check(
        line,
        values["schema_version"] == schema_version,
        f"schema version {values['schema_version']}, this GIL Lab reads {schema_version}",
    )
    run_id, status, created = values["run_id"], values["status"], values["created"]
    check(line, RUN_ID_PATTERN.fullmatch(run_id) is not None, f"run_id {run_id[:40]!r} is not valid")
    check(line, status in tuple(statuses), f"unknown status {status[:40]!r}")
    try:
        datetime.fromisoformat(created)
    except ValueError:
        raise ResultsFormatError(f"line {line}: created {created[:40]!r} is not a date") from None
    return RunHeader(run_id, status, created)
