"""The steadiness columns in every lab's CSV: written one way, read back one way, optional on import.

A CSV row keeps the run's verdict and its figures, not every calibration: an
imported run's `calibration_ms` is empty. Files written before the meter
existed lack these columns and import with no steadiness (unknown, not steady).
"""

from __future__ import annotations

from typing import Any

from lab.core.csvtable import Legacy
from lab.core.steadiness import Steadiness

STEADINESS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("steady", "bool?"),
    ("speed_change", "float?"),
    ("others_busy_cores", "float?"),
    ("steal", "float?"),
    ("steadiness_reason", "text?"),
)
STEADINESS_NAMES: frozenset[str] = frozenset(name for name, _ in STEADINESS_COLUMNS)
# Files written before the meter lack these columns: read as empty (the run's steadiness is unknown).
STEADINESS_LEGACY = {name: Legacy(value="") for name in STEADINESS_NAMES}


def steadiness_values(steadiness: Steadiness | None) -> dict[str, Any]:
    """The steadiness columns of one run (all empty when it was not measured)."""
    if steadiness is None:
        return dict.fromkeys(STEADINESS_NAMES)
    return {
        "steady": steadiness.steady,
        "speed_change": steadiness.speed_change,
        "others_busy_cores": steadiness.others_busy_cores,
        "steal": steadiness.steal,
        "steadiness_reason": steadiness.reason,
    }


def build_steadiness(values: dict[str, Any]) -> Steadiness | None:
    """The run's steadiness from its parsed columns; None when the file has none for it."""
    if values.get("steady") is None:
        return None
    return Steadiness(
        calibration_ms=(),
        speed_change=values.get("speed_change") or 0.0,
        others_busy_cores=values.get("others_busy_cores"),
        steal=values.get("steal"),
        steady=bool(values["steady"]),
        reason=values.get("steadiness_reason"),
    )
