"""The offline report opens in Chromium with the network off and draws every chart."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser
from store_samples import LABS, sample

from lab.app.report import figures, report_html
from lab.store.store import RunStore


@pytest.mark.parametrize("lab", LABS)
def test_the_report_draws_its_charts_with_the_network_off(browser: Browser, tmp_path: Path, lab: str) -> None:
    record = sample(lab)
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}") as store:
        page_file = tmp_path / "report.html"
        page_file.write_text(report_html(store.get(store.save(record))), encoding="utf-8")
    context = browser.new_context()
    context.set_offline(True)
    asked: list[str] = []
    context.route("**/*", lambda route: (asked.append(route.request.url), route.continue_()))
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        charts = len(figures(record, lab))
        page.wait_for_function(
            f"document.querySelectorAll('.plotly .main-svg').length >= {charts}", timeout=30_000
        )
        drawn = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
        assert drawn == charts and errors == []
        assert [url for url in asked if not url.startswith("file://")] == []
    finally:
        context.close()
