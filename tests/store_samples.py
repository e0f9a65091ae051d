"""A real record of each lab, as this GIL Lab wrote it, for the store's tests and its benchmark.

tests/store/samples/LAB.json came from `python -m lab LAB ... --format json`
on a small run (see each file's settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lab.catalog import read_record

SAMPLES = Path(__file__).parent / "store" / "samples"
LABS = ("run", "compare", "sweep", "web", "convoy", "cluster")


def sample(lab: str) -> Any:
    return read_record(json.loads((SAMPLES / f"{lab}.json").read_text()))
