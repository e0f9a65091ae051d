"""Shared fixtures (the embedded latency server, a guard against leftover processes) and the tiers.

The tiers are markers (declared in pyproject.toml, --strict-markers): tests
under tests/browser/ are `browser` (and the load test `load`), the web lab's
tests `web`; `make check` runs what none of the slow tiers mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from lab.engine.latency_server import EmbeddedServer


@pytest.fixture(scope="session")
def latency_server() -> Iterator[EmbeddedServer]:
    """One embedded latency server for the whole session, in its own process."""
    with EmbeddedServer(latency_ms=200, nbytes=64 * 1024) as server:
        yield server


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Fail the test if it leaves any new descendant of the test process running."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    left = [child for child in me.children(recursive=True) if child.pid not in before and child.is_running()]
    alive = [child for child in left if child.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind: {[(c.pid, c.cmdline()[:4]) for c in alive]}"


TIER_BY_FOLDER = {"browser": "browser"}
TIER_BY_FILE = {"test_load_sessions.py": "load", "test_lab.py": "web", "test_web.py": "web"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier from where it lives, so a new test file lands in the right one."""
    for item in items:
        path = Path(str(item.fspath))
        folder_tier = TIER_BY_FOLDER.get(path.parent.name)
        if folder_tier:
            item.add_marker(folder_tier)
        if path.parent.name in ("web", "cli", "browser") and path.name in TIER_BY_FILE:
            item.add_marker(TIER_BY_FILE[path.name])
