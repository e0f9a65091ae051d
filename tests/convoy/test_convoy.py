"""The convoy lab's engine: settings, results, CSV, the takeaway, its processes, and the physics it measures.

The physics tests run real points (a probe process, a client, the X-ray) and
assert relations with generous bounds, each up to five tries on quiet cores: a busy
neighbour on a shared machine can only make a reply slower, so a relation that
needs a fast reply passes once any try was undisturbed. The free-threaded
3.13t that `scripts/build-free-threaded-python` builds must be on the machine
(CI builds it before the tests): missing, its test fails rather than skips.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from factories import make_machine
from timing_tries import until_good

from lab.convoy import csvio as convoy_csv
from lab.convoy.report import takeaway, to_table
from lab.convoy.results import ConvoyPoint, ConvoyResult, PointSummary, percentile
from lab.convoy.runner import Convoy, run_convoy
from lab.convoy.settings import MAX_CPU_THREADS, ConvoySettings
from lab.core.errors import InvalidSettings, OverBudget, ResultsFormatError, RunFailed
from lab.core.interpreters import Interpreter, RunInterpreter, current_interpreter
from lab.core.procs import group_members
from lab.hosting.admission import Hosting, discovered
from lab.hosting.limits import Limits
from lab.web import csvio as web_csv

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


# --- synthetic results, shaped like real ones


def xray_figures(cpu_threads: int, gil_wait: float) -> dict[str, Any]:
    """A window's figures as `WindowFigures.to_dict()` gives them: the probe and its CPU threads."""

    def thread(tid: int, worker: str, on_cpu: float, gil: float, io: float) -> dict[str, Any]:
        if worker == "probe":
            segments = [[10.0, 10.0 + gil, "gil_or_lock"], [10.0 + gil, 11.0, "io"]]
        else:
            segments = [[10.0, 11.0, "on_cpu"]]
        return {
            "pid": 100,
            "tid": tid,
            "name": worker,
            "worker": worker,
            "task": True,
            "on_cpu": on_cpu,
            "waiting_for_core": 0.0,
            "gil_or_lock": gil,
            "io": io,
            "sleep": 0.0,
            "other": 0.0,
            "unknown": round(1.0 - on_cpu - gil - io, 9),
            "voluntary_switches": 0,
            "nonvoluntary_switches": 0,
            "segments": segments,
        }

    threads = [thread(101, "probe", 0.0, gil_wait, 1.0 - gil_wait)]
    threads += [thread(102 + n, f"cpu-{n + 1}", 1.0 / cpu_threads, 0.0, 0.0) for n in range(cpu_threads)]
    return {
        "t0": 10.0,
        "t1": 11.0,
        "rate_hz": 250.0,
        "samples": 250,
        "mean_on_cpu": 1.0 if cpu_threads else 0.0,
        "handoffs_per_s": 10.0 * cpu_threads,
        "threads": threads,
        "others": [],
        "on_cpu_steps": [],
    }


def point(
    cpu_threads: int, interval: float, typical_ms: float, *, gil: bool = True, pings: int = 50
) -> ConvoyPoint:
    latencies = tuple(round(typical_ms * (0.8 + 0.4 * index / pings), 3) for index in range(pings))
    return ConvoyPoint(
        cpu_threads=cpu_threads,
        switch_interval_ms=interval,
        seconds=1.0,
        at=tuple(round(index * 0.02, 4) for index in range(pings)),
        latency_ms=latencies,
        lost=0,
        gil_enabled=gil,
        xray=xray_figures(cpu_threads, 0.5 if cpu_threads and gil else 0.0),
    )


def synthetic(gil: bool = True, **overrides: Any) -> ConvoyResult:
    """0, 1, 2 CPU threads x 5 and 20 ms: under the GIL the convoy; without it, none."""
    settings = ConvoySettings.create(cpu_threads="0,1,2", switch_intervals_ms="5,20", seconds=1)
    waits = {0: 0.0, 1: 1.0, 2: 2.5}
    points = tuple(
        point(count, interval, 0.1 + (waits[count] * interval if gil else 0.1), gil=gil)
        for count, interval in settings.points()
    )
    interpreter = RunInterpreter(
        name="3.11" if gil else "3.13t",
        version="3.11.9" if gil else "3.13.5",
        implementation="CPython",
        free_threaded=not gil,
        gil_enabled=gil,
        path="/usr/bin/python3",
        gil_setting=None if gil else "off",
    )
    values: dict[str, Any] = {
        "settings": settings,
        "machine": make_machine(2.0, gil_enabled=gil),
        "points": points,
        "interpreter": interpreter,
        "run_id": "convoy0001",
        "created": "2025-11-30T10:00:00+00:00",
    }
    return ConvoyResult(**(values | overrides))


