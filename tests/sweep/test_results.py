"""The scaling sweep's results: rounds merged into points, the fits per line, and the JSON form."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sweep.sweep_factories import CORES, fake_sweep, interpreter, measured, run_to_end, sweep_settings

from lab.core.errors import ResultsFormatError
from lab.engine.settings import RunSettings
from lab.sweep.report import sweep_takeaway
from lab.sweep.results import SweepResult
from lab.sweep.settings import SweepSettings


def test_a_points_figures_are_the_median_fastest_and_slowest_of_its_rounds() -> None:
    result = run_to_end(fake_sweep(sweep_settings())[0])
    point = next(p for p in result.points if p.mode == "processes" and p.workers == 2)
    assert point.repeats == 3 and point.tasks == 4
    assert point.seconds == pytest.approx(0.2 * 1.01)
    assert (point.seconds_min, point.seconds_max) == pytest.approx((0.2, 0.2 * 1.02))
    assert point.cores_busy == pytest.approx(2.0)
    assert result.speedup(point) == pytest.approx(2.0)
    assert result.efficiency(point) == pytest.approx(1.0)


def test_gil_bound_threads_fit_a_serial_fraction_of_one_and_processes_of_zero() -> None:
    result = run_to_end(fake_sweep(sweep_settings())[0])
    fits = {line.mode: line.fit for line in result.fits()}
    assert fits["threads"].serial_fraction == pytest.approx(1.0, abs=0.02)
    assert fits["threads"].max_speedup == pytest.approx(1.0, abs=0.02)
    assert fits["processes"].serial_fraction == pytest.approx(0.0, abs=0.02)
    assert fits["processes"].max_speedup == pytest.approx(2.0, abs=0.05)
    takeaway = " ".join(sweep_takeaway(result))
    assert "Threads on squares have a serial fraction of 1.00" in takeaway
    assert "no thread count gets past 1.00×" in takeaway
    assert "Processes on squares have a serial fraction of 0.00" in takeaway
    assert "up to 2.00× on 2 cores" in takeaway
    assert "Past 2 usable cores" in takeaway


def test_weak_scaling_efficiency_is_the_one_worker_time_over_the_n_worker_time() -> None:
    settings = sweep_settings(scale="weak", tasks_per_worker=2)
    result = run_to_end(fake_sweep(settings)[0])
    threads = {p.workers: p for p in result.line_points("threads", "3.11")}
    processes = {p.workers: p for p in result.line_points("processes", "3.11")}
    assert [threads[n].tasks for n in (1, 2, 4)] == [2, 4, 8]
    assert result.efficiency(threads[2]) == pytest.approx(0.5, rel=0.02)
    assert result.efficiency(processes[2]) == pytest.approx(1.0, rel=0.02)
    assert result.efficiency(processes[4]) == pytest.approx(0.5, rel=0.02)
    assert result.speedup(processes[4]) == pytest.approx(2.0, rel=0.02)  # the scaled speedup, n·T1/Tn
    fits = {line.mode: line.fit for line in result.fits()}
    assert fits["threads"].model == "gustafson"
    assert fits["threads"].serial_fraction == pytest.approx(1.0, abs=0.02)
    assert fits["processes"].serial_fraction == pytest.approx(0.0, abs=0.02)
    assert "each kept 50% of the one-worker pace" in " ".join(sweep_takeaway(result))


def test_a_point_that_lost_tasks_has_no_speedup_and_stays_out_of_the_fit() -> None:
    sweep, _ = fake_sweep(sweep_settings(), fail=lambda mode, n: 2 if (mode, n) == ("processes", 4) else 0)
    result = run_to_end(sweep)
    lost = next(p for p in result.points if p.mode == "processes" and p.workers == 4)
    assert lost.failed == 6 and result.speedup(lost) is None and result.efficiency(lost) is None
    fit = result.fit("processes", "3.11")
    assert [point.workers for point in fit.points] == [1, 2]
    assert not result.all_ok
    assert "lost 6 task(s) at 4 workers" in " ".join(sweep_takeaway(result))


def test_a_line_whose_one_worker_point_lost_tasks_reports_no_serial_fraction_and_says_why() -> None:
    sweep, _ = fake_sweep(sweep_settings(), fail=lambda mode, n: 1 if (mode, n) == ("threads", 1) else 0)
    result = run_to_end(sweep)
    fit = result.fit("threads", "3.11")
    assert fit.quality == "poor" and fit.serial_fraction is None
    assert "one-worker point lost tasks" in fit.reason
    sentences = " ".join(sweep_takeaway(result))
    assert "no serial fraction to report — the one-worker point lost tasks" in sentences


def test_lines_are_one_per_mode_and_interpreter_with_the_gil_switch_in_the_label() -> None:
    base = RunSettings.create("squares", size=100_000)
    settings = SweepSettings.create(base, workers="1,2", pythons="3.13t:gil=off,3.13t:gil=on", repeats=1)
    free = interpreter("3.13t", free_threaded=True)
    result = run_to_end(fake_sweep(settings, [free, free])[0])
    assert result.interpreters == ("3.13t:gil=off", "3.13t:gil=on")
    assert result.lines() == [
        ("threads", "3.13t:gil=off"),
        ("threads", "3.13t:gil=on"),
        ("processes", "3.13t:gil=off"),
        ("processes", "3.13t:gil=on"),
    ]
    assert "under 3.13t:gil=off" in " ".join(sweep_takeaway(result))


def test_the_json_form_has_the_documented_fields_and_reads_back_losslessly() -> None:
    result = measured()
    data = json.loads(result.to_json())
    assert data["schema_version"] == 1 and data["scale"] == "strong" and data["kind"] == "sweep"
    point_keys = {
        "mode",
        "interpreter",
        "workers",
        "seconds",
        "min",
        "max",
        "speedup",
        "efficiency",
        "cores_busy",
    }
    assert point_keys <= set(data["points"][0])
    fit_keys = {
        "mode",
        "interpreter",
        "serial_fraction",
        "serial_fraction_err",
        "max_speedup",
        "quality",
        "reason",
    }
    assert fit_keys <= set(data["fits"][0])
    assert data["machine"]["usable_cores"] == CORES
    assert SweepResult.from_json(result.to_json()) == result
    weak = measured(scale="weak")
    assert SweepResult.from_json(weak.to_json(indent=2)) == weak


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(kind="compare"), "its kind is not 'sweep'"),
        (lambda d: d.update(schema_version=9), "schema version 9"),
        (lambda d: d["points"][0].update(min=5.0), "outside min..max"),
        (lambda d: d["points"][0].update(workers=3), "did not list"),
        (lambda d: d["points"][1].update(workers=1), "appears twice"),
        (lambda d: d.update(status="exploded"), "unknown status"),
        (lambda d: d["settings"].update(workers=[1, 1]), "appears twice"),
        (lambda d: d["points"][0].update(tasks=3), "3 tasks at 1 workers"),
        (lambda d: d["settings"]["base"].update(tasks=5), "does not split evenly over 1,2,4 workers"),
        (lambda d: d["settings"]["base"].update(modes=["batch"]), "unknown sweep mode 'batch'"),
        (lambda d: d["settings"].update(workers=[2, 4]), "start at 1 and rise"),
    ],
)
def test_a_damaged_json_sweep_is_refused_in_one_line(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = measured().to_dict()
    change(data)
    with pytest.raises(ResultsFormatError, match=message):
        SweepResult.from_dict(data)
