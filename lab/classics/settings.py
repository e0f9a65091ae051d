"""What a Classics run covers: which classics, on which interpreters, at what scale of work.

Raw input (CLI words, the page's widgets, a share link, a stored record)
becomes settings only through `ClassicsSettings.create`, with one-line
messages. `scale` multiplies every classic's work (the catalogue's sizes and
seconds at scale 1 take a few seconds each); public mode's `admit` lowers it
until the whole run fits the host's budget, instead of refusing the page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lab.classics.catalogue import CLASSIC_NAMES
from lab.classics.plan import estimate_seconds
from lab.core.contract import HostRules
from lab.core.errors import InvalidSettings
from lab.core.validate import blank_to_none, bounded, parse_names

MIN_SCALE, MAX_SCALE = 0.05, 4.0
MAX_PYTHONS = 8
BUDGET_ADVICE = "the classics or the interpreters"


def parse_pythons(value: Any) -> tuple[str, ...]:
    """'3.12,3.13t' or a list -> distinct interpreter names, in order (resolved later, by the host)."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    names = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    unique = tuple(dict.fromkeys(names))
    if len(unique) > MAX_PYTHONS:
        raise InvalidSettings(f"at most {MAX_PYTHONS} interpreters, got {len(unique)}")
    for name in unique:
        if len(name) > 300:
            raise InvalidSettings("an interpreter name is longer than 300 characters")
    return unique


@dataclass(frozen=True)
class ClassicsSettings:
    """Which classics to run, in the catalogue's order; the interpreters (none: the lab's own); the scale."""

    classics: tuple[str, ...] = CLASSIC_NAMES
    pythons: tuple[str, ...] = ()
    scale: float = 1.0

    @classmethod
    def create(cls, *, classics: Any = None, pythons: Any = None, scale: Any = None) -> ClassicsSettings:
        """Validate raw values; None or blank means the default (every classic, the lab's own Python, 1)."""
        classics, scale = blank_to_none(classics), blank_to_none(scale)
        chosen = CLASSIC_NAMES if classics is None else parse_names(classics, CLASSIC_NAMES, "classic")
        ordered = tuple(name for name in CLASSIC_NAMES if name in chosen)
        return cls(
            classics=ordered,
            pythons=parse_pythons(blank_to_none(pythons)),
            scale=1.0 if scale is None else bounded("scale", scale, MIN_SCALE, MAX_SCALE),
        )

    def with_scale(self, scale: float) -> ClassicsSettings:
        return replace(self, scale=round(min(MAX_SCALE, max(MIN_SCALE, scale)), 3))

    def cost(self, usable_cores: float) -> float:
        """Estimated seconds of the whole run: every step of its plan, priced by its own lab."""
        return estimate_seconds(self, usable_cores)

    def admit(self, host: HostRules) -> ClassicsSettings:
        """Public mode: the scale goes down until the run fits the budget (the page is never refused)."""
        if not host.public:
            return self
        budget = host.limits.max_work_seconds
        fixed = self.with_scale(0.0).cost(host.usable_cores)  # clamps to MIN_SCALE: nearly the overheads
        full = self.cost(host.usable_cores)
        admitted = self
        if full > budget:
            per_scale = max(1e-9, (full - fixed) / max(self.scale - MIN_SCALE, 1e-9))
            admitted = self.with_scale(MIN_SCALE + max(0.0, budget - fixed) / per_scale * 0.95)
        host.check_budget(admitted.cost(host.usable_cores), BUDGET_ADVICE)
        return admitted

    def describe(self) -> str:
        pythons = ", ".join(self.pythons) or "the lab's own Python"
        return f"{', '.join(self.classics)} on {pythons}, scale {self.scale:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"classics": list(self.classics), "pythons": list(self.pythons), "scale": self.scale}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassicsSettings:
        if not isinstance(data, dict):
            raise InvalidSettings("classics settings must be an object")
        return cls.create(classics=data.get("classics"), pythons=data.get("pythons"), scale=data.get("scale"))
