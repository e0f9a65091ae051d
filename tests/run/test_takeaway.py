"""Takeaway sentences: the measured figures, and only the conclusions those figures support."""

from __future__ import annotations

from dataclasses import replace

from factories import (
    ModeProfile,
    failed_http_result,
    make_result,
    sha256_result,
    sleep_result,
    squares_result,
)

from lab.app.text import text
from lab.core.steadiness import judge
from lab.engine.results import RunResult
from lab.run.csvio import from_csv, to_csv
from lab.run.report import to_table
from lab.run.takeaway import takeaway


def about(sentences: list[str], start: str) -> str:
    """The one sentence that starts with `start` (a mode's name)."""
    found = [sentence for sentence in sentences if sentence.startswith(start)]
    assert len(found) == 1, (start, sentences)
    return found[0]


def test_pure_python_threads_are_no_faster_because_of_the_gil() -> None:
    sentences = takeaway(squares_result())
    threads = about(sentences, "Threads")
    assert "0.97× batch" in threads
    assert "1.0 cores busy" in threads
    assert "one thread" in threads and "GIL" in threads
    assert "parallel" not in threads and "faster" not in threads


def test_processes_scale_on_pure_python_with_their_own_gil() -> None:
    processes = about(takeaway(squares_result()), "Processes")
    assert "1.90× batch" in processes
    assert "2 usable cores" in processes
    assert "own interpreter and its own GIL" in processes


def test_a_batch_run_that_shared_its_core_warns_that_every_figure_is_noisy() -> None:
    shared = make_result(
        "squares",
        {"batch": ModeProfile((2.0,), 0.6), "processes": ModeProfile((3.5,), 0.6, workers=2)},
    )
    warning = about(takeaway(shared), "Batch kept only 0.6 cores busy")
    assert "other work on this machine" in warning and "Run it again" in warning
    quiet = takeaway(squares_result())
    assert not [sentence for sentence in quiet if sentence.startswith("Batch kept only")]
    waiting = takeaway(sleep_result())  # batch of waiting work keeps no core busy, and that is no warning
    assert not [sentence for sentence in waiting if sentence.startswith("Batch kept only")]


def test_threads_that_lose_to_batch_are_called_slower() -> None:
    result = make_result(
        "squares",
        {"batch": ModeProfile((2.0,), 1.0), "threads": ModeProfile((2.5,), 1.0, workers=8)},
    )
    threads = about(takeaway(result), "Threads")
    assert "0.80×" in threads and "slower than batch" in threads


def test_a_lucky_thread_speedup_on_pure_python_is_not_credited_to_threads() -> None:
    result = make_result(
        "squares",
        {"batch": ModeProfile((2.0,), 1.0), "threads": ModeProfile((1.6,), 1.1, workers=8)},
    )
    threads = about(takeaway(result), "Threads")
    assert "1.25×" in threads and "more than the GIL normally allows" in threads
    assert "rerun" in threads


def test_without_the_gil_pure_python_threads_can_scale() -> None:
    result = make_result(
        "squares",
        {"batch": ModeProfile((2.0,), 1.0), "threads": ModeProfile((1.05,), 1.9, workers=8)},
        gil_enabled=False,
    )
    threads = about(takeaway(result), "Threads")
    assert "1.90×" in threads and "without the GIL" in threads and "parallel" in threads


def test_sha256_threads_speed_up_because_hashlib_releases_the_gil() -> None:
    threads = about(takeaway(sha256_result()), "Threads")
    assert "1.90× batch" in threads and "1.9 cores busy" in threads
    assert "hashlib releases the GIL" in threads


def test_sha256_threads_that_did_not_scale_are_not_claimed_to() -> None:
    result = make_result(
        "sha256",
        {"batch": ModeProfile((1.6,), 1.0), "threads": ModeProfile((1.55,), 1.0, workers=8)},
    )
    threads = about(takeaway(result), "Threads")
    assert "1.03×" in threads and "although hashlib releases the GIL" in threads
    assert "in parallel" not in threads


def test_waiting_work_overlaps_in_threads_and_asyncio_with_idle_cores() -> None:
    sentences = takeaway(sleep_result())
    assert "0.01 cores busy" in sentences[0]
    threads = about(sentences, "Threads")
    assert "9.57×" in threads and "0.03 cores busy" in threads and "overlap" in threads
    assert "ideal 10× for 10 tasks" in threads
    asyncio = about(sentences, "asyncio ran")
    assert "9.80×" in asyncio and "event loop" in asyncio and "one thread" in asyncio


def test_to_thread_is_capped_by_the_default_executor() -> None:
    to_thread = about(takeaway(sleep_result()), "asyncio.to_thread")
    assert "4.79×" in to_thread
    assert "default executor's 5 threads" in to_thread and "at most 5 of the 10 tasks" in to_thread


def test_blocking_calls_in_async_def_run_one_after_another() -> None:
    blocking = about(takeaway(sleep_result()), "asyncio with a blocking call")
    assert "1.00×" in blocking and "one after another" in blocking


def test_processes_on_waiting_work_overlap_only_as_many_as_there_are_processes() -> None:
    processes = about(takeaway(sleep_result()), "Processes")
    assert "1.83×" in processes and "2 processes" in processes and "only 2 at a time" in processes