# --- settings


def test_defaults_measure_four_thread_counts_at_three_switch_intervals() -> None:
    settings = ConvoySettings.create()
    assert settings.cpu_threads == (0, 1, 2, 4) and settings.switch_intervals_ms == (1.0, 5.0, 20.0)
    assert settings.points()[:4] == [(0, 1.0), (1, 1.0), (2, 1.0), (4, 1.0)] and len(settings.points()) == 12


def test_settings_are_sorted_without_repeats_and_round_trip() -> None:
    settings = ConvoySettings.create(cpu_threads="4, 0,1,1", switch_intervals_ms=[20, "0.5"], seconds="2")
    assert settings.cpu_threads == (0, 1, 4) and settings.switch_intervals_ms == (0.5, 20.0)
    assert ConvoySettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cpu_threads": "-1"}, "--cpu-threads must be between 0 and 16"),
        ({"cpu_threads": str(MAX_CPU_THREADS + 1)}, "--cpu-threads must be between"),
        ({"cpu_threads": "one"}, "--cpu-threads must be a whole number"),
        ({"cpu_threads": "0,1,2,3,4,5,6,7,8"}, "at most 8 counts"),
        ({"cpu_threads": ","}, "--cpu-threads needs at least one value"),
        ({"switch_intervals_ms": "0"}, "--switch-interval-ms must be between 0.1 and 100"),
        ({"switch_intervals_ms": "250"}, "--switch-interval-ms must be between"),
        ({"switch_intervals_ms": "fast"}, "--switch-interval-ms must be a number"),
        ({"switch_intervals_ms": "1,2,3,4,5,6,7"}, "at most 6 intervals"),
        ({"seconds": "0.1"}, "--seconds must be between 0.2 and 30"),
        ({"seconds": "31"}, "--seconds must be between"),
        ({"gil": "maybe"}, "--gil must be on or off"),
    ],
)
def test_out_of_range_settings_are_one_line_errors(values: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message) as caught:
        ConvoySettings.create(**values)
    assert "\n" not in str(caught.value)


def test_public_mode_holds_a_run_to_its_time_and_thread_budget() -> None:
    public = Hosting(public=True, limits=Limits(max_work_seconds=10.0, max_concurrency=8), usable_cores=2.0)
    small = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=1)
    assert public.admit(small) == small
    with pytest.raises(OverBudget, match="lower the duration, the CPU threads or the switch intervals"):
        public.admit(ConvoySettings.create(seconds=10))
    with pytest.raises(InvalidSettings, match="at most 8 threads here"):
        public.admit(ConvoySettings.create(cpu_threads="16", switch_intervals_ms="5", seconds=0.5))
    assert PRIVATE.admit(ConvoySettings.create(seconds=30)).seconds == 30


def test_a_gil_switch_on_a_gil_build_is_refused_before_anything_starts() -> None:
    settings = ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5", gil="off")
    gil_build = replace(current_interpreter(), free_threaded=False)
    with pytest.raises(InvalidSettings, match="not a free-threaded build"):
        Convoy(settings, interpreter=gil_build)


# --- results, JSON and CSV


def test_percentiles_interpolate_like_numpy() -> None:
    assert percentile((1.0, 2.0, 3.0, 4.0), 50) == 2.5
    assert percentile((1.0, 2.0, 3.0, 4.0), 99) == pytest.approx(3.97)
    assert percentile((), 50) is None


def test_a_point_summarises_its_round_trips_and_its_xray() -> None:
    summary = point(1, 5.0, 5.0).summary()
    assert summary.pings == 50 and summary.lost == 0
    assert summary.p50_ms == pytest.approx(5.0, rel=0.05) and summary.max_ms is not None
    assert summary.mean_ms is not None and summary.p99_ms is not None and summary.p99_ms <= summary.max_ms
    assert summary.probe_gil_share == 0.5 and summary.threads_on_cpu == 1.0 and summary.handoffs_per_s == 10.0
    silent = replace(point(1, 5.0, 5.0), at=(), latency_ms=(), lost=3, xray=None)
    assert silent.summary().p50_ms is None and silent.summary().probe_gil_share is None


