"""Shared fixtures: the embedded latency server and a guard against leftover processes."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest

from lab.server import EmbeddedServer


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
