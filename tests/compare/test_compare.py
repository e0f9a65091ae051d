"""Comparing interpreters: choices parsed, rounds interleaved and merged, results that read back whole."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

import pytest
from factories import squares_result

from lab.app.history import import_any_csv
from lab.compare.report import compare_table
from lab.compare.results import CompareResult
from lab.compare.runner import Comparison
from lab.compare.settings import CompareSettings, parse_pythons
from lab.compare.takeaway import compare_takeaway
from lab.core.errors import InvalidSettings
from lab.core.interpreters import PythonChoice, RunInterpreter, current_interpreter
from lab.engine.results import RunResult
from lab.engine.settings import RunSettings
from lab.run.csvio import to_csv

BASE = RunSettings.create(
    "squares", tasks=8, size=1000, modes="batch,threads", repeats=2
)  # as squares_result()


def test_choices_name_an_interpreter_and_its_gil_switch() -> None:
    assert parse_pythons("3.11, 3.13t:gil=off,3.13t:gil=on") == (
        PythonChoice("3.11"),
        PythonChoice("3.13t", "off"),
        PythonChoice("3.13t", "on"),
    )
    assert PythonChoice("3.13t", "off").label == "3.13t:gil=off"


@pytest.mark.parametrize(
    "text, words",
    [("3.11", "at least two"), ("3.11,3.13t:gil=maybe", "gil=on or gil=off"), (":gil=on,3.11", "names no")],
)
def test_bad_choices_are_refused_in_one_line(text: str, words: str) -> None:
    with pytest.raises(InvalidSettings, match=words):
        parse_pythons(text)


class FakeExperiment:
    """Stands in for the worker: finishes at once with a result named after its interpreter."""

    started: ClassVar[list[tuple[str | None, str | None]]] = []

    def __init__(self, settings: RunSettings, **options: Any) -> None:
        self.settings = settings
        self.done = False
        FakeExperiment.started.append((settings.python, settings.gil))

    def start(self) -> FakeExperiment:
        return self

    def poll(self, timeout: float = 0.1) -> list[dict[str, Any]]:
        self.done = True
        return [{"event": "done"}]

    def result(self) -> RunResult:
        base = squares_result()
        interpreter = RunInterpreter(
            self.settings.python or "?", "3.13.3", "CPython", True, self.settings.gil != "off", "/x"
        )
        runs = tuple(replace(run, repeat=0) for run in base.runs)
        return replace(base, settings=self.settings, runs=runs, interpreter=interpreter)

    def close(self) -> None: ...

    def cancel(self, message: str | None = None) -> None: ...


def test_rounds_run_every_interpreter_in_turn_and_merge_into_one_run_each() -> None:
    FakeExperiment.started = []
    settings = CompareSettings(BASE, parse_pythons("3.13t:gil=off,3.13t:gil=on"))
    interpreters = [current_interpreter(), current_interpreter()]
    comparison = Comparison(settings, interpreters, experiment=FakeExperiment).start()  # type: ignore[arg-type]
    while not comparison.done:
        comparison.poll(0.01)
    assert FakeExperiment.started == [("3.13t", "off"), ("3.13t", "on")] * 2  # round by round
    result = comparison.result()
    assert result.status == "complete" and len(result.runs) == 2
    off, on = result.runs
    assert off.settings.repeats == 2 and [run.repeat for run in off.runs_of("batch")] == [0, 1]
    assert off.interpreter is not None and off.interpreter.gil_enabled is False
    assert on.interpreter is not None and on.interpreter.gil_enabled is True
    assert {run.series for run in result.runs} == {result.run_id}


def fake_comparison() -> CompareResult:
    FakeExperiment.started = []
    settings = CompareSettings(replace(BASE, repeats=1), parse_pythons("3.13t:gil=off,3.13t:gil=on"))
    comparison = Comparison(settings, [current_interpreter()] * 2, experiment=FakeExperiment)  # type: ignore[arg-type]
    comparison.start()
    while not comparison.done:
        comparison.poll(0.01)
    return comparison.result()


def test_a_comparison_reads_back_from_its_json() -> None:
    result = fake_comparison()
    back = CompareResult.from_json(result.to_json())
    assert back.to_dict() == result.to_dict()


def test_a_comparisons_csv_imports_back_as_one_comparison() -> None:
    result = fake_comparison()
    history, added = import_any_csv([], to_csv(list(result.runs)))
    assert added == 1
    (back,) = history
    assert isinstance(back, CompareResult) and back.run_id == result.run_id
    assert [run.settings.gil for run in back.runs] == ["off", "on"]


def test_the_table_and_the_takeaway_speak_of_each_interpreter() -> None:
    result = fake_comparison()
    table = compare_table(result)
    assert "3.13t:gil=off" in table and "3.13t:gil=on" in table and "Single-thread cost" in table
    sentences = compare_takeaway(result)
    assert any(sentence.startswith("On 3.13t:gil=off with the GIL off") for sentence in sentences)


def slowed_batch(run: RunResult, factor: float) -> RunResult:
    """`run` as if other work had slowed its batch mode by `factor`."""
    runs = tuple(
        replace(mode_run, seconds=mode_run.seconds * factor) if mode_run.mode == "batch" else mode_run
        for mode_run in run.runs
    )
    return replace(run, runs=runs)


def test_one_binary_whose_two_batch_runs_differ_names_that_gap_as_the_noise() -> None:
    result = fake_comparison()  # 3.13t with the GIL off and on: one binary, equal batch runs
    assert not [sentence for sentence in compare_takeaway(result) if "same binary" in sentence]
    off, on = result.runs
    noisy = replace(result, runs=(off, slowed_batch(on, 1.34)))
    (noise,) = [sentence for sentence in compare_takeaway(noisy) if "same binary" in sentence]
    assert noise.startswith("3.13t:gil=off and 3.13t:gil=on are the same binary")
    assert "a gap of 34% is this machine's noise" in noise and "1 round here" in noise
    other_binary = replace(on, interpreter=replace(on.interpreter, path="/elsewhere"))
    apart = replace(result, runs=(off, slowed_batch(other_binary, 1.34)))
    assert not [sentence for sentence in compare_takeaway(apart) if "same binary" in sentence]
