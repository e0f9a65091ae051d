"""Every environment variable GIL Lab reads, named in one place under one prefix, and how each is read.

A host tunes the lab without code (public mode, its limits, the interpreters
visitors may choose, a Dask scheduler); the lab also passes a few values to
its own child processes the same way. Reading is forgiving where a typo must
not keep the app from starting (a malformed number falls back to its default
with a logged warning) and strict nowhere else.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path

PREFIX = "GIL_LAB_"

# Hosting: public mode and what one run may cost there (see lab.hosting).
PUBLIC = "GIL_LAB_PUBLIC"
MAX_WORK_SECONDS = "GIL_LAB_MAX_WORK_SECONDS"
MAX_RUN_SECONDS = "GIL_LAB_MAX_RUN_SECONDS"
MAX_PROCESSES = "GIL_LAB_MAX_PROCESSES"
MAX_CONCURRENCY = "GIL_LAB_MAX_CONCURRENCY"
MAX_REPEATS = "GIL_LAB_MAX_REPEATS"
MAX_BODY_BYTES = "GIL_LAB_MAX_BODY_BYTES"
MAX_DOWNLOAD_BYTES = "GIL_LAB_MAX_DOWNLOAD_BYTES"
QUEUE_TIMEOUT = "GIL_LAB_QUEUE_TIMEOUT"
QUEUE_DIR = "GIL_LAB_QUEUE_DIR"
# The run store (lab.store): where runs are kept (a SQLAlchemy URL; default a SQLite file in the
# user's data folder), and how much it holds before the oldest unpinned run goes.
DATABASE_URL = "GIL_LAB_DATABASE_URL"
MAX_STORED_RUNS = "GIL_LAB_MAX_STORED_RUNS"
MAX_STORE_MB = "GIL_LAB_MAX_STORE_MB"
# Interpreters: extra ones to offer (paths, ':'-separated; in public mode the only ones), and the
# folder where scripts/build-free-threaded-python puts its build.
PYTHONS = "GIL_LAB_PYTHONS"
CACHE = "GIL_LAB_CACHE"
# The Dask scheduler a host offers to the Cluster lab (visitors never choose one).
DASK_SCHEDULER = "GIL_LAB_DASK_SCHEDULER"
# Passed by the lab to its own children.
URL_ALLOW = "GIL_LAB_URL_ALLOW"
WEB_THREADPOOL = "GIL_LAB_WEB_THREADPOOL"
WEB_READY_DIR = "GIL_LAB_WEB_READY_DIR"
WEB_PARENT_PID = "GIL_LAB_WEB_PARENT_PID"
# CPython's own switch, honoured by free-threaded builds: "0" runs without the GIL, "1" with it.
PYTHON_GIL = "PYTHON_GIL"

ON = frozenset({"1", "true", "yes", "on"})
OFF = frozenset({"0", "false", "no", "off"})

log = logging.getLogger(__name__)


def flag(env: Mapping[str, str], name: str) -> bool | None:
    """True or False when the variable says so plainly; None when unset or neither."""
    value = env.get(name, "").strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    return None


def number(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive, finite number (int when the default is), else the default with a warning."""
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


def text(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value stripped, or None when unset or blank."""
    value = env.get(name, "").strip()
    return value or None


def paths(env: Mapping[str, str], name: str) -> list[Path]:
    """A ':'-separated list of paths (empty entries dropped), in order."""
    return [Path(item) for item in env.get(name, "").split(os.pathsep) if item.strip()]


def cache_dir(env: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    """Where the lab keeps its builds: $GIL_LAB_CACHE, else $XDG_CACHE_HOME/gil-lab or ~/.cache/gil-lab."""
    configured = text(env, CACHE)
    if configured:
        return Path(configured)
    base = text(env, "XDG_CACHE_HOME")
    return Path(base) / "gil-lab" if base else (home or Path.home()) / ".cache" / "gil-lab"


def data_dir(env: Mapping[str, str] = os.environ, home: Path | None = None) -> Path:
    """Where the lab keeps what it measured: $XDG_DATA_HOME/gil-lab, else ~/.local/share/gil-lab."""
    base = text(env, "XDG_DATA_HOME")
    return Path(base) / "gil-lab" if base else (home or Path.home()) / ".local" / "share" / "gil-lab"
