"""The page's long explanatory text, kept in Markdown files (lab/app/text/*.md) rather than Python strings.

Prose changes without touching code, reads as Markdown on GitHub, and a test
checks that every file the page names exists.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def text(name: str) -> str:
    """The Markdown of lab/app/text/NAME.md."""
    return resources.files("lab.app.text").joinpath(f"{name}.md").read_text(encoding="utf-8")