def test_json_round_trip_is_exact_and_has_the_documented_fields() -> None:
    result = synthetic()
    data = result.to_dict()
    assert data["schema_version"] == 1 and data["kind"] == "convoy"
    assert set(data) >= {"points", "interpreter", "machine", "settings", "status"}
    for item in data["points"]:
        assert set(item) >= {
            "cpu_threads",
            "switch_interval_ms",
            "pings",
            "mean_ms",
            "p50_ms",
            "p99_ms",
            "max_ms",
        }
    assert ConvoyResult.from_json(result.to_json()) == result


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "no schema_version"),
        ('{"schema_version": 1, "kind": "web"}', "kind is not 'convoy'"),
        ('{"schema_version": 9, "kind": "convoy"}', "schema version 9"),
        ("nope", "not JSON"),
    ],
)
def test_json_that_is_not_a_convoy_result_is_refused(text: str, message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message):
        ConvoyResult.from_json(text)


def test_csv_round_trip_gives_back_the_same_text_and_figures() -> None:
    results = [synthetic(), synthetic(gil=False, run_id="convoy0002")]
    text = convoy_csv.to_csv(results)
    header = text.splitlines()[0].split(",")
    assert "cpu_threads" in header and "endpoint" not in header  # the page tells the labs' CSVs apart by it
    assert len(text.strip().splitlines()) == 1 + 12
    imported = convoy_csv.from_csv(text)
    assert [run.run_id for run in imported] == ["convoy0001", "convoy0002"]
    assert imported[0].summaries() == results[0].summaries()
    assert imported[0].interpreter == results[0].interpreter and imported[0].settings == results[0].settings
    assert convoy_csv.to_csv(imported) == text
    assert takeaway(imported[1]) == takeaway(results[1])


def test_a_run_that_measured_nothing_still_round_trips_through_csv() -> None:
    empty = synthetic(points=(), status="crashed", message="the probe failed")
    (imported,) = convoy_csv.from_csv(convoy_csv.to_csv([empty]))
    assert imported.summaries() == [] and imported.status == "crashed" and not imported.all_ok


def corrupt(text: str, old: str, new: str) -> str:
    """Every row of the run changed alike, so the check that fails is the one about the value."""
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.split("\n", 1)[0] + "\n", "header but no runs"),
        (lambda text: corrupt(text, ",convoy,", ",web,"), "is not a convoy run"),
        (lambda text: corrupt(text, "convoy0001,", "bad id!,"), "run_id"),
        (lambda text: corrupt(text, ",complete,", ",fine,"), "unknown status"),
        (lambda text: text.replace(",5.0,", ",7.0,", 1), "is not among the run's settings"),
        (lambda text: text.replace("cpu_threads,", "threads,", 1), "missing column cpu_threads"),
        (lambda text: text + text.splitlines()[1] + "\n", "appears twice"),
        (lambda text: corrupt(text, "0,1,2", "0,99"), "invalid settings"),
    ],
)
def test_a_broken_csv_is_refused_with_one_line(change: Callable[[str], str], message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message) as caught:
        convoy_csv.from_csv(change(convoy_csv.to_csv([synthetic()])))
    assert "\n" not in str(caught.value)


def test_another_labs_csv_is_not_a_convoy_csv() -> None:
    web = "schema_version,run_id,endpoint\n1,abc,def_wait\n"
    with pytest.raises(ResultsFormatError, match="not a GIL Lab convoy CSV: missing columns"):
        convoy_csv.from_csv(web)
    assert "cpu_threads" not in web_csv.COLUMN_NAMES


# --- the takeaway and the table


def test_the_takeaway_of_a_gil_run_tells_the_convoy_story_in_its_numbers() -> None:
    lines = takeaway(synthetic())
    text = "\n".join(lines)
    assert lines[0].startswith("With no CPU thread the probe answered at once: 0.10 ms")
    assert "about one switch interval" in lines[1]
    assert re.search(r"median 5\.\d\d ms at 5 ms \(1\.0×\), 20 ms at 20 ms \(1\.0×\)", lines[1]), lines[1]
    assert lines[2].startswith("More CPU threads made the tail worse: at 20 ms, with 2 CPU threads")
    assert "FastAPI `def` endpoint" in text and "free-threaded build without the GIL" in text
    assert "fewer than 100 pings" in text


