"""Turning raw input (CLI strings, form values, share links, CSV cells) into checked values.

Every lab validates its settings through these, so "must be a whole number
between 1 and 64, got '0'" reads the same wherever it comes from. Each check
raises `InvalidSettings` with one line naming the option as the CLI spells it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lab.core.errors import InvalidSettings


def whole(name: str, value: Any, default: int, low: int, high: int) -> int:
    """A whole number in [low, high]; accepts ints and digit strings, nothing else."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace("_", "").replace(",", "")
        if not text.lstrip("-").isdigit():
            raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
        value = int(text)
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
        value = int(value)
    if not isinstance(value, int):
        raise InvalidSettings(f"--{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidSettings(f"--{name} must be between {low:,} and {high:,}, got {value:,}")
    return value


def positive_seconds(name: str, value: Any, default: float) -> float:
    if value is None:
        return default
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidSettings(f"--{name} must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise InvalidSettings(f"--{name} must be between 0 and 3600 seconds, got {value!r}")
    return seconds


def parse_names(value: Any, known: Iterable[str], what: str) -> tuple[str, ...]:
    """A comma-separated string or a list of names -> the known ones, in order, once each.

    An unknown name or an empty list is an error naming what was expected.
    """
    choices = tuple(known)
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        if name not in choices:
            raise InvalidSettings(f"unknown {what} {name!r}; choose from {', '.join(choices)}")
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidSettings(f"choose at least one {what}")
    return tuple(names)


def blank_to_none(value: Any) -> Any:
    """An empty form field or CLI value means "the default", like None."""
    return None if isinstance(value, str) and not value.strip() else value


def bounded(name: str, value: Any, low: float, high: float) -> float:
    """A number in [low, high] (ints, floats or numeric strings)."""
    try:
        number = float(str(value).strip().replace("_", ""))
    except ValueError:
        raise InvalidSettings(f"--{name} must be a number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidSettings(f"--{name} must be between {low:g} and {high:g}, got {value!r}")
    return number


def switch(name: str, value: Any) -> bool:
    """A yes/no setting: bools, and the words a form, a link or a CSV cell may hold."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidSettings(f"{name} must be on or off, got {str(value)[:20]!r}")
