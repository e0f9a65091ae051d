"""The page in a real browser: run, results, CSV download, share links, and Cancel / closed tab.

One Streamlit server for the module, driven by Debian's Chromium through
Playwright. Every interaction waits for the script run it causes to finish (the
server's own start and end messages on the page's websocket, then
`stApp[data-test-script-state="notRunning"]`), never for a fixed time. The
finished page is saved to test-output/e2e-finished-run.png, and the measured
times (Cancel -> worker group gone, closed tab -> worker group gone) to
test-output/e2e-timings.json.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd
import pytest
from browser_helpers import (
    NOT_RUNNING,
    OUTPUT_DIR,
    RUN_COUNTER_JS,
    RUNNING,
    StreamlitServer,
    free_port,
    live_members,
    open_page,
    query_param,
    screenshot_whole_page,
    set_slider,
    settle,
    wait_for_query,
    wait_group_end,
    wait_until,
)
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lab.app.form import Controls, default_modes
from lab.engine.workloads import WORKLOADS

VIEWPORT = {"width": 1400, "height": 900}
SCREENSHOT = OUTPUT_DIR / "e2e-finished-run.png"
TIMINGS = OUTPUT_DIR / "e2e-timings.json"
TASKS = Controls().tasks
SQUARES_SIZES = WORKLOADS["squares"].size_choices
SMALL_TASKS, SMALL_SIZE = 4, 100_000  # about a second for all three modes on 2 busy cores
# Long enough to be cancelled: the most tasks of the largest squares, several seconds each.
LONG_RUN_LINK = (
    f"/cpu?workload=squares&tasks={TASKS.high}&size={SQUARES_SIZES[-1]}&modes=processes&workers=2&repeats=1"
)
# Measured here: 0.15-0.4 s. A page that sent nothing between its bars' redraws and let Streamlit
# stop only there took 4.5 s once the redraws were 5 s apart: the bound tells the two apart.
GONE_WITHIN_S = 2.0
CSV_COLUMNS = ("run_id", "mode", "seconds", "speedup", "cores_busy")

pytestmark = pytest.mark.timeout(120)
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def server() -> Iterator[StreamlitServer]:
    TIMINGS.unlink(missing_ok=True)
    app = StreamlitServer(port=free_port(), log_path=OUTPUT_DIR / "e2e-streamlit.log").start()
    try:
        yield app
    finally:
        app.stop()


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(RUN_COUNTER_JS)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = new_context(browser)
    yield ctx
    ctx.close()


@dataclass
class FinishedRun:
    page: Page
    seconds: float


@pytest.fixture(scope="module")
def finished_run(browser: Browser, server: StreamlitServer) -> Iterator[FinishedRun]:
    """Flow 1's page: small task count and size chosen with the keyboard, then one run to the end."""
    ctx = new_context(browser)
    page = ctx.new_page()
    open_page(page, f"{server.url}/cpu")
    assert query_param(page, "workload") == "squares", page.url

    set_slider(page, "Task count", SMALL_TASKS - TASKS.low, tasks=str(SMALL_TASKS))
    set_slider(page, "Workload size", SQUARES_SIZES.index(SMALL_SIZE), size=str(SMALL_SIZE))
    expect(page.get_by_role("slider", name="Task count")).to_have_value(str(SMALL_TASKS))
    expect(page.get_by_role("slider", name="Workload size")).to_have_attribute(
        "aria-valuetext", f"{SMALL_SIZE:,}"
    )

    started = time.monotonic()
    settle(page, page.get_by_role("button", name="Run", exact=True).click, timeout_ms=90_000)
    expect(page.get_by_text(re.compile(r"^Finished in [0-9.]+ s$"))).to_be_visible()
    yield FinishedRun(page, time.monotonic() - started)
    ctx.close()


def record_timing(name: str, seconds: float | None) -> None:
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    timings = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    timings[name] = None if seconds is None else round(seconds, 3)
    TIMINGS.write_text(json.dumps(timings, indent=2) + "\n")
    print(f"{name}: {timings[name]} s")


