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

from lab.errors import InvalidSettings, OverBudget
from lab.limits import check_settings, clamp_settings, estimate_work_seconds
from lab.public import Limits, public_mode
from lab.runqueue import RunQueue
from lab.settings import RunSettings
from lab.urlguard import check_public_url
from lab.web.settings import WebSettings

PRIVATE_QUEUE_TIMEOUT_S = 3600.0
WEB_STAGE_OVERHEAD_S = 1.5  # measured: a fresh uvicorn server per endpoint starts in about 1 s


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

    def admit_web(self, settings: WebSettings) -> WebSettings:
        """The web lab under the same budget: clients, server processes and seconds of load."""
        if not self.public:
            return settings
        limits = self.limits
        if settings.requests is not None:
            raise InvalidSettings("public mode runs each endpoint for a duration; set Requests to 0")
        if settings.clients > limits.max_concurrency:
            raise InvalidSettings(f"at most {limits.max_concurrency:,} clients here; lower Clients")
        if settings.server_workers > limits.max_processes:
            raise InvalidSettings(
                f"at most {limits.max_processes} server processes here; lower Server processes"
            )
        seconds = web_seconds(settings)
        if seconds > limits.max_work_seconds:
            raise OverBudget(
                f"this run would take about {seconds:.0f} s; the limit here is {limits.max_work_seconds:g} s "
                "— lower the duration or choose fewer endpoints"
            )
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


def web_seconds(settings: WebSettings) -> float:
    """A duration-mode web run: each endpoint's window plus its server's start-up and cut-off."""
    return len(settings.endpoints) * ((settings.duration_s or 0.0) + WEB_STAGE_OVERHEAD_S)