def test_the_takeaway_without_the_gil_says_the_probe_did_not_queue() -> None:
    lines = takeaway(synthetic(gil=False))
    assert lines[1].startswith("With the GIL off the probe did not queue") and "2 CPU threads" in lines[1]
    assert "usable cores" in lines[1]  # two CPU threads on two cores: the scheduler shares them
    assert not any("More CPU threads" in line for line in lines)


def test_the_table_has_one_line_per_point_then_the_takeaway() -> None:
    text = to_table(synthetic())
    assert text.startswith("GIL Lab convoy: CPU threads 0, 1, 2 × switch interval 5, 20 ms, 1 s per point")
    assert "Takeaway:" in text and "probe GIL wait" in text
    table = text.split("\n\n")[1].splitlines()
    assert len(table) == 1 + 6


def test_a_summary_from_the_cli_progress_event_rebuilds() -> None:
    summary = point(2, 20.0, 50.0).summary()
    assert PointSummary(**summary.to_dict()) == summary


# --- the processes: start, end, fail, cancel


def test_the_probe_and_the_client_load_only_the_standard_library() -> None:
    """They run under bare interpreters: the import-linter contract checks the code, this what loads."""
    code = (
        "import sys; before = set(sys.modules); import lab.convoy.probe, lab.convoy.client; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new - set(sys.stdlib_module_names) - {'lab', '__mp_main__'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_run_measures_every_point_with_its_xray_and_reports_the_gil(no_leftover_processes: None) -> None:
    events: list[dict[str, Any]] = []
    settings = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=0.5)
    result = run_convoy(settings, events.append)
    assert result.status == "complete" and result.all_ok, result.message
    assert [(p.cpu_threads, p.switch_interval_ms) for p in result.points] == [(0, 5.0), (1, 5.0)]
    assert [event["point"]["cpu_threads"] for event in events if event["event"] == "point_finished"] == [0, 1]
    assert result.interpreter is not None and result.interpreter.gil_enabled
    assert result.machine.python_version == current_interpreter().version
    busy = result.points[1]
    assert 0.3 < busy.seconds < 2 and len(busy.latency_ms) > 5 and busy.gil_enabled
    assert busy.xray is not None, busy.xray_note
    assert [thread["worker"] for thread in busy.xray["threads"]] == ["probe", "cpu-1"]
    assert busy.summary().probe_gil_share is not None and busy.summary().probe_gil_share > 0
    assert ConvoyResult.from_json(result.to_json()) == result
    assert convoy_csv.to_csv(convoy_csv.from_csv(convoy_csv.to_csv([result]))) == convoy_csv.to_csv([result])


def wait_for_pings(convoy: Convoy, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(row.state == "pinging" and row.pings > 0 for row in convoy.progress()):
        assert time.monotonic() < deadline, "the client never started pinging"
        convoy.poll(0.05)


def test_cancel_ends_the_probe_the_client_and_the_xray(no_leftover_processes: None) -> None:
    convoy = Convoy(ConvoySettings.create(cpu_threads="2", switch_intervals_ms="5", seconds=20)).start()
    wait_for_pings(convoy)
    groups = [convoy.probe_pid, convoy.client_pid]
    started = time.monotonic()
    convoy.cancel()
    assert time.monotonic() - started < 5
    assert convoy.status == "cancelled" and convoy.result().points == ()
    assert [group_members(group) for group in groups if group is not None] == [[], []]


def test_leaving_the_with_block_by_an_exception_ends_the_run(no_leftover_processes: None) -> None:
    settings = ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5", seconds=20)
    with pytest.raises(KeyboardInterrupt), Convoy(settings) as convoy:
        wait_for_pings(convoy)
        raise KeyboardInterrupt
    assert convoy.status == "cancelled"


def test_a_killed_probe_is_a_crashed_run_that_keeps_the_points_before_it(no_leftover_processes: None) -> None:
    convoy = Convoy(ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=1.5)).start()
    while len(convoy.points) < 1:
        convoy.poll(0.05)
    wait_for_pings(convoy)
    assert convoy.probe_pid is not None
    subprocess.run(["kill", "-KILL", str(convoy.probe_pid)], check=True)
    result = convoy.wait()
    assert result.status == "crashed" and len(result.points) == 1
    assert "the measured process" in (result.message or "") and "killed by SIGKILL" in (result.message or "")


