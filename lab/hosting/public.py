"""Public mode: whether this lab is hosted for strangers.

A hosted lab runs other people's experiments on a shared, small machine, so
public mode caps what a run may cost (`lab.hosting.limits`), which URLs it may
fetch (`lab.core.urlguard`), which interpreters it may use and whether it runs
visitors' own code (never).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lab.core import config

STREAMLIT_CLOUD_MOUNT = Path("/mount/src")


def public_mode(env: Mapping[str, str] = os.environ, mount: Path = STREAMLIT_CLOUD_MOUNT) -> bool:
    """On when GIL_LAB_PUBLIC says so; when unset, on where Streamlit Community Cloud runs us.

    Community Cloud has no official flag, but its containers serve the repository
    from /mount/src, so that directory is the sign. A value that is neither on
    nor off is ignored, like an unset one.
    """
    setting = config.flag(env, config.PUBLIC)
    return mount.is_dir() if setting is None else setting
