"""What one run may cost in public mode, read from the environment so a host tunes it without code.

A malformed value falls back to its default (with a logged warning), because a
typo in the deployment settings must not keep the app from starting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lab.core import config

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one run may cost in public mode; the environment variable of each is in `ENV_NAMES`."""

    max_work_seconds: float = 30.0
    max_run_seconds: float = 60.0
    max_processes: int = 2
    max_concurrency: int = 300
    max_repeats: int = 5
    max_body_bytes: int = 16 * MIB
    max_download_bytes: int = 1024 * MIB
    queue_timeout: float = 120.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, usable_cores: float = 1.0) -> Limits:
        """Defaults, with `max_processes` at twice the usable cores, overridden by valid env values."""
        defaults = cls(max_processes=max(2, math.ceil(2 * usable_cores - 1e-9)))
        values: dict[str, Any] = {}
        for field, name in ENV_NAMES.items():
            default = getattr(defaults, field)
            values[field] = config.number(env, name, default)
        return cls(**values)

    def summary(self) -> str:
        """One line for the page, so visitors know the rules before they hit them."""
        return (
            f"Public mode: at most {self.max_work_seconds:g} s of work per run (cut off at "
            f"{self.max_run_seconds:g} s), {self.max_processes} processes, {self.max_concurrency:,} "
            f"threads or tasks at once, {self.max_repeats} repeats, one run at a time."
        )


ENV_NAMES: dict[str, str] = {
    "max_work_seconds": config.MAX_WORK_SECONDS,
    "max_run_seconds": config.MAX_RUN_SECONDS,
    "max_processes": config.MAX_PROCESSES,
    "max_concurrency": config.MAX_CONCURRENCY,
    "max_repeats": config.MAX_REPEATS,
    "max_body_bytes": config.MAX_BODY_BYTES,
    "max_download_bytes": config.MAX_DOWNLOAD_BYTES,
    "queue_timeout": config.QUEUE_TIMEOUT,
}
