"""A progress bar redraws only what is worth drawing: each redraw costs the browser on the measured cores."""

from __future__ import annotations

from typing import Any

import pytest

import lab.app.flow as page_lab
from lab.app.flow import REDRAW_SECONDS, Bar


class Slot:
    """Stands in for the bar on the page: records every redraw."""

    def __init__(self) -> None:
        self.drawn: list[tuple[float, str]] = []

    def progress(self, value: float, text: str) -> None:
        self.drawn.append((value, text))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [100.0]
    monkeypatch.setattr(page_lab.time, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def slot(monkeypatch: pytest.MonkeyPatch) -> Slot:
    recorder = Slot()

    def progress(value: float, text: str) -> Any:
        recorder.progress(value, text)
        return recorder

    monkeypatch.setattr(page_lab.st, "progress", progress)
    return recorder


def test_a_bar_redraws_at_most_every_interval_and_never_the_same(clock: list[float], slot: Slot) -> None:
    bar = Bar(0.0, "threads: waiting")
    bar.show(0.0, "threads: waiting")  # what it already shows
    clock[0] += REDRAW_SECONDS / 2
    bar.show(0.25, "threads: 1/4 tasks · 0.1 s")  # too soon after the last redraw
    clock[0] += REDRAW_SECONDS / 2
    bar.show(0.25, "threads: 1/4 tasks · 0.2 s")
    bar.show(0.5, "threads: 2/4 tasks · 0.2 s")  # again too soon
    assert slot.drawn == [(0.0, "threads: waiting"), (0.25, "threads: 1/4 tasks · 0.2 s")]


def test_a_full_bar_is_drawn_at_once(clock: list[float], slot: Slot) -> None:
    bar = Bar(0.0, "batch: waiting")
    bar.show(1.0, "batch: 4/4 tasks · 0.3 s · finished")
    bar.show(1.0, "batch: 4/4 tasks · 0.3 s · finished")
    assert slot.drawn == [(0.0, "batch: waiting"), (1.0, "batch: 4/4 tasks · 0.3 s · finished")]