def test_a_run_draws_metrics_charts_and_updates_the_link(finished_run: FinishedRun) -> None:
    page = finished_run.page
    record_timing("flow1_run_click_to_idle_s", finished_run.seconds)

    labels = page.get_by_test_id("stMetricLabel")
    expect(labels).to_have_text(["batch", "threads", "processes"])
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert len(values) == 3 and all(re.fullmatch(r"[0-9]+\.[0-9]{3} s", v) for v in values), values

    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4")
    charts = page.get_by_test_id("stPlotlyChart")
    titles = [chart.locator(".gtitle").first.text_content() for chart in charts.all()]
    for wanted in ("Wall time", "Speedup", "Cores", "timeline"):
        assert any(wanted.lower() in (title or "").lower() for title in titles), (wanted, titles)
    # Not just frames: every chart drew at least one trace with marks in it.
    marks = [
        chart.evaluate("e => e.querySelectorAll('g.trace path, g.trace .point').length")
        for chart in charts.all()
    ]
    assert all(count > 0 for count in marks), dict(zip(titles, marks, strict=True))

    assert query_param(page, "tasks") == str(SMALL_TASKS), page.url
    assert query_param(page, "size") == str(SMALL_SIZE), page.url
    assert query_param(page, "workload") == "squares", page.url

    screenshot_whole_page(page, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 10_000


def test_download_csv_has_one_row_per_mode(finished_run: FinishedRun) -> None:
    page = finished_run.page
    button = page.get_by_role("button", name="Download CSV", exact=True)
    expect(button).to_be_enabled()
    with page.expect_download() as download_info:
        button.click()
    download = download_info.value
    saved = OUTPUT_DIR / "e2e-history.csv"
    download.save_as(saved)
    page.wait_for_selector(NOT_RUNNING)

    table = pd.read_csv(saved)
    missing = [name for name in CSV_COLUMNS if name not in table.columns]
    assert not missing, f"CSV lacks {missing}; has {list(table.columns)}"
    assert list(table["mode"]) == ["batch", "threads", "processes"]
    assert table["run_id"].nunique() == 1 and table["run_id"].notna().all()
    assert (table["seconds"] > 0).all(), table["seconds"].tolist()
    assert (table["cores_busy"] >= 0).all(), table["cores_busy"].tolist()
    assert table.loc[table["mode"] == "batch", "speedup"].item() == pytest.approx(1.0)


def test_a_share_link_restores_the_controls(context: BrowserContext, server: StreamlitServer) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/io?workload=sleep&tasks=5&size=50&modes=batch,threads&repeats=2")

    expect(
        page.get_by_role("heading", name="I/O-bound", level=1)
    ).to_be_visible()  # the old link opens its lab
    expect(page.get_by_role("radio", name=re.compile(r"^sleep\b"))).to_be_checked()
    expect(page.get_by_role("slider", name="Task count")).to_have_value("5")
    expect(page.get_by_role("slider", name="Workload size")).to_have_attribute("aria-valuetext", "50")
    expect(page.get_by_role("slider", name="Repeats")).to_have_value("2")
    expect(page.get_by_test_id("stMultiSelect").locator("[data-tag]")).to_have_text(["batch", "threads"])
    expect(page.get_by_test_id("stAlertContentWarning")).to_have_count(0)
    wait_for_query(page, workload="sleep", tasks="5", size="50", modes="batch,threads", repeats="2")


def test_a_tampered_link_is_clamped_with_a_warning(context: BrowserContext, server: StreamlitServer) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/cpu?tasks=99999&size=-5&workers=abc&modes=warp")

    warnings = page.get_by_test_id("stAlertContentWarning")
    expect(warnings.first).to_be_visible()
    text = " | ".join(warnings.all_inner_texts())
    assert "tasks=99,999" in text and f"{TASKS.high}" in text, text
    assert "warp" in text and "workers" in text, text

    tasks = page.get_by_role("slider", name="Task count")
    assert tasks.get_attribute("max") == str(TASKS.high)
    expect(tasks).to_have_value(str(TASKS.high))
    size = page.get_by_role("slider", name="Workload size")
    expect(size).to_have_attribute("aria-valuetext", f"{SQUARES_SIZES[0]:,}")
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    modes = ",".join(default_modes("squares"))
    wait_for_query(page, tasks=str(TASKS.high), size=str(SQUARES_SIZES[0]), modes=modes)


def start_long_run(page: Page, server: StreamlitServer) -> int:
    """Open the long-run link, click Run, and return the worker's process group once its pool runs."""
    assert not server.worker_groups(), "a worker from an earlier test is still running"
    open_page(page, server.url + LONG_RUN_LINK)
    size = page.get_by_role("slider", name="Workload size")
    expect(size).to_have_attribute("aria-valuetext", f"{SQUARES_SIZES[-1]:,}")
    expect(page.get_by_role("slider", name="Task count")).to_have_value(str(TASKS.high))
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_selector(RUNNING)
    wait_until(server.worker_groups, 30, what="a `python -m lab.engine.worker` process under streamlit")
    (pgid,) = server.worker_groups()
    # The worker itself plus the two pool processes squaring numbers.
    wait_until(lambda: len(live_members(pgid)) >= 3, 30, what=f"the process pool in group {pgid}")
    assert page.locator(RUNNING).count() == 1, "the run ended before it could be stopped"
    return pgid


def check_group_end(pgid: int, server: StreamlitServer, started: float, after: str) -> None:
    """Assert the worker group stopped and the page reaped its worker within GONE_WITHIN_S; log the times."""
    assert server.proc is not None
    end = wait_group_end(pgid, server.proc.pid, started, timeout=GONE_WITHIN_S + 10)
    record_timing(f"{after}_to_group_stopped_s", end.ended_s)
    record_timing(f"{after}_to_worker_reaped_s", end.leader_reaped_s)
    record_timing(f"{after}_to_group_gone_s", end.gone_s)
    assert end.ended_s <= GONE_WITHIN_S, f"worker group {pgid} still ran {end.ended_s:.2f} s after {after}"
    assert end.leader_reaped_s <= GONE_WITHIN_S, (
        f"worker {pgid} was left a zombie of the server for {end.leader_reaped_s:.2f} s after {after}"
    )


def test_cancel_ends_the_worker_group(context: BrowserContext, server: StreamlitServer) -> None:
    page = context.new_page()
    pgid = start_long_run(page, server)
    try:
        cancel = page.get_by_role("button", name="Cancel", exact=True)
        expect(cancel).to_be_enabled()
        clicked = time.monotonic()
        cancel.click()
        check_group_end(pgid, server, clicked, after="cancel")
    finally:
        server.kill_workers()

    page.wait_for_selector(NOT_RUNNING)
    # The page must say the run was cancelled (the button itself only says "Cancel").
    notice = page.get_by_test_id("stMain").get_by_text(re.compile(r"\bcancell?ed\b", re.I)).first
    expect(notice, "the worker was ended, but the page does not say the run was cancelled").to_be_visible()
    expect(page.get_by_text(re.compile(r"^Finished in"))).to_have_count(0)
    assert not server.worker_groups()


def test_closing_the_tab_ends_the_worker_group(browser: Browser, server: StreamlitServer) -> None:
    ctx = new_context(browser)
    page = ctx.new_page()
    pgid = start_long_run(page, server)
    try:
        closed = time.monotonic()
        page.close()
        check_group_end(pgid, server, closed, after="tab_close")
    finally:
        server.kill_workers()
        ctx.close()
    assert not server.worker_groups()


def test_the_web_server_lab_runs_and_charts_its_ceilings(
    context: BrowserContext, server: StreamlitServer
) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/?lab=web&endpoints=async_wait,async_blocking&clients=20&duration=1")
    expect(page.get_by_role("heading", name="Web server", level=1)).to_be_visible()
    expect(page.get_by_role("slider", name="Clients")).to_have_value("20")

    settle(page, page.get_by_role("button", name="Run", exact=True).click, timeout_ms=90_000)
    expect(page.get_by_text(re.compile(r"^Finished in [0-9.]+ s$"))).to_be_visible()
    expect(page.get_by_test_id("stMetricLabel")).to_have_text(["async_wait", "async_blocking"])
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert all(re.fullmatch(r"[0-9,]+ req/s", value) for value in values), values
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3")
    expect(page.get_by_text(re.compile("stalls the whole event loop"))).to_be_visible()
    wait_for_query(page, endpoints="async_wait,async_blocking", clients="20", duration="1")
    assert page.url.split("?")[0].endswith("/web")
    screenshot_whole_page(page, OUTPUT_DIR / "e2e-web-lab.png")


LAB_PAGES = [
    ("cpu", "CPU-bound"),
    ("io", "I/O-bound"),
    ("web", "Web server"),
    ("convoy", "Convoy"),
    ("cluster", "Cluster"),
    ("compare", "Compare interpreters"),
    ("sweep", "Scaling"),
    ("classics", "Classics"),
    ("runs", "Runs"),
]


@pytest.mark.parametrize("path, heading", LAB_PAGES)
def test_every_lab_is_one_click_from_the_navigation(
    context: BrowserContext, server: StreamlitServer, path: str, heading: str
) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/cpu")
    settle(page, page.get_by_test_id("stSidebarNav").get_by_role("link", name=heading).click)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert urlsplit(page.url).path == f"/{path}"
    screenshot_whole_page(page, OUTPUT_DIR / f"e2e-page-{path}.png")


@pytest.mark.parametrize(
    ("path", "where", "heading"), [("cpu", "cpu", "CPU-bound"), ("scaling", "sweep", "Scaling")]
)
def test_a_lab_opens_at_its_own_path_and_an_older_path_leads_to_it(
    context: BrowserContext, server: StreamlitServer, path: str, where: str, heading: str
) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/{path}")
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert urlsplit(page.url).path == f"/{where}"


def test_the_xray_draws_each_threads_states_and_offers_a_trace(
    context: BrowserContext, server: StreamlitServer
) -> None:
    page = context.new_page()
    open_page(page, f"{server.url}/cpu?workload=squares&tasks=4&size=1000000&modes=threads,processes&xray=1")
    expect(page.get_by_test_id("stCheckbox").filter(has_text="GIL X-ray").locator("input")).to_be_checked()
    settle(page, page.get_by_role("button", name="Run", exact=True).click, timeout_ms=90_000)
    expect(page.get_by_role("heading", name="GIL X-ray")).to_be_visible()
    expect(page.get_by_text(re.compile(r"GIL handoffs per second"))).to_have_count(2)  # one line per mode
    expect(page.get_by_role("button", name="Download the trace for Perfetto")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the trace for Perfetto").click()
    trace = json.loads(Path(download.value.path()).read_text())
    phases = {event["ph"] for event in trace["traceEvents"]}
    assert {"M", "X"} <= phases
    assert any(event.get("cat") == "xray" for event in trace["traceEvents"])
    screenshot_whole_page(page, OUTPUT_DIR / "e2e-xray.png")
