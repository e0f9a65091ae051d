"""The scaling sweep's engine: its settings, its order, its merge into points, its fits, its files, its rules.

Most tests drive `Sweep` with a stand-in experiment whose seconds follow a
known model (GIL-bound threads: n workers take as long as one; processes:
the work divides over min(n, cores)), so the plan, the merge and the fits are
checked exactly and fast. The real sweeps at the end measure this machine and
are marked `timing` and `slow`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import pytest
from factories import make_machine
from timing_tries import points_steadiness, until_good

from lab.app.charts.scaling import scaling_figure
from lab.core.errors import InvalidSettings, OverBudget, ResultsFormatError
from lab.core.events import Event
from lab.core.interpreters import Interpreter, RunInterpreter
from lab.core.steadiness import judge
from lab.engine import protocol
from lab.engine.results import ModeRun, RunResult
from lab.engine.runner import ModeProgress
from lab.engine.settings import RunSettings
from lab.engine.spans import TaskSpan
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits
from lab.sweep import csvio as sweep_csv
from lab.sweep.report import sweep_table, sweep_takeaway
from lab.sweep.results import SweepResult
from lab.sweep.runner import Sweep
from lab.sweep.settings import SweepSettings, parse_worker_counts

CORES = 2.0
TASK_S = 0.1
Timing = Callable[[str, int, int, int], float]  # (mode, workers, tasks, round) -> seconds


def gil_model(mode: str, workers: int, tasks: int, round_: int) -> float:
    """Threads hold the GIL (n workers take as long as one); processes share the work over the cores."""
    parallel = 1.0 if mode == "threads" else min(workers, CORES)
    return tasks * TASK_S / parallel * (1 + 0.01 * round_)


def interpreter(name: str, free_threaded: bool = False) -> Interpreter:
    return Interpreter(
        name=name,
        path=f"/usr/bin/python{name}",
        version=name.rstrip("t") + ".0",
        implementation="CPython",
        free_threaded=free_threaded,
        gil_enabled_by_default=not free_threaded,
        subinterpreters="_interpreters",
        start_method="fork",
        sources=("PATH",),
        usable=True,
        problem=None,
    )


class FakeExperiment:
    """An experiment that 'measures' its modes by a timing model, finishing on its first poll.

    Every one made is logged, so a test can read the order the sweep ran them in.
    """

    def __init__(
        self,
        settings: RunSettings,
        *,
        round_: int,
        timing: Timing,
        interpreter: Interpreter,
        target_url: str | None = None,
        deadline_s: float | None = None,
        public: bool = False,
        fail: Callable[[str, int], int] | None = None,
        crash: bool = False,
    ) -> None:
        self.settings = settings
        self.round = round_
        self.timing = timing
        self.interpreter = interpreter
        self.deadline_s = deadline_s
        self.fail = fail
        self.crash = crash
        self.status: str | None = None
        self.started = self.closed = False

    @property
    def done(self) -> bool:
        return self.status is not None

    def start(self) -> FakeExperiment:
        self.started = True
        return self

    def runs(self) -> list[ModeRun]:
        runs = []
        for mode in self.settings.modes[:1] if self.crash else self.settings.modes:
            n, tasks = self.settings.workers or 1, self.settings.tasks
            seconds = self.timing(mode, n, tasks, self.round)
            failed = self.fail(mode, n) if self.fail else 0
            spans = tuple(
                TaskSpan(
                    i, "w", 1, 0.0, seconds, seconds / tasks, i >= failed, None if i >= failed else "boom"
                )
                for i in range(tasks)
            )
            cpu = seconds * (1.0 if mode == "threads" else min(n, CORES))
            runs.append(ModeRun(mode, 0, seconds, 0.001, cpu, n, spans))
        return runs

    def poll(self, timeout: float = 0.1) -> list[Event]:
        if self.done:
            return []
        self.status = "crashed" if self.crash else "complete"
        return [
            {"event": protocol.MODE_FINISHED, "mode": run.mode, "run": run.to_dict()} for run in self.runs()
        ]

    def progress(self) -> list[ModeProgress]:
        return []

    def cancel(self, message: str | None = None) -> None:
        self.status = self.status or "cancelled"
        self.close()

    def close(self) -> None:
        self.closed = True

    def result(self) -> RunResult:
        return RunResult(
            settings=self.settings,
            machine=make_machine(CORES),
            runs=tuple(self.runs()),
            status=self.status or "cancelled",
            message="the experiment's process ended early" if self.crash else None,
            interpreter=RunInterpreter(self.interpreter.name, "3.13.0", "CPython", False, True, "/p"),
        )


def fake_sweep(
    settings: SweepSettings,
    interpreters: list[Interpreter] | None = None,
    timing: Timing = gil_model,
    *,
    deadline_s: float | None = None,
    fail: Callable[[str, int], int] | None = None,
    crash_at: int | None = None,
) -> tuple[Sweep, list[FakeExperiment]]:
    """A sweep over stand-in experiments, and the log of every experiment it made, in order."""
    log: list[FakeExperiment] = []
    steps = settings.steps()

    def make(run_settings: RunSettings, **kwargs: Any) -> FakeExperiment:
        index = len(log)
        made = FakeExperiment(
            run_settings,
            round_=steps[index].round,
            timing=timing,
            fail=fail,
            crash=index == crash_at,
            **kwargs,
        )
        log.append(made)
        return made

    chosen = interpreters or [interpreter("3.11")]
    return Sweep(settings, chosen, deadline_s=deadline_s, experiment=cast(Any, make)), log


def run_to_end(sweep: Sweep) -> SweepResult:
    sweep.start()
    while not sweep.done:
        sweep.poll(0.01)
    return sweep.result()


def sweep_settings(**options: Any) -> SweepSettings:
    base = RunSettings.create("squares")
    return SweepSettings.create(base, **{"workers": "1,2,4", "repeats": 3, "size": 100_000, **options})


# --- settings ------------------------------------------------------------------------------------------


def test_worker_counts_are_sorted_and_1_is_added_when_missing() -> None:
    assert parse_worker_counts("4,2") == ((1, 2, 4), True)
    assert parse_worker_counts([1, 8, 2]) == ((1, 2, 8), False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0,1,2", "start at 1, got 0"),
        ("1,-2", "start at 1, got -2"),
        ("1,2,2", "2 appears twice"),
        ("1,two", "whole numbers"),
        ("1", "a worker count above 1"),
        ("1,2,3,4,5,6,7,8,9", "at most 8 worker counts"),
        ("1,65", "at most 64 workers"),
    ],
)
def test_bad_worker_counts_are_refused_in_one_line(value: str, message: str) -> None:
    with pytest.raises(InvalidSettings, match=message) as caught:
        parse_worker_counts(value)
    assert "\n" not in str(caught.value)


def test_strong_scaling_shares_a_multiple_of_every_count_and_weak_scaling_fixes_each_workers_share() -> None:
    strong = sweep_settings(workers="1,2,3")
    assert strong.base.tasks == 6 and strong.base.tasks % 2 == strong.base.tasks % 3 == 0
    assert [strong.tasks_at(n) for n in strong.workers] == [6, 6, 6]
    assert sweep_settings(workers="1,2,4,8").base.tasks == 8
    weak = sweep_settings(scale="weak", tasks_per_worker=3)
    assert [weak.tasks_at(n) for n in weak.workers] == [3, 6, 12]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"tasks": 6}, "use a multiple of 4, such as 8"),
        ({"scale": "weak", "tasks": 4}, "set --tasks-per-worker, not --tasks"),
        ({"tasks_per_worker": 2}, "is for --scale weak"),
        ({"modes": "threads,batch"}, "unknown sweep mode 'batch'"),
        ({"scale": "wide"}, "strong or weak"),
        ({"workers": "1,7,9,11,13,17"}, "choose counts that divide each other"),
    ],
)
def test_settings_a_sweep_cannot_run_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        sweep_settings(**options)


def test_a_sweep_refuses_a_base_that_fixes_its_own_pool_sizes() -> None:
    with pytest.raises(InvalidSettings, match="sets the thread and process counts itself"):
        SweepSettings.create(RunSettings.create("squares", threads=4), workers="1,2")


def test_interpreter_choices_take_the_runs_gil_switch_unless_they_name_their_own() -> None:
    base = RunSettings.create("squares", gil="on")
    settings = SweepSettings.create(base, workers="1,2", pythons=["3.13t", "3.13t:gil=off,3.12"])
    assert [choice.label for choice in settings.pythons] == ["3.13t:gil=on", "3.13t:gil=off", "3.12:gil=on"]


def test_squares_gets_a_smaller_default_size_for_a_sweep_but_keeps_one_that_was_chosen() -> None:
    default = SweepSettings.create(RunSettings.create("squares"), workers="1,2")
    chosen = SweepSettings.create(RunSettings.create("squares"), workers="1,2", size=3_000_000)
    assert default.base.size == 1_000_000 and chosen.base.size == 3_000_000
    with pytest.raises(InvalidSettings, match="--size must be between"):
        SweepSettings.create(RunSettings.create("squares"), workers="1,2", size=0)


# --- the order -----------------------------------------------------------------------------------------


def test_points_run_round_robin_over_counts_and_interpreters_with_the_modes_rotating_each_round() -> None:
    settings = sweep_settings(repeats=2, pythons="3.11,3.12")
    sweep, log = fake_sweep(settings, [interpreter("3.11"), interpreter("3.12")])
    run_to_end(sweep)
    order = [(e.round, e.settings.workers, e.interpreter.name, e.settings.modes) for e in log]
    assert order == [
        (0, 1, "3.11", ("threads", "processes")),
        (0, 1, "3.12", ("threads", "processes")),
        (0, 2, "3.11", ("threads", "processes")),
        (0, 2, "3.12", ("threads", "processes")),
        (0, 4, "3.11", ("threads", "processes")),
        (0, 4, "3.12", ("threads", "processes")),
        (1, 1, "3.11", ("processes", "threads")),
        (1, 1, "3.12", ("processes", "threads")),
        (1, 2, "3.11", ("processes", "threads")),
        (1, 2, "3.12", ("processes", "threads")),
        (1, 4, "3.11", ("processes", "threads")),
        (1, 4, "3.12", ("processes", "threads")),
    ]
    assert all(e.started and e.done for e in log)


def test_each_point_runs_its_worker_count_as_both_pool_sizes_once_per_round() -> None:
    sweep, log = fake_sweep(sweep_settings())
    run_to_end(sweep)
    for experiment in log:
        run = experiment.settings
        assert run.threads == run.workers and run.repeats == 1 and run.tasks == 4
        assert run.python is None


def test_the_deadline_left_is_passed_on_to_each_experiment() -> None:
    sweep, log = fake_sweep(sweep_settings(repeats=1), deadline_s=60.0)
    run_to_end(sweep)
    deadlines = [experiment.deadline_s or 0 for experiment in log]
    assert all(0 < seconds <= 60 for seconds in deadlines)
    assert deadlines == sorted(deadlines, reverse=True)


# --- points and fits -----------------------------------------------------------------------------------


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


def test_a_poor_fit_prints_its_reason_instead_of_a_number() -> None:
    def falling(mode: str, workers: int, tasks: int, round_: int) -> float:
        return tasks * TASK_S * workers  # every added worker makes it slower: no model fits

    result = run_to_end(fake_sweep(sweep_settings(), timing=falling)[0])
    table = sweep_table(result)
    assert "no serial fraction: speedup falls as workers are added" in table
    assert "serial fraction of" not in " ".join(sweep_takeaway(result))


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


# --- ending early --------------------------------------------------------------------------------------


def test_a_crashed_experiment_ends_the_sweep_and_keeps_what_was_measured() -> None:
    sweep, log = fake_sweep(sweep_settings(), crash_at=1)
    result = run_to_end(sweep)
    assert result.status == "crashed" and len(log) == 2
    assert {(p.mode, p.workers) for p in result.points} == {("threads", 1), ("processes", 1), ("threads", 2)}
    assert "crashed before it finished" in sweep_takeaway(result)[0]


def test_cancel_ends_the_current_experiment_and_reports_the_sweep_cancelled() -> None:
    sweep, log = fake_sweep(sweep_settings())
    sweep.start()
    sweep.poll(0.01)
    sweep.cancel("stopped by the test")
    assert sweep.done and sweep.status == "cancelled" and log[-1].closed
    assert sweep.poll(0.01) == []
    assert sweep.result().message == "stopped by the test"


def test_events_say_which_point_they_belong_to() -> None:
    sweep, _ = fake_sweep(sweep_settings(repeats=1))
    sweep.start()
    events = sweep.poll(0.01) + sweep.poll(0.01)
    assert [(e["mode"], e["workers"], e["round"], e["interpreter"]) for e in events] == [
        ("threads", 1, 0, "3.11"),
        ("processes", 1, 0, "3.11"),
        ("threads", 2, 0, "3.11"),
        ("processes", 2, 0, "3.11"),
    ]
    progress = {(row.mode, row.workers): row for row in sweep.progress()}
    assert progress[("threads", 2)].rounds_done == 1 and progress[("threads", 2)].state == "finished"
    assert progress[("threads", 4)].state == "waiting"


# --- files ---------------------------------------------------------------------------------------------


def measured(**options: Any) -> SweepResult:
    return run_to_end(fake_sweep(sweep_settings(**options))[0])


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


def test_the_csv_has_one_row_per_point_and_reads_back_to_the_same_sweeps_and_text() -> None:
    first, second = measured(), measured(scale="weak", pythons=None)
    text = sweep_csv.to_csv([first, second])
    lines = text.strip().splitlines()
    assert len(lines) == 1 + len(first.points) + len(second.points)
    header = lines[0].split(",")
    assert "scale" in header and "endpoint" not in header and "serial_fraction" in header
    assert len(header) == len(set(header)) == len(sweep_csv.COLUMNS)
    again = sweep_csv.from_csv(text)
    assert again == [first, second]
    assert sweep_csv.to_csv(again) == text
    assert sweep_csv.from_csv(text.encode("utf-8")) == again


def test_a_sweep_with_no_points_still_writes_one_row_and_reads_back() -> None:
    sweep, _ = fake_sweep(sweep_settings())
    sweep.start()
    sweep.cancel()
    empty = sweep.result()
    assert empty.points == ()
    text = sweep_csv.to_csv([empty])
    assert len(text.strip().splitlines()) == 2
    assert sweep_csv.from_csv(text) == [empty]


def edit_cell(text: str, line: int | None, column: str, value: str) -> str:
    """The CSV with one cell changed (`line` counts the header as 1), or the column in every row (None)."""
    rows = list(csv.reader(io.StringIO(text)))
    for number, row in enumerate(rows[1:], start=2):
        if line in (None, number):
            row[rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (2, "seconds", "fast", "line 2, column seconds: must be a number"),
        (3, "seconds_min", "9.0", "line 3: seconds lie outside min..max"),
        (3, "scale", "weak", "line 3: the run has a different scale than above"),
        (2, "schema_version", "7", "line 2: the sweep CSV has schema version '7'"),
        (None, "status", "exploded", "line 2: unknown status 'exploded'"),
        (2, "workers", "", "line 2: column workers is empty"),
        (2, "mode", "batch", "invalid sweep settings|did not run"),
        (None, "worker_counts", "1;2", "line 2: invalid sweep settings: --workers takes whole numbers"),
        (3, "worker_counts", "1,2", "line 3: the run has a different worker_counts than above"),
        (None, "worker_counts", "2,4", "line 2: invalid sweep settings: its worker counts have no 1"),
    ],
)
def test_a_damaged_csv_imports_nothing_and_says_where_in_one_line(
    line: int | None, column: str, value: str, message: str
) -> None:
    text = sweep_csv.to_csv([measured()])
    with pytest.raises(ResultsFormatError, match=message) as caught:
        sweep_csv.from_csv(edit_cell(text, line, column, value))
    assert "\n" not in str(caught.value)


def test_a_csv_of_another_lab_is_not_taken_for_a_sweep() -> None:
    with pytest.raises(ResultsFormatError, match="not a GIL Lab sweep CSV: missing columns"):
        sweep_csv.from_csv("schema_version,run_id,mode\n2,abc,batch\n")


# --- public mode ---------------------------------------------------------------------------------------

PUBLIC = Hosting(public=True, limits=Limits(max_processes=4, max_work_seconds=30.0), usable_cores=2.0)
PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


def test_private_hosting_admits_any_valid_sweep_unchanged() -> None:
    big = sweep_settings(workers="1,2,4,8,16,32,64", repeats=50, size=100_000_000)
    assert PRIVATE.admit(big) == big


def test_public_mode_admits_a_small_sweep() -> None:
    small = sweep_settings(size=100_000)
    assert PUBLIC.admit(small) == replace(small, base=replace(small.base, max_body_bytes=16 * 1024 * 1024))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"workers": "1,2,4,8"}, InvalidSettings, "at most 4 processes here; drop the worker counts above 4"),
        ({"repeats": 9}, InvalidSettings, "at most 5 repeats here; lower Repeats"),
        (
            {"size": 10_000_000, "workers": "1,2,4"},
            OverBudget,
            r"this run would take about \d+ s of work; the limit here is 30 s — lower Repeats, worker counts",
        ),
    ],
)
def test_public_mode_refuses_a_sweep_over_its_limits_saying_what_to_lower(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        PUBLIC.admit(sweep_settings(**options))
    assert "\n" not in str(caught.value)


def test_public_mode_counts_every_point_of_the_sweep_against_one_budget() -> None:
    one_round = sweep_settings(size=3_000_000, repeats=1)
    estimate = one_round.estimate_seconds(PUBLIC.estimate_seconds)
    assert estimate < 30 < estimate * 5  # each round fits alone; five of them do not
    PUBLIC.admit(one_round)
    with pytest.raises(OverBudget):
        PUBLIC.admit(replace(one_round, base=replace(one_round.base, repeats=5)))


def test_public_mode_refuses_a_visitors_own_function_in_a_sweep() -> None:
    base = RunSettings.create("json:dumps", args="[1]")
    with pytest.raises(InvalidSettings, match="never runs a visitor's own code"):
        PUBLIC.admit(SweepSettings.create(base, workers="1,2"))


# --- real sweeps on this machine -----------------------------------------------------------------------


def first_good(run: Callable[[], SweepResult], good: Callable[[SweepResult], bool]) -> SweepResult:
    """The first good sweep of up to five on quiet cores (the last one when none is)."""
    tries = until_good(run, good, steadiness=lambda r: points_steadiness([p.steady for p in r.points]))
    if not good(tries[-1]):
        print(
            f"noisy sweeps: {[[(line.mode, line.fit.serial_fraction) for line in r.fits()] for r in tries]}; "
            + tries.report
        )
    return tries[-1]


def real_sweep(workload: str, size: int, modes: str, **options: Any) -> SweepResult:
    base = RunSettings.create(workload)
    settings = SweepSettings.create(
        base, modes=modes, size=size, **{"workers": "1,2,4", "repeats": 3, **options}
    )
    sweep = Sweep(settings)
    try:
        return run_to_end(sweep)
    finally:
        sweep.close()


def serial(result: SweepResult, mode: str) -> float:
    fit = next(line.fit for line in result.fits() if line.mode == mode)
    return math.nan if fit.serial_fraction is None else fit.serial_fraction


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_pure_python_threads_fit_a_serial_fraction_near_one_and_processes_near_zero() -> None:
    """The relation, with a bound generous to a host whose cores slow down unseen (no steal time shows).

    The issue's own command and its 0.25 are checked in tests/cli/test_sweep.py.
    """
    result = first_good(
        lambda: real_sweep("squares", 1_000_000, "threads,processes"),
        lambda r: serial(r, "threads") > 0.7 and serial(r, "processes") < 0.4,
    )
    assert result.status == "complete" and result.all_ok
    assert serial(result, "threads") > 0.7
    assert serial(result, "processes") < 0.4


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_sha256_threads_release_the_gil_and_fit_a_serial_fraction_near_zero() -> None:
    result = first_good(
        lambda: real_sweep("sha256", 64 * 1024 * 1024, "threads", tasks=8),
        lambda r: serial(r, "threads") < 0.25,
    )
    assert result.all_ok
    assert serial(result, "threads") < 0.25


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_weak_scaling_keeps_processes_efficient_and_halves_gil_bound_threads() -> None:
    def efficiency_at_two(result: SweepResult, mode: str) -> float:
        point = next(p for p in result.line_points(mode, result.interpreters[0]) if p.workers == 2)
        return result.efficiency(point) or math.nan

    result = first_good(
        lambda: real_sweep(
            "squares", 1_000_000, "threads,processes", workers="1,2", scale="weak", tasks_per_worker=2
        ),
        lambda r: efficiency_at_two(r, "processes") > 0.7 and efficiency_at_two(r, "threads") < 0.7,
    )
    assert [p.tasks for p in result.line_points("threads", result.interpreters[0])] == [2, 4]
    assert efficiency_at_two(result, "processes") > 0.7
    assert efficiency_at_two(result, "threads") < 0.7


# --- steadiness --------------------------------------------------------------------------------------


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


def test_a_sweep_csv_from_before_the_steadiness_meter_still_imports() -> None:
    result = run_to_end(fake_sweep(sweep_settings(workers="1,2", repeats=2))[0])
    rows = list(csv.DictReader(io.StringIO(sweep_csv.to_csv([result]))))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, [name for name in rows[0] if name != "steady"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    (imported,) = sweep_csv.from_csv(buffer.getvalue())
    assert all(point.steady is None for point in imported.points) and imported.points
