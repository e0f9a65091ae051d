"""`?run=ID` in a real browser: a stored run opens read-only; a run made on the page gets its permalink.

Once with the default SQLite store and once with the page pointed at the
PostgreSQL server the tests start (`GIL_LAB_DATABASE_URL`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_helpers import (
    OUTPUT_DIR,
    RUN_COUNTER_JS,
    StreamlitServer,
    free_port,
    open_page,
    settle,
    wait_settled_after,
)
from pg_server import PgServer
from playwright.sync_api import Browser, Page, expect
from store_samples import sample

from lab.store.store import RunStore

pytestmark = pytest.mark.timeout(180)
expect.set_options(timeout=30_000)
SMALL_RUN = "/cpu?workload=squares&tasks=2&size=100000&modes=batch,threads&repeats=1"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'runs.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture(scope="module")
def server(store_url: str) -> Iterator[StreamlitServer]:
    log = OUTPUT_DIR / "permalink-streamlit.log"
    app = StreamlitServer(port=free_port(), log_path=log, env={"GIL_LAB_DATABASE_URL": store_url})
    app.start()
    try:
        yield app
    finally:
        app.stop()


def new_page(browser: Browser) -> Page:
    """A page in a context of its own that counts the page's script runs (for `settle`)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(RUN_COUNTER_JS)
    return context.new_page()


def open_stored(page: Page, url: str) -> None:
    page.goto(url)
    wait_settled_after(page, 0)


def test_a_stored_run_opens_read_only_with_its_charts_and_where_it_was_measured(
    browser: Browser, server: StreamlitServer, store_url: str
) -> None:
    record = sample("run")
    with RunStore.open(store_url) as store:
        stored = store.save(record)
    page = new_page(browser)
    try:
        open_stored(page, f"{server.url}/?run={stored}")
        expect(page.get_by_text(f"Measured on: {record.machine.cpu_model}")).to_be_visible()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
        expect(page.get_by_role("button", name="Back to the lab")).to_be_visible()
        assert page.get_by_role("button", name="Run", exact=True).count() == 0
    finally:
        page.context.close()


@pytest.mark.parametrize("bad", ["nope", "x' OR '1'='1", "A" * 22, "9" * 3000])
def test_a_bad_or_unknown_run_id_is_one_notice_and_the_lab_still_opens(
    browser: Browser, server: StreamlitServer, bad: str
) -> None:
    page = new_page(browser)
    try:
        open_page(page, f"{server.url}/cpu?run={bad}")
        expect(page.get_by_text("The link's run cannot be opened:")).to_have_count(1)
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        page.context.close()


def test_a_run_made_on_the_page_is_stored_and_its_permalink_opens_it(
    browser: Browser, server: StreamlitServer, store_url: str
) -> None:
    page = new_page(browser)
    try:
        open_page(page, server.url + SMALL_RUN)
        settle(page, lambda: page.get_by_role("button", name="Run", exact=True).click(), timeout_ms=120_000)
        caption = page.get_by_text(re.compile(r"Stored: this run's permalink is \?run="))
        expect(caption).to_be_visible()
        found = re.search(r"\?run=([A-Za-z0-9_-]{22})", caption.inner_text())
        assert found, caption.inner_text()
        with RunStore.open(store_url) as store:
            assert store.get(found.group(1)).lab == "run"
        open_stored(page, f"{server.url}/?run={found.group(1)}")
        expect(page.get_by_text("Measured on:")).to_be_visible()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
    finally:
        page.context.close()


def test_a_link_to_another_labs_run_opens_in_that_labs_place(
    browser: Browser, server: StreamlitServer, store_url: str
) -> None:
    record = sample("web")
    with RunStore.open(store_url) as store:
        stored = store.save(record)
    page = new_page(browser)
    try:
        open_stored(page, f"{server.url}/?run={stored}")  # the front page sends it on to its place
        expect(page.get_by_text(f"Measured on: {record.machine.cpu_model}")).to_be_visible()
        page.wait_for_url(re.compile(rf"/web\?run={stored}$"))
        expect(page.locator(".js-plotly-plot").first).to_be_visible()
    finally:
        page.context.close()
