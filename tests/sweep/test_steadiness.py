"""A sweep point taken on an unsteady machine: marked, kept through JSON and CSV, drawn hollow."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any, cast

from sweep.sweep_factories import (
    FakeExperiment,
    fake_sweep,
    gil_model,
    interpreter,
    run_to_end,
    sweep_settings,
)

from lab.app.charts.sweep import scaling_figure
from lab.core.steadiness import judge
from lab.engine.results import RunResult
from lab.engine.settings import RunSettings
from lab.sweep import csvio as sweep_csv
from lab.sweep.report import sweep_takeaway
from lab.sweep.results import SweepResult
from lab.sweep.runner import Sweep


def test_a_point_whose_round_ran_on_an_unsteady_machine_is_unsteady_and_drawn_hollow() -> None:
    settings = sweep_settings(workers="1,2", repeats=2)
    steps = settings.steps()
    unsteady_step = next(i for i, step in enumerate(steps) if step.workers == 2)

    class Metered(FakeExperiment):
        def result(self) -> RunResult:
            index = made.index(self)
            calibrations = (2.0, 3.0) if index == unsteady_step else (2.0, 2.02)
            return replace(super().result(), steadiness=judge(calibrations, 0.0, 0.0))

    made: list[Metered] = []

    def make(run_settings: RunSettings, **kwargs: Any) -> Metered:
        experiment = Metered(run_settings, round_=steps[len(made)].round, timing=gil_model, **kwargs)
        made.append(experiment)
        return experiment

    result = run_to_end(Sweep(settings, [interpreter("3.11")], experiment=cast(Any, make)))
    steady = {(point.mode, point.workers): point.steady for point in result.points}
    assert steady == {
        ("threads", 1): True,
        ("threads", 2): False,
        ("processes", 1): True,
        ("processes", 2): False,
    }
    again = SweepResult.from_json(result.to_json())
    assert [point.steady for point in again.points] == [point.steady for point in result.points]
    (imported,) = sweep_csv.from_csv(sweep_csv.to_csv([result]))
    assert [point.steady for point in imported.points] == [point.steady for point in result.points]
    figure = scaling_figure(result)
    symbols = [list(trace.marker.symbol) for trace in figure.data if trace.mode == "lines+markers"]
    assert symbols and all(row[-1].endswith("-open") and not row[0].endswith("-open") for row in symbols)
    said = [sentence for sentence in sweep_takeaway(result) if "not steady" in sentence]
    assert said == [
        "2 of 4 points were measured while the machine was not steady (its speed changed, or other work "
        "took cores): they are drawn hollow and weigh less in the fit; compare their speedups with care, "
        "or run again."
    ]
    unsteady = replace(result, points=tuple(replace(point, steady=False) for point in result.points))
    assert any(
        sentence.startswith("All 4 points were measured while") for sentence in sweep_takeaway(unsteady)
    )


def test_a_sweep_csv_from_before_the_steadiness_meter_still_imports() -> None:
    result = run_to_end(fake_sweep(sweep_settings(workers="1,2", repeats=2))[0])
    rows = list(csv.DictReader(io.StringIO(sweep_csv.to_csv([result]))))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, [name for name in rows[0] if name != "steady"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    (imported,) = sweep_csv.from_csv(buffer.getvalue())
    assert all(point.steady is None for point in imported.points) and imported.points


def test_a_sweep_whose_points_ran_steady_or_unmetered_says_nothing_of_steadiness() -> None:
    result = run_to_end(fake_sweep(sweep_settings(workers="1,2", repeats=1))[0])
    marked = tuple(replace(point, steady=True if n % 2 else None) for n, point in enumerate(result.points))
    steady = replace(result, points=marked)
    for sweep in (result, steady):
        assert not any("not steady" in sentence for sentence in sweep_takeaway(sweep))
