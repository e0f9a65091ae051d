"""The Classics lab's CSV: one row per comparison, every row with its lab and run id.

Written with `lab.core.csvtable`, as every lab's CSV is, so the types of
its cells read back the same way everywhere. A classic that could not run
here has one row whose `what` says why.
"""

from __future__ import annotations

from collections.abc import Iterable

from lab.classics.results import ClassicsResult
from lab.core.csvtable import Row, read_runs, write_table

CSV_COLUMNS: dict[str, str] = {
    "schema_version": "int",
    "lab": "text",
    "run_id": "text",
    "created": "text",
    "status": "text",
    "classic": "text",
    "what": "text",
    "published": "float?",
    "measured": "float?",
    "agrees": "bool?",
}


def to_csv(results: Iterable[ClassicsResult]) -> str:
    return write_table(CSV_COLUMNS, (row for result in results for row in result.csv_rows()))


def read_rows(text: str) -> list[list[Row]]:
    """A Classics CSV's rows, typed and grouped by run (ResultsFormatError in one line if it is not one).

    A CSV keeps the comparisons, not the steps' figures, so it is read for
    tables and charts, not rebuilt into a `ClassicsResult`.
    """
    return read_runs(text, CSV_COLUMNS, "GIL Lab classics")
