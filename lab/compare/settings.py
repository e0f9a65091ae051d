"""What a comparison runs: one run's settings under several interpreters, each chosen by name."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lab.core.errors import InvalidSettings
from lab.core.interpreters import MAX_PYTHONS, PythonChoice
from lab.engine.settings import RunSettings


def parse_pythons(value: str | list[str] | tuple[str, ...]) -> tuple[PythonChoice, ...]:
    """'3.11,3.13t:gil=off' -> choices, in order, each once; at least two, at most MAX_PYTHONS."""
    items = value.split(",") if isinstance(value, str) else list(value)
    choices = tuple(dict.fromkeys(PythonChoice.parse(item) for item in items if item.strip()))
    if len(choices) < 2:
        raise InvalidSettings("--pythons needs at least two interpreters to compare, e.g. 3.13,3.13t:gil=off")
    if len(choices) > MAX_PYTHONS:
        raise InvalidSettings(f"--pythons takes at most {MAX_PYTHONS} interpreters, got {len(choices)}")
    return choices


@dataclass(frozen=True)
class CompareSettings:
    """One run's settings (its repeats are the rounds) and the interpreters to run it under."""

    base: RunSettings
    pythons: tuple[PythonChoice, ...]

    @property
    def rounds(self) -> int:
        return self.base.repeats

    def for_choice(self, choice: PythonChoice) -> RunSettings:
        """The settings of one round under one interpreter."""
        return replace(self.base, python=choice.name, gil=choice.gil, repeats=1)

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "pythons": [choice.label for choice in self.pythons]}
