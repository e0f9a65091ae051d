"""The browser tier: Playwright is imported here only, so the other tiers run without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, CHROMIUM_ARGS
from playwright.sync_api import Browser, sync_playwright


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
