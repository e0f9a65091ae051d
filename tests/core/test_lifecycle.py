"""The shared life of a lab run: wait drains held-back events, cancel and `with` always close."""

from __future__ import annotations

import pytest

from lab.core.events import Event
from lab.core.lifecycle import LabRun


class Scripted(LabRun[list[str]]):
    """A run whose polls hand out a fixed list of events, one a poll, then end it."""

    def __init__(self, events: list[str], held_back: int = 0) -> None:
        self.events = list(events)
        self.held = [f"late{i}" for i in range(held_back)]
        self.seen: list[str] = []
        self.starts = 0
        self.closes = 0

    def start(self) -> Scripted:
        self.starts += 1
        return self

    def poll(self, timeout: float = 0.1) -> list[Event]:
        if self.events:
            name = self.events.pop(0)
            self.seen.append(name)
            if not self.events:
                self._finish("complete", None)
            return [{"event": name}]
        if self.held:
            return [{"event": self.held.pop(0)}]
        return []

    def _pending(self) -> bool:
        return bool(self.held)

    def close(self) -> None:
        self.closes += 1

    def result(self) -> list[str]:
        return list(self.seen)


def test_wait_hands_every_event_to_the_callback_including_those_held_back_after_the_end() -> None:
    run = Scripted(["a", "b", "c"], held_back=2)
    got: list[str] = []
    result = run.wait(lambda event: got.append(event["event"]))
    assert got == ["a", "b", "c", "late0", "late1"]
    assert result == ["a", "b", "c"]
    assert run.status == "complete" and run.done


def test_cancel_sets_a_status_once_and_closes_every_time() -> None:
    run = Scripted(["a", "b"])
    run.cancel()
    assert (run.status, run.message) == ("cancelled", "cancelled before it finished")
    closes = run.closes
    assert closes >= 1
    run.cancel("again")
    assert run.message == "cancelled before it finished"
    assert run.closes == closes + 1


def test_cancel_keeps_the_status_of_a_run_that_already_ended() -> None:
    run = Scripted(["a"])
    run.wait()
    run.cancel("too late")
    assert run.status == "complete"


def test_a_with_block_starts_the_run_and_closes_it_when_an_exception_leaves() -> None:
    run = Scripted(["a"])
    with pytest.raises(RuntimeError), run as entered:
        assert entered is run and run.starts == 1
        raise RuntimeError("the page was stopped")
    assert run.closes == 1


def test_every_lab_run_is_metered_from_the_callers_side_without_a_change_to_the_lab(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [0.0]
    monkeypatch.setattr("lab.core.lifecycle.time.monotonic", lambda: clock[0])
    run = Scripted(["a", "b", "c", "d"])
    assert run.steadiness is None
    run.start()
    assert run._meter is not None and len(run._meter.calibrations) == 1
    run.poll()  # within the first second: no calibration
    clock[0] = 1.5
    run.poll()  # a second later: one more
    assert len(run._meter.calibrations) == 2
    run.wait()
    assert run.steadiness is not None
    assert len(run.steadiness.calibration_ms) == 3  # at start, after a second of polls, at the end
    first = run.steadiness
    run.close()
    assert run.steadiness is first  # closing again keeps the verdict


def test_a_run_closed_before_it_started_has_no_steadiness() -> None:
    run = Scripted(["a"])
    run.close()
    assert run.steadiness is None