def test_an_interpreter_that_fails_at_once_is_a_crash_with_its_reason(no_leftover_processes: None) -> None:
    broken = replace(current_interpreter(), name="broken", path="/bin/false")
    result = run_convoy(ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5"), interpreter=broken)
    assert result.status == "crashed" and result.points == ()
    assert (result.message or "").startswith(
        "the measured process (broken) ended before it was ready (exit status 1)"
    )


def test_an_unstartable_interpreter_is_a_clear_error(no_leftover_processes: None) -> None:
    gone = replace(current_interpreter(), path="/no/such/python")
    with pytest.raises(RunFailed, match=r"cannot start lab\.convoy\.probe with /no/such/python"):
        run_convoy(ConvoySettings.create(cpu_threads="1", switch_intervals_ms="5"), interpreter=gone)


def test_a_deadline_cuts_the_run_short_and_keeps_what_finished(no_leftover_processes: None) -> None:
    settings = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=0.5)
    result = run_convoy(settings, deadline_s=1.2)
    assert result.status == "cut_short" and "cut short after 1.2 s" in (result.message or "")
    assert len(result.points) <= 1 and not result.all_ok


# --- the physics, on this machine


def best_of(measure: Callable[[], ConvoyResult], holds: Callable[[ConvoyResult], bool]) -> list[list[str]]:
    """Up to five runs on quiet cores; an empty list when one shows the relation, else every try's table."""

    def complete() -> ConvoyResult:
        result = measure()
        assert result.status == "complete", result.message
        return result

    tries = until_good(complete, holds)
    if holds(tries[-1]):
        return []
    return [
        [
            f"{s.cpu_threads}@{s.switch_interval_ms:g}: p50 {s.p50_ms} mean {s.mean_ms}"
            for s in result.summaries()
        ]
        for result in tries
    ]


def summary_at(result: ConvoyResult, cpu_threads: int, interval: float) -> PointSummary:
    return next(s for s in result.summaries() if s.key == (cpu_threads, interval))


def p50(result: ConvoyResult, cpu_threads: int, interval: float) -> float:
    value = summary_at(result, cpu_threads, interval).p50_ms
    assert value is not None
    return value


def p99(result: ConvoyResult, cpu_threads: int, interval: float) -> float:
    value = summary_at(result, cpu_threads, interval).p99_ms
    assert value is not None
    return value


def measure(
    cpu_threads: str, intervals: str, seconds: float = 1.0, **choice: Any
) -> Callable[[], ConvoyResult]:
    settings = ConvoySettings.create(
        cpu_threads=cpu_threads, switch_intervals_ms=intervals, seconds=seconds, **choice
    )
    interpreter = named(settings.python) if settings.python else None
    return lambda: run_convoy(settings, interpreter=interpreter)


def named(name: str) -> Interpreter:
    found = {python.name: python for python in discovered() if python.usable}
    assert name in found, (
        f"{name} is not on this machine (found {', '.join(found)}); see the README's CI notes"
    )
    return found[name]


@pytest.mark.timing
@pytest.mark.slow
def test_with_no_cpu_thread_the_reply_is_immediate() -> None:
    assert not best_of(measure("0", "5", 0.5), lambda result: p50(result, 0, 5.0) < 1.0)


@pytest.mark.timing
@pytest.mark.slow
def test_behind_one_cpu_thread_the_reply_waits_about_one_switch_interval() -> None:
    def holds(result: ConvoyResult) -> bool:
        at_5, at_20 = p50(result, 1, 5.0), p50(result, 1, 20.0)
        return 2.0 <= at_5 <= 15.0 and at_20 > at_5 + 5.0

    assert not best_of(measure("1", "5,20"), holds)


@pytest.mark.timing
@pytest.mark.slow
def test_more_cpu_threads_do_not_make_it_better() -> None:
    """The tail, not the median: behind several threads the probe sometimes catches a handoff early."""
    assert not best_of(measure("1,4", "5"), lambda result: p99(result, 4, 5.0) >= p99(result, 1, 5.0))


@pytest.mark.timing
@pytest.mark.slow
def test_the_free_threaded_build_without_the_gil_does_not_queue() -> None:
    """Near zero: far below the 5 and 20 ms intervals a GIL build waits; the cores, not a lock, are shared."""

    def holds(result: ConvoyResult) -> bool:
        medians = [p50(result, count, interval) for count in (1, 2) for interval in (5.0, 20.0)]
        return all(not s.gil_enabled for s in result.summaries()) and max(medians) < 2.5

    assert not best_of(measure("1,2", "5,20", 1.0, python="3.13t", gil="off"), holds)
