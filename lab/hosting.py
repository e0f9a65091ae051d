"""How this host treats a run: public or private, its limits, its line, its URL rules.

The CLI and the page both ask `Hosting` before they start an experiment, so
a shared link and a terminal are held to the same rules in one place.
On a person's own machine nothing is refused beyond plain validation, but
runs still take turns: two experiments at once would spoil each other's timings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from lab.limits import check_settings, clamp_settings, estimate_work_seconds
from lab.public import Limits, public_mode
from lab.runqueue import RunQueue
from lab.settings import RunSettings
from lab.urlguard import check_public_url

PRIVATE_QUEUE_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class Hosting:
    """Public mode and its limits, read once from the environment."""

    public: bool
    limits: Limits
    usable_cores: float

    @classmethod
    def from_env(cls, usable_cores: float, env: Mapping[str, str] = os.environ) -> Hosting:
        return cls(public_mode(env), Limits.from_env(env, usable_cores), usable_cores)

    def admit(self, settings: RunSettings) -> RunSettings:
        """The settings this host will run, or InvalidSettings/OverBudget/RefusedURL saying why not."""
        if not self.public:
            return settings
        settings = clamp_settings(settings, self.limits)
        check_settings(settings, self.limits, self.usable_cores)
        if settings.url is not None:
            check_public_url(settings.url)
        return settings

    def estimate_seconds(self, settings: RunSettings) -> float:
        return estimate_work_seconds(settings, self.usable_cores)

    @property
    def deadline_s(self) -> float | None:
        """Public runs are cut short at the wall-clock cap; private ones run to the end."""
        return self.limits.max_run_seconds if self.public else None

    def queue(self) -> RunQueue:
        timeout = self.limits.queue_timeout if self.public else PRIVATE_QUEUE_TIMEOUT_S
        return RunQueue(timeout_s=timeout)

    def describe(self) -> str:
        if self.public:
            return self.limits.summary()
        return "Private mode: no limits beyond the controls' ranges; runs on this machine take turns."
