"""The Classics lab's CSV: one row per comparison, every row with its lab and run id.

Written with `lab.core.csvtable`, as every lab's CSV is, so the types of
its cells read back the same way everywhere. A classic that could not run
here has one row whose `what` says why.
"""

from __future__ import annotations

from collections.abc import Iterable

from lab.classics.results import ClassicsResult
from lab.core.csvtable import write_table

CSV_COLUMNS: dict[str, str] = {
    "lab": "str",
    "run_id": "str",
    "created": "str",
    "status": "str",
    "classic": "str",
    "what": "str",
    "published": "float?",
    "measured": "float?",
    "agrees": "bool?",
}


def to_csv(results: Iterable[ClassicsResult]) -> str:
    return write_table(CSV_COLUMNS, (row for result in results for row in result.csv_rows()))