def test_cpu_work_in_asyncio_runs_serially() -> None:
    result = make_result(
        "squares",
        {"batch": ModeProfile((2.0,), 1.0), "asyncio": ModeProfile((2.02,), 1.0)},
    )
    asyncio = about(takeaway(result), "asyncio ran")
    assert "0.99×" in asyncio and "one after another" in asyncio


def test_slow_process_start_up_is_named_as_the_reason() -> None:
    result = make_result(
        "squares",
        {
            "batch": ModeProfile((0.2,), 1.0),
            "processes": ModeProfile((0.21,), 1.2, workers=2, startup_seconds=0.12),
        },
    )
    processes = about(takeaway(result), "Processes")
    assert "0.95×" in processes and "took 0.12 s of its 0.21 s" in processes and "pay back" in processes


def test_one_usable_core_is_called_out_for_cpu_work() -> None:
    sentences = takeaway(squares_result(usable_cores=1.0))
    assert any("1 usable core," in sentence and "in parallel" in sentence for sentence in sentences)


def test_failed_tasks_are_reported_with_their_reasons_and_not_interpreted() -> None:
    sentences = takeaway(failed_http_result())
    threads = about(sentences, "3 of 10 tasks failed in threads")
    assert "ConnectionError: connection refused" in threads and "not comparable" in threads
    asyncio = about(sentences, "10 of 10 tasks failed in asyncio")
    assert "no module named aiohttp" in asyncio
    assert not any(sentence.startswith(("Threads", "asyncio ran")) for sentence in sentences)


def test_a_failing_baseline_makes_every_speedup_unreliable() -> None:
    result = make_result(
        "sleep",
        {"batch": ModeProfile((2.0,), 0.01, failed=1), "threads": ModeProfile((0.2,), 0.01, workers=8)},
    )
    assert any("speedups against batch are unreliable" in sentence for sentence in takeaway(result))


def test_cancelled_and_cut_short_runs_say_so_first() -> None:
    cancelled = takeaway(squares_result(status="cancelled", message="stopped by the user"))
    assert cancelled[0].startswith("This run was cancelled") and "stopped by the user." in cancelled[0]
    cut = takeaway(squares_result(status="cut_short"))
    assert "cut short" in cut[0]


def test_modes_and_repeats_that_did_not_run_are_listed() -> None:
    result = make_result(
        "squares",
        {"batch": ModeProfile((2.0, 2.1), 1.0), "threads": ModeProfile((2.0,), 1.0, workers=8)},
        status="cancelled",
        modes="batch,threads,processes",
    )
    sentences = takeaway(result)
    assert "Not measured: processes." in sentences
    assert any("threads 1" in sentence and "2 asked" in sentence for sentence in sentences)


def test_a_run_without_batch_compares_with_its_first_mode() -> None:
    result = make_result(
        "sleep", {"threads": ModeProfile((0.2,), 0.01, workers=10), "asyncio": ModeProfile((0.1,), 0.01)}
    )
    sentences = takeaway(result)
    assert sentences[0].startswith("Batch did not run") and "threads (0.20 s)" in sentences[0]
    assert "2.00× threads" in about(sentences, "asyncio ran")


def test_a_run_that_measured_nothing_says_so() -> None:
    result = squares_result()
    empty = RunResult(settings=result.settings, machine=result.machine, runs=(), status="crashed")
    sentences = takeaway(empty)
    assert "crashed" in sentences[0] and sentences[-1].startswith("No mode finished")


def test_imported_runs_get_the_same_takeaway() -> None:
    for result in (squares_result(), sleep_result(), sha256_result()):
        (imported,) = from_csv(to_csv([result]))
        assert takeaway(imported) == takeaway(result)
    (imported,) = from_csv(to_csv([failed_http_result()]))
    assert any(sentence.startswith("3 of 10 tasks failed in threads") for sentence in takeaway(imported))


def test_explainer_covers_the_gil_the_locks_the_rule_and_web_frameworks() -> None:
    for needle in (
        "global interpreter lock",
        "threading.Lock",
        "multiprocessing.Lock",
        "asyncio.Lock",
        "processes",
        "releases",
        "FastAPI",
        "async def",
        "thread pool",
        "stalls",
    ):
        assert needle in text("gil") + text("web"), needle


def test_a_run_on_an_unsteady_machine_says_so_in_one_line_with_the_figure() -> None:
    unsteady = replace(squares_result(), steadiness=judge((2.0, 2.62, 2.0), 0.1, 0.0))
    line = about(takeaway(unsteady), "The machine's speed")
    assert line == (
        "The machine's speed changed by 31% during this run; compare its ratios with care, or run again."
    )
    steady = replace(squares_result(), steadiness=judge((2.0, 2.05), 0.1, 0.0))
    assert takeaway(steady) == takeaway(squares_result())


def test_the_table_report_prints_the_machines_steadiness_and_the_unsteady_line() -> None:
    unsteady = replace(squares_result(), steadiness=judge((2.0, 2.0), 0.8, 0.0))
    table = to_table(unsteady)
    assert (
        "Machine     NOT steady during the run (speed change 0%, other work 0.8 cores busy, steal 0%)"
        in table
    )
    assert "  - Other work kept 0.8 cores busy during this run; compare its ratios with care" in table
    assert "Machine     steady" in to_table(replace(squares_result(), steadiness=judge((2.0, 2.0), 0.1, 0.0)))
