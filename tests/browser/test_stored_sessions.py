"""Ten sessions finishing runs at once: every run stored once, every permalink opens, on either replica.

SQLite behind one page server, and PostgreSQL behind two page servers (two
replicas serving one link): ten browser sessions, spread over the servers,
press Run one right after the other on a tiny run; then every page shows its
own permalink, the store holds exactly those ten runs, and each permalink
opens read-only on the *other* server.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator

import pytest
from browser_helpers import (
    OUTPUT_DIR,
    RUN_COUNTER_JS,
    StreamlitServer,
    free_port,
    runs_seen,
    wait_for_first_draw,
    wait_settled_after,
)
from pg_server import PgServer
from playwright.sync_api import Browser, BrowserContext, expect

from lab.store.store import RunStore

pytestmark = [pytest.mark.load, pytest.mark.timeout(600)]
SESSIONS = 10
SMALL_RUN = "/cpu?workload=squares&tasks=2&size=100000&modes=batch,threads&repeats=1"
PERMALINK = re.compile(r"Stored: this run's permalink is \?run=([A-Za-z0-9_-]{22})")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[StreamlitServer]]]:
    """The store's URL and its page servers: one on SQLite, two replicas on PostgreSQL."""
    if request.param == "sqlite":
        url, count = f"sqlite:///{tmp_path_factory.mktemp('store') / 'runs.db'}", 1
    else:
        server: PgServer = request.getfixturevalue("pg_server")
        url, count = server.new_database(), 2
    servers: list[StreamlitServer] = []
    try:
        for number in range(count):
            log = OUTPUT_DIR / f"stored-sessions-{request.param}-{number}.log"
            servers.append(
                StreamlitServer(port=free_port(), log_path=log, env={"GIL_LAB_DATABASE_URL": url}).start()
            )
        yield url, servers
    finally:
        for app in servers:
            app.stop()


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    opened: list[BrowserContext] = []
    try:
        for _ in range(SESSIONS):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_init_script(RUN_COUNTER_JS)
            opened.append(context)
        yield opened
    finally:
        for context in opened:
            with contextlib.suppress(Exception):
                context.close()


def test_ten_sessions_finishing_at_once_store_each_run_once_and_every_permalink_opens(
    setup: tuple[str, list[StreamlitServer]], contexts: list[BrowserContext]
) -> None:
    url, servers = setup
    pages = [context.new_page() for context in contexts]
    home = [servers[number % len(servers)] for number in range(SESSIONS)]
    for page, app in zip(pages, home, strict=True):  # all ten load together: wait for each below
        page.goto(app.url + SMALL_RUN, wait_until="commit")
    for page in pages:
        wait_for_first_draw(page)
    before = [runs_seen(page) for page in pages]
    for page in pages:  # one right after the other: the runs overlap and finish together
        page.get_by_role("button", name="Run", exact=True).click()
    deadline = time.monotonic() + 300
    ids = []
    for page, runs in zip(pages, before, strict=True):
        wait_settled_after(page, runs, max(1.0, deadline - time.monotonic()) * 1000)
        caption = page.get_by_text(PERMALINK)
        expect(caption).to_be_visible()
        found = PERMALINK.search(caption.inner_text())
        assert found is not None
        ids.append(found.group(1))
    assert len(set(ids)) == SESSIONS
    with RunStore.open(url) as store:
        assert store.count() == SESSIONS and {row.id for row in store.list(limit=50)} == set(ids)
    for number, (page, stored) in enumerate(zip(pages, ids, strict=True)):
        other = servers[(number + 1) % len(servers)]
        page.goto(f"{other.url}/?run={stored}", wait_until="commit")
    for page, stored in zip(pages, ids, strict=True):
        assert stored in page.url
        expect(page.get_by_text("Measured on:")).to_be_visible(timeout=60_000)
        expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
