"""Each lab's records as the store keeps them, through the catalog (`lab.catalog`).

The store keeps a record's own `to_dict()` (a run read back from a CSV keeps
its CSV inside it: `lab.core.contract.imported_record`) and indexes its
`listing()`; reading back goes through `lab.catalog.read_record`, so the store
knows no lab's types. What is left here is what the store asks beyond the
contract: which lab a stored JSON is of, whether it came from a CSV, and
whether it ran someone's own code.
"""

from __future__ import annotations

from typing import Any

from lab.catalog import LABS, lab_named
from lab.core.contract import IMPORTED, LabResult
from lab.core.errors import ResultsFormatError

LAB_NAMES = tuple(sorted(LABS))


def is_imported(data: dict[str, Any]) -> bool:
    """True for a stored run that came from a CSV (its JSON keeps that CSV, not the whole measurement)."""
    return IMPORTED in data


def lab_of_dict(data: Any) -> str:
    """Which lab wrote a stored JSON: its `lab`, else its `kind`, else "run" (whose JSON once had neither)."""
    if not isinstance(data, dict):
        raise ResultsFormatError("not a GIL Lab record: not a JSON object")
    named = data.get("lab", data.get("kind", "run"))
    spec = lab_named(named)
    if spec is None:
        raise ResultsFormatError(f"not a GIL Lab record: no lab is called {str(named)[:40]!r}")
    return spec.name


def runs_code(record: LabResult) -> bool:
    """True for a run of someone's own code (a workload that needs code): never served in public mode."""
    return names_code(record.settings_dict)


def names_code(settings: Any) -> bool:
    """Whether settings, or the run settings inside them (a comparison's or sweep's base), name code."""
    if not isinstance(settings, dict):
        return False
    return bool(settings.get("function")) or any(names_code(value) for value in settings.values())
