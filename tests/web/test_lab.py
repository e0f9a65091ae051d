"""What the web lab must show, measured with a real uvicorn server and real aiohttp clients on loopback.

Bounds are generous (a shared CI machine is noisy) but each one still tells
the mechanisms apart: a pool of threads caps sleeping `def` endpoints, one
event loop waits for any number of `async def` sleeps, one blocking call
stalls everything, and CPU work scales with processes, not threads.
"""

from __future__ import annotations

import pytest
from timing_tries import clock_relation, until_good

from lab.core.machine import current_machine
from lab.web.results import EndpointRun, WebResult
from lab.web.runner import run_web
from lab.web.settings import WebSettings

pytestmark = [pytest.mark.web, pytest.mark.timeout(180)]  # uvicorn servers and aiohttp clients

CPU = {"clients": 20, "size": 500_000, "duration": 2}


def measure(**settings: object) -> WebResult:
    result = run_web(WebSettings.create(**settings))
    assert result.status == "complete", result.message
    assert all(run.failed == 0 for run in result.endpoints), [run.failures for run in result.endpoints]
    return result


@pytest.fixture(scope="module")
def waits() -> WebResult:
    return measure(endpoints="def_wait,async_wait,async_blocking", clients=100, latency_ms=200, duration=1.5)


@pytest.fixture(scope="module")
def cpu() -> WebResult:
    """A small pool, so the ping beside def_cpu waits for its GIL turn among a few threads."""
    return measure(endpoints="def_cpu,async_cpu", threadpool=4, **CPU)


def near(run: EndpointRun, low: float, high: float = 1.1) -> bool:
    """Throughput between low and high times the run's own ceiling."""
    assert run.ceiling is not None
    return low * run.ceiling <= run.throughput <= high * run.ceiling


def test_async_wait_serves_every_client_at_once(waits: WebResult) -> None:
    run = waits.endpoint("async_wait")
    assert run.ceiling == pytest.approx(500)
    assert near(run, 0.7), run.throughput
    assert run.ok + run.cut == run.requests and run.cut <= 100


def test_def_wait_is_capped_by_the_thread_pool(waits: WebResult) -> None:
    run = waits.endpoint("def_wait")
    assert run.ceiling == pytest.approx(200)
    assert near(run, 0.7, 1.05), run.throughput
    assert waits.endpoint("async_wait").throughput > 1.8 * run.throughput


def test_a_blocking_call_in_async_def_serves_one_request_at_a_time(waits: WebResult) -> None:
    run = waits.endpoint("async_blocking")
    assert run.ceiling == pytest.approx(5)
    assert near(run, 0.6), run.throughput
    assert waits.endpoint("def_wait").throughput > 20 * run.throughput
    assert run.probe is not None and run.probe.longest_wait_ms is not None
    assert run.probe.longest_wait_ms > 500  # the loop answered no ping for a long while


def test_requests_in_flight_when_the_window_closes_are_cut_not_waited_for(waits: WebResult) -> None:
    run = waits.endpoint("async_blocking")
    assert run.cut >= 80  # every client still waiting on the stalled loop
    assert run.seconds < 1.5 + 0.5  # 100 blocked requests would take 20 s to drain


def test_a_bigger_thread_pool_lifts_def_wait(waits: WebResult) -> None:
    wide = measure(endpoints="def_wait", clients=100, latency_ms=200, duration=1.5, threadpool=100)
    run = wide.endpoint("def_wait")
    assert run.ceiling == pytest.approx(500)
    assert run.throughput > 1.5 * waits.endpoint("def_wait").throughput


def test_ping_beside_async_cpu_waits_whole_requests_beside_def_cpu_far_less(cpu: WebResult) -> None:
    threaded, looped = cpu.endpoint("def_cpu"), cpu.endpoint("async_cpu")
    assert looped.single_core_rate and threaded.probe is not None and looped.probe is not None
    one_request_ms = 1000 / looped.single_core_rate
    looped_wait = looped.probe.samples.percentile(50) or looped.probe.longest_wait_ms
    threaded_wait = threaded.probe.samples.percentile(50)
    assert looped_wait is not None and threaded_wait is not None
    assert looped_wait >= one_request_ms
    assert threaded_wait < looped_wait / 3, (threaded_wait, looped_wait)


def test_cpu_work_does_not_gain_from_more_threads() -> None:
    """Each try runs a pool of 4 threads, then 40, back to back on quiet cores; the first like try passes."""

    def few_then_many() -> tuple[EndpointRun, EndpointRun]:
        few = measure(endpoints="def_cpu", threadpool=4, **CPU).endpoint("def_cpu")
        return few, measure(endpoints="def_cpu", threadpool=40, **CPU).endpoint("def_cpu")

    tries = until_good(few_then_many, lambda pair: pair[1].throughput < 1.3 * pair[0].throughput)
    figures = (
        f"(4 threads, 40 threads) requests/s per try: {[(a.throughput, b.throughput) for a, b in tries]}"
    )
    for run in (run for pair in tries for run in pair):
        busy = run.summary().server_cores_busy
        assert busy is not None and busy < 1.2, busy  # one process runs Python on one core at a time
    clock_relation(tries, any(many.throughput < 1.3 * few.throughput for few, many in tries), figures)


@pytest.mark.skipif(current_machine().usable_cores < 2, reason="needs two usable cores")
def test_cpu_work_gains_from_more_worker_processes() -> None:
    """Each try runs one server process, then two, back to back on quiet cores (tests/timing_tries.py).

    A neighbour's burst can hold a core for a whole run, so the first try that
    shows the second core passes; a failure lists every try. The throughput's
    gain is judged on a steady machine (clock_relation), beside its mechanism.
    """

    def one_then_two() -> tuple[EndpointRun, EndpointRun]:
        one = measure(endpoints="async_cpu", **CPU).endpoint("async_cpu")
        return one, measure(endpoints="async_cpu", server_workers=2, **CPU).endpoint("async_cpu")

    def busy(run: EndpointRun) -> float:
        return run.summary().server_cores_busy or 0.0

    tries = until_good(
        one_then_two, lambda pair: pair[1].throughput > 1.3 * pair[0].throughput and busy(pair[1]) > 1.2
    )
    seen = [(one.throughput, two.throughput, busy(two)) for one, two in tries]
    figures = f"(one, two processes) requests/s and two's cores busy per try: {seen}"
    assert all(pair[1].server_processes == 2 for pair in tries), [pair[1].server_processes for pair in tries]
    two = tries[-1][1]
    assert two.single_core_rate and two.ceiling == pytest.approx(2 * two.single_core_rate)
    # The mechanism: two server processes keep more than one core busy (best try).
    assert max(busy(two) for _, two in tries) > 1.2, f"{figures}; {tries.report}"
    clock_relation(tries, any(two.throughput > 1.3 * one.throughput for one, two in tries), figures)


def test_a_fixed_request_count_is_answered_exactly() -> None:
    run = measure(endpoints="async_wait", clients=10, requests=50, latency_ms=20).endpoint("async_wait")
    assert (run.requests, run.ok, run.cut) == (50, 50, 0)
    assert run.throughput == pytest.approx(10 / 0.02, rel=0.5)
