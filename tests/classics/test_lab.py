"""The Classics lab's settings, record, CSV and runner (with stand-in children: no process runs)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from classics.classics_factories import PY311, PY313, PY313T, FakeChild, every_classic
from factories import make_machine

from lab.classics.catalogue import CLASSIC_NAMES
from lab.classics.csvio import read_rows, to_csv
from lab.classics.plan import estimate_seconds, plan
from lab.classics.results import ClassicsResult
from lab.classics.runner import ClassicsRun
from lab.classics.settings import MIN_SCALE, ClassicsSettings
from lab.core.contract import LabResult, LabSettings
from lab.core.errors import InvalidSettings, OverBudget, ResultsFormatError
from lab.engine.settings import RunSettings


def a_result(**changes: Any) -> ClassicsResult:
    settings = ClassicsSettings.create(pythons="3.13,3.13t")
    return ClassicsResult(settings, make_machine(), tuple(every_classic()), run_id="classics01", **changes)


def test_settings_take_names_in_the_catalogues_order_and_refuse_unknown_ones_in_one_line() -> None:
    settings = ClassicsSettings.create(
        classics="fastapi,countdown", pythons=["3.12", "3.13t", "3.12"], scale="0.5"
    )
    assert settings.classics == ("countdown", "fastapi") and settings.pythons == ("3.12", "3.13t")
    assert ClassicsSettings.from_dict(settings.to_dict()) == settings
    assert ClassicsSettings.create().classics == CLASSIC_NAMES
    with pytest.raises(InvalidSettings, match="unknown classic 'beazley'"):
        ClassicsSettings.create(classics="beazley")
    with pytest.raises(InvalidSettings, match="scale"):
        ClassicsSettings.create(scale="100")
    assert isinstance(settings, LabSettings)


@dataclass(frozen=True)
class FakeLimits:
    max_processes: int = 2
    max_concurrency: int = 300
    max_repeats: int = 5
    max_work_seconds: float = 30.0


@dataclass
class FakeHost:
    public: bool
    limits: FakeLimits = field(default_factory=FakeLimits)
    usable_cores: float = 2.0

    def check_budget(self, seconds: float, advice: str) -> None:
        if self.public and seconds > self.limits.max_work_seconds:
            raise OverBudget(f"about {seconds:.0f} s; lower {advice}")


def test_public_mode_scales_every_classic_down_to_the_budget_instead_of_refusing() -> None:
    settings = ClassicsSettings.create(pythons="3.11,3.12,3.13,3.13t", scale=2)
    assert settings.cost(2.0) > 30
    admitted = settings.admit(FakeHost(public=True))
    assert admitted.classics == settings.classics and MIN_SCALE <= admitted.scale < 1
    assert admitted.cost(2.0) <= 30
    assert settings.admit(FakeHost(public=False)) == settings


def test_a_budget_too_small_even_at_the_smallest_scale_is_refused_with_advice() -> None:
    with pytest.raises(OverBudget, match="classics or the interpreters"):
        ClassicsSettings.create().admit(FakeHost(public=True, limits=FakeLimits(max_work_seconds=2.0)))


def test_the_plan_scales_the_work_and_runs_each_classic_on_the_builds_it_needs() -> None:
    settings = ClassicsSettings.create(classics="countdown,stinner,free-threaded")
    steps = plan(settings, [PY311, PY313, PY313T], PY311)
    assert [(s.classic, s.key, s.interpreter.name) for s in steps] == [
        ("countdown", "2", "3.11"),
        ("countdown", "4", "3.11"),
        ("countdown", "2", "3.13"),
        ("countdown", "4", "3.13"),
        ("countdown", "2", "3.13t"),
        ("countdown", "4", "3.13t"),
        ("stinner", "modes", "3.13"),
        ("free-threaded", "gil", "3.13"),
        ("free-threaded", "free", "3.13t"),
    ]
    first = steps[0].settings
    assert isinstance(first, RunSettings) and first.size == 5_000_000 and first.modes == ("batch", "threads")
    half = plan(settings.with_scale(0.5), [PY311], PY311)
    assert isinstance(half[0].settings, RunSettings) and half[0].settings.size == 2_500_000
    assert [s.classic for s in plan(settings, [PY311], PY311)] == ["countdown", "countdown"]
    assert estimate_seconds(settings, 2.0, [PY311, PY313, PY313T], PY311) > estimate_seconds(
        settings, 2.0, [PY311], PY311
    )


def test_a_result_round_trips_through_its_dict_and_json_and_has_the_issues_shape() -> None:
    result = a_result()
    assert isinstance(result, LabResult) and result.lab == "classics"
    data = json.loads(result.to_json())
    assert {
        "schema_version",
        "classics",
        "machine",
        "run_id",
        "created",
        "status",
        "message",
        "settings",
    } <= set(data)
    assert data["kind"] == data["lab"] == "classics"
    assert [entry["name"] for entry in data["classics"]] == list(CLASSIC_NAMES)
    back = ClassicsResult.from_dict(data)
    assert back == result and back.to_dict() == result.to_dict()
    summary = result.listing()
    assert summary.lab == "classics" and summary.run_id == "classics01" and summary.headline is not None


def test_a_record_of_another_lab_or_version_is_refused_in_one_line() -> None:
    data = a_result().to_dict()
    with pytest.raises(ResultsFormatError, match="kind"):
        ClassicsResult.from_dict({**data, "kind": "convoy"})
    with pytest.raises(ResultsFormatError, match="schema version 9"):
        ClassicsResult.from_dict({**data, "schema_version": 9})
    with pytest.raises(ResultsFormatError, match="not a GIL Lab classics result"):
        ClassicsResult.from_dict({**data, "steps": [{"classic": "x"}]})


def test_every_csv_row_has_its_lab_and_run_id_and_reads_back_typed() -> None:
    result = a_result(missing={"fastapi": "no web here"})
    rows = result.csv_rows()
    assert rows and all(row["lab"] == "classics" and row["run_id"] == "classics01" for row in rows)
    assert len(rows) == sum(max(1, len(record.compare)) for record in result.records())
    (table,) = read_rows(to_csv([result]))
    assert len(table) == len(rows)
    assert any(row.values["agrees"] is True for row in table)
    assert any(row.values["what"] == "no web here" for row in table)


# --- the runner, with stand-in children


def fake_run(settings: ClassicsSettings, **options: Any) -> ClassicsRun:
    FakeChild.started, FakeChild.open_now = [], 0
    return ClassicsRun(settings, [PY313, PY313T], own=PY311, experiment=FakeChild, **options)


def test_the_runner_runs_each_step_in_order_one_child_at_a_time_and_builds_the_records() -> None:
    run = fake_run(ClassicsSettings.create(classics="countdown,free-threaded"))
    events = []
    result = run.wait(events.append, timeout=0.01)
    assert FakeChild.started == [
        "countdown/3.13",
        "countdown/3.13",
        "countdown/3.13t",
        "countdown/3.13t",
        "squares/3.13",
        "squares/3.13t",
    ]
    assert result.status == "complete" and len(result.outcomes) == 6 and FakeChild.open_now == 0
    assert sum(1 for e in events if e["event"] == "classic_step_finished") == 6
    assert all("classic" in event and "step" in event for event in events)
    rows = result.record("countdown").to_dict()["measured"]["pythons"]
    assert [row["python"] for row in rows] == ["3.13", "3.13t"] and rows[0][
        "threads2_ratio"
    ] == pytest.approx(1.04)
    assert result.record("free-threaded").measured["cost"] == pytest.approx(0.0)


def test_a_classic_the_interpreters_cannot_run_is_recorded_missing_and_the_rest_run() -> None:
    run = ClassicsRun(
        ClassicsSettings.create(classics="stinner,countdown"), [PY311], own=PY311, experiment=FakeChild
    )
    FakeChild.started, FakeChild.open_now = [], 0
    result = run.wait(timeout=0.01)
    assert "3.12 or later" in result.missing["stinner"] and FakeChild.started == ["countdown/3.11"] * 2
    assert result.record("stinner").why.startswith("Not run here")


def test_cancel_ends_the_current_child_and_keeps_what_was_measured() -> None:
    run = fake_run(ClassicsSettings.create(classics="countdown")).start()
    run.poll(0.01)
    run.poll(0.01)  # the first step finishes, the second starts
    run.cancel()
    assert run.status == "cancelled" and FakeChild.open_now == 0
    result = run.result()
    assert result.status == "cancelled" and result.outcomes[0].status == "complete"


def test_the_deadline_cuts_the_run_short_and_is_passed_on_to_each_child() -> None:
    run = fake_run(ClassicsSettings.create(classics="countdown"), deadline_s=60.0).start()
    assert run._current.deadline_s == pytest.approx(60.0, abs=1.0)
    run.deadline_s = 0.0
    run.poll(0.01)
    assert run.status == "cut_short" and "cut short" in (run.message or "") and FakeChild.open_now == 0
