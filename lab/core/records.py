"""What every run record carries, whatever the lab: an id, a timestamp, JSON.

Every lab's results and CSV files use these, so a run id and a date
are written and read back the same way everywhere.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from lab.core.errors import ResultsFormatError

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
MAX_COUNT = 10**9


def parse_json(text: str) -> Any:
    """JSON text, or a ResultsFormatError saying it is not JSON (every lab reads its results through it)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFormatError(f"not JSON: {exc}") from None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 (datetime.UTC is 3.11+)


def check_result_header(
    data: Any, *, kind: str, schema_version: int, statuses: tuple[str, ...], what: str
) -> None:
    """The checks a lab's result JSON passes before its fields are read: a dict of this lab's kind,
    in the schema version this GIL Lab writes, with a known status; else a one-line ResultsFormatError."""
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsFormatError("not a GIL Lab result: no schema_version")
    if data.get("kind") != kind:
        raise ResultsFormatError(f"not a GIL Lab {what} result: its kind is not {kind!r}")
    if data["schema_version"] != schema_version:
        raise ResultsFormatError(
            f"{what} result has schema version {str(data['schema_version'])[:20]}, "
            f"this GIL Lab reads {schema_version}"
        )
    if data.get("status") not in statuses:
        raise ResultsFormatError(f"unknown status {str(data.get('status'))[:40]!r}")
