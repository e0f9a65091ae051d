"""The Classics place through Streamlit's AppTest, with stand-in children (no experiment process runs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from classics.classics_factories import PY311, PY313, PY313T, FakeChild
from streamlit.testing.v1 import AppTest

from lab.app import state
from lab.app.charts import classics as charts
from lab.app.labs import classics as page_lab
from lab.classics.results import ClassicsResult, build_record
from lab.classics.runner import ClassicsRun

PAGE = str(Path(__file__).resolve().parents[2] / "lab" / "app" / "pages" / "classics.py")


@pytest.fixture
def fake_lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three interpreters that exist only here, and a runner whose children finish at once."""
    monkeypatch.setattr(state, "interpreters", lambda: [PY311, PY313, PY313T])

    def fake_run(settings: Any, interpreters: Any, **options: Any) -> ClassicsRun:
        FakeChild.started, FakeChild.open_now = [], 0
        return ClassicsRun(settings, interpreters, own=PY311, experiment=FakeChild, **options)

    monkeypatch.setattr(page_lab, "ClassicsRun", fake_run)
    yield


def page(**query: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def test_the_place_offers_every_classic_and_interpreter_and_cites_the_sources(fake_lab: None) -> None:
    at = page()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.multiselect(key="classics_names").value) == 7
    assert at.multiselect(key="classics_pythons").value == ["3.11", "3.13", "3.13t"]
    text = " ".join(block.value for block in at.markdown)
    assert "dabeaz.com/python/GIL.pdf" in text and "peps.python.org/pep-0703" in text
    assert any("7 classic(s)" in caption.value for caption in at.caption)


def test_a_run_draws_each_classic_with_its_ratios_and_sentence_and_keeps_it_in_the_history(
    fake_lab: None,
) -> None:
    at = page(classic="countdown,stinner,free-threaded")
    assert at.multiselect(key="classics_names").value == ["countdown", "stinner", "free-threaded"]
    next(button for button in at.button if button.label == "Run").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    (run,) = at.session_state.history
    assert isinstance(run, ClassicsResult) and run.status == "complete"
    assert FakeChild.started[0] == "countdown/3.11" and FakeChild.open_now == 0
    assert len(at.get("plotly_chart")) == 3
    sentences = " ".join(info.value for info in at.info)
    assert "Two threads ÷ sequential" in sentences and "3.13t ran the pure-Python loop" in sentences
    assert any("?classic=stinner" in caption.value for caption in at.caption)


def test_a_share_link_opens_one_classic_and_unknown_names_become_a_notice(fake_lab: None) -> None:
    at = page(classic="convoy")
    assert at.multiselect(key="classics_names").value == ["convoy"]
    assert at.query_params["classic"] == "convoy"
    at = page(classic="beazley,convoy", scale="9")
    assert at.multiselect(key="classics_names").value == ["convoy"]
    notices = " ".join(warning.value for warning in at.warning)
    assert "beazley" in notices and "scale='9'" in notices


def test_the_chart_sets_published_beside_measured_as_dots_on_a_log_axis() -> None:
    from classics.classics_factories import every_classic

    record = build_record("countdown", every_classic(), 2.0)
    fig = charts.ratios_figure(record, "countdown")
    assert [trace.name for trace in fig.data] == ["published", "measured here"]
    assert fig.layout.xaxis.type == "log" and len(fig.data[0].y) == len(record.compare)
    assert len(fig.data[1].y) == len(record.compare) - 1  # the one-core row was not run here
    assert fig.data[1].x[0] == pytest.approx(1.02) and fig.data[1].text[0] == "differs, as expected here"
    assert fig.data[1].marker.color[0] == charts.UNCOMPARED_COLOUR
    assert list(charts.compare_frame(record)["agreement"])[1] == "differs, as expected here"
    assert charts.agreement_colour(False, None) == charts.FAILED_COLOUR
