"""Shared fixtures: the embedded latency server and a guard against leftover processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import Browser, sync_playwright

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium for a browser test module; if missing it fails, never skips.

    Module-scoped on purpose: Playwright's sync API keeps an event loop running while it
    is open, and the tests after it call `asyncio.run`.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium and are never skipped. "
            "Install it with `apt-get install chromium` (or ./scripts/ensure-chromium).",
            pytrace=False,
        )
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
