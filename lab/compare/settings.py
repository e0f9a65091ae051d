"""What a comparison runs: one run's settings under several interpreters, each chosen by name."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lab.core.contract import HostRules
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

    def admit(self, host: HostRules) -> CompareSettings:
        """Every interpreter's rounds count: the whole comparison is one run of the host's budget."""
        base = replace(self.base, repeats=1).admit(host)
        admitted = replace(self, base=replace(base, repeats=self.base.repeats))
        if host.public and admitted.rounds > host.limits.max_repeats:
            raise InvalidSettings(f"at most {host.limits.max_repeats} rounds here; lower Rounds")
        host.check_budget(
            admitted.cost(host.usable_cores), "Task count, Workload size, modes, rounds or interpreters"
        )
        return admitted

    def cost(self, usable_cores: float) -> float:
        """Every interpreter runs every round."""
        return len(self.pythons) * self.rounds * self.for_choice(self.pythons[0]).cost(usable_cores)

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "pythons": [choice.label for choice in self.pythons]}
