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
    """JSON text, or a ResultsFormatError saying it is not JSON (both result kinds read through it)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsFormatError(f"not JSON: {exc}") from None


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017 (datetime.UTC is 3.11+)
