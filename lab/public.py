"""Public mode: whether this lab is hosted for strangers, and how much each of them may ask for.

A hosted lab runs other people's experiments on a shared, small machine, so
public mode caps what a run may cost and which URLs it may fetch. The limits
come from environment variables, so a host tunes them without code; a
malformed value falls back to its default, because a typo in the deployment
settings must not keep the app from starting.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PUBLIC_ENV = "GIL_LAB_PUBLIC"
STREAMLIT_CLOUD_MOUNT = Path("/mount/src")
ON = frozenset({"1", "true", "yes"})
OFF = frozenset({"0", "false", "no"})
MIB = 1024 * 1024

log = logging.getLogger(__name__)


def public_mode(env: Mapping[str, str] = os.environ, mount: Path = STREAMLIT_CLOUD_MOUNT) -> bool:
    """On when GIL_LAB_PUBLIC says so; when unset, on where Streamlit Community Cloud runs us.

    Community Cloud has no official flag, but its containers serve the repository
    from /mount/src, so that directory is the sign. A value that is neither on
    nor off is ignored, like an unset one.
    """
    value = env.get(PUBLIC_ENV, "").strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    return mount.is_dir()


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
        values: dict[str, float] = {}
        for field, name in ENV_NAMES.items():
            default = getattr(defaults, field)
            values[field] = env_number(env, name, default)
        return cls(**values)

    def summary(self) -> str:
        """One line for the page, so visitors know the rules before they hit them."""
        return (
            f"Public mode: at most {self.max_work_seconds:g} s of work per run (cut off at "
            f"{self.max_run_seconds:g} s), {self.max_processes} processes, {self.max_concurrency:,} "
            f"threads or tasks at once, {self.max_repeats} repeats, one run at a time."
        )


ENV_NAMES: dict[str, str] = {
    "max_work_seconds": "GIL_LAB_MAX_WORK_SECONDS",
    "max_run_seconds": "GIL_LAB_MAX_RUN_SECONDS",
    "max_processes": "GIL_LAB_MAX_PROCESSES",
    "max_concurrency": "GIL_LAB_MAX_CONCURRENCY",
    "max_repeats": "GIL_LAB_MAX_REPEATS",
    "max_body_bytes": "GIL_LAB_MAX_BODY_BYTES",
    "max_download_bytes": "GIL_LAB_MAX_DOWNLOAD_BYTES",
    "queue_timeout": "GIL_LAB_QUEUE_TIMEOUT",
}


def env_number(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive, finite number from `env[name]` (int when the default is), else the default."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    text = raw.strip().replace("_", "")
    try:
        value: float = int(text) if isinstance(default, int) else float(text)
        usable = math.isfinite(value) and value > 0
    except (ValueError, OverflowError):
        usable = False
    if not usable:
        log.warning("ignoring %s=%r: not a positive number; using %s", name, raw, default)
        return default
    return value
