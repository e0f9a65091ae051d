"""The offline report: every lab's run as one HTML file with plotly.js inlined once and nothing fetched."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from store_samples import LABS, sample

from lab.app.report import figures, main, report_html
from lab.store.store import RunStore


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore.open(f"sqlite:///{tmp_path / 'runs.db'}")


@pytest.mark.parametrize("lab", LABS)
def test_each_labs_report_carries_its_charts_takeaway_machine_and_settings(store: RunStore, lab: str) -> None:
    record = sample(lab)
    page = report_html(store.get(store.save(record)))
    charts = len(figures(record, lab))
    assert charts >= 1 and page.count('class="chart"') == charts
    assert page.count("Plotly.newPlot(") == charts and "<script src" not in page
    assert len(re.findall(r"\bplotly\.js v\d", page)) == 1  # the library once, however many charts
    machine = record.runs[0].machine if lab == "compare" else record.machine
    assert f"Measured on: {machine.cpu_model}, {machine.usable_cores:g} usable cores" in page
    assert "<h2>Takeaway</h2><ul><li>" in page and "<h2>Settings</h2><table><tr>" in page
    assert len(page.encode()) < 5_000_000


def test_text_from_the_record_is_escaped(store: RunStore) -> None:
    record = sample("run")
    hostile = replace(record, message="<img src=x onerror=alert(1)>", status="cut_short")
    page = report_html(store.get(store.save(hostile)))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_report_command_says_one_line_for_a_bad_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["<script>", "--output", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err
    assert "not a run id" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.html").exists()
