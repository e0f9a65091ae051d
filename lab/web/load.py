"""The load generator: N aiohttp clients against one endpoint, cut off when the window closes.

Runs in its own process (`python -m lab.web.load`), never the server's, so the
clients' CPU time is not the server's. Events go to a dedicated pipe, as the
CPU lab's worker does, so nothing a library prints can corrupt them. One
ClientSession carries every client, with an uncapped connector (aiohttp caps
at 100 connections by default); the ping probe has its own session and a
single connection. When the window closes, requests still in flight are
abandoned and counted as cut: a stalled server cannot stretch the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

from lab.core.events import EventWriter
from lab.core.procs import raise_open_file_limit, tie_to_parent
from lab.core.work import squares, squares_closed_form
from lab.web import protocol
from lab.web.results import EndpointRun, Probe, Samples
from lab.web.settings import ENDPOINTS, PROBE_ENDPOINT, PROBE_INTERVAL_S, WebSettings

PROGRESS_INTERVAL_S = 0.25
READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.02
SPREAD_TRIES = 10  # connection bursts, until every server worker holds one
FAILURE_PAUSE_S = 0.01  # after a failed request, so a refusing server does not get a busy loop
CALIBRATION_BUDGET_S = 0.3
CALIBRATION_MIN_RUNS = 3
NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError)

Check = Callable[[int, bytes], tuple[int | None, str | None]]


class ServerNotReady(Exception):
    """The server did not answer a ping in time; the runner reports why (often its stderr)."""


@dataclass
class Tally:
    """What the clients (or the probe) saw so far. Only the event loop's thread touches it."""

    origin: float
    at: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    failed: int = 0
    cut: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    pids: set[int] = field(default_factory=set)
    waiting_since: float | None = None

    def answered(self, at: float, latency_s: float, pid: int | None) -> None:
        self.at.append(round(at - self.origin, 4))
        self.latency_ms.append(round(latency_s * 1000, 3))
        if pid is not None:
            self.pids.add(pid)

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.failures[reason] += 1

    @property
    def finished(self) -> int:
        return len(self.latency_ms) + self.failed

    def samples(self) -> Samples:
        return Samples(tuple(self.at), tuple(self.latency_ms))


@dataclass
class Tickets:
    """A fixed number of requests shared by all clients (`--requests`)."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def checker(expected_value: str | None) -> Check:
    """Every answer is checked: a broken endpoint must fail, never look fast."""

    def check(status: int, body: bytes) -> tuple[int | None, str | None]:
        if status != 200:
            return None, f"HTTP {status}"
        try:
            data = json.loads(body)
        except ValueError:
            return None, "the answer is not JSON"
        if expected_value is not None and data.get("value") != expected_value:
            return None, "wrong sum of squares"
        return data.get("pid"), None

    return check


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


async def one_request(
    session: aiohttp.ClientSession, url: str, tally: Tally, check: Check, *, stamp_sent: bool = False
) -> None:
    sent = time.perf_counter()
    try:
        async with session.get(url) as response:
            body = await response.read()
            status = response.status
    except asyncio.CancelledError:
        tally.cut += 1
        raise
    except NETWORK_ERRORS as exc:
        tally.fail(describe(exc))
        await asyncio.sleep(FAILURE_PAUSE_S)
        return
    received = time.perf_counter()
    pid, problem = check(status, body)
    if problem is not None:
        tally.fail(problem)
    else:
        tally.answered(sent if stamp_sent else received, received - sent, pid)


async def client(
    session: aiohttp.ClientSession, url: str, tally: Tally, check: Check, tickets: Tickets | None
) -> None:
    """One client: requests back to back until its tickets run out or it is cancelled."""
    while tickets is None or tickets.take():
        await one_request(session, url, tally, check)


async def probe(session: aiohttp.ClientSession, url: str, tally: Tally, interval_s: float) -> None:
    """Ping at a steady rate, one at a time, on a connection of its own."""
    check = checker(None)
    next_at = time.perf_counter()
    while True:
        tally.waiting_since = time.perf_counter()
        await one_request(session, url, tally, check, stamp_sent=True)
        tally.waiting_since = None
        next_at = max(next_at + interval_s, time.perf_counter())
        await asyncio.sleep(next_at - time.perf_counter())


async def warm_up(session: aiohttp.ClientSession, url: str, connections: int) -> set[int]:
    """Open each connection with a ping before the window, so the window times requests, not handshakes.

    Returns the pids of the worker processes that accepted the connections.
    """

    async def ping() -> int | None:
        async with session.get(url) as response:
            data = await response.json()
            response.raise_for_status()
        return int(data["pid"]) if isinstance(data, dict) and "pid" in data else None

    return {pid for pid in await asyncio.gather(*(ping() for _ in range(connections))) if pid is not None}


async def spread_session(url: str, connections: int, workers: int) -> aiohttp.ClientSession:
    """A session whose warmed connections reach every server worker process.

    Each worker accepts every connection waiting on the shared socket when it
    wakes, so a burst of connections can all land on one worker and stay there
    (they are kept alive): a run "with 2 server workers" would then be served by
    one. Reconnecting until each worker holds a connection measures what the
    setting says; a worker with a few of them is as busy as one with many.
    """
    wanted, tries = min(workers, connections), 1
    while True:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
        )
        try:
            reached = await warm_up(session, url, connections)
        except BaseException:
            await session.close()
            raise
        if len(reached) >= wanted or tries == SPREAD_TRIES:
            return session  # after the last try, as it is: the result counts the pids that answered
        await session.close()
        tries += 1


async def report_progress(endpoint: str, tally: Tally, events: EventWriter) -> None:
    while True:
        await asyncio.sleep(PROGRESS_INTERVAL_S)
        elapsed = round(time.perf_counter() - tally.origin, 3)
        events.emit(protocol.PROGRESS, endpoint=endpoint, requests=tally.finished, elapsed=elapsed)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds used so far by every process of the server's group: supervisor, workers, threads."""
    total = 0.0
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid:
                times = process.cpu_times()
                total += times.user + times.system
        except (psutil.Error, OSError):
            continue  # ended while we looked
    return total


def single_core_rate(size: int) -> float:
    """squares(size) per second on one core: the median of a few untimed runs before the load.

    The median, not the best: a fresh process's first runs can catch a turbo
    clock the server will not keep, and the ceiling should be one it could reach.
    """
    took: list[float] = []
    spent = 0.0
    while spent < CALIBRATION_BUDGET_S or len(took) < CALIBRATION_MIN_RUNS:
        start = time.perf_counter()
        squares(size)
        took.append(time.perf_counter() - start)
        spent += took[-1]
        if took[-1] > CALIBRATION_BUDGET_S:
            break  # one long run is enough, and more would delay the load
    return 1 / max(statistics.median(took), 1e-9)


def endpoint_url(base_url: str, endpoint: str, settings: WebSettings) -> str:
    if ENDPOINTS[endpoint].work == "cpu":
        return f"{base_url}/{endpoint}?size={settings.size}"
    return f"{base_url}/{endpoint}?latency_ms={settings.latency_ms}"


async def wait_until_ready(base_url: str, ready_dir: Path, workers: int) -> None:
    """Every worker process has started its app and answered a ping.

    A worker touches its ready file in its app's start-up, a moment before it
    listens on the shared socket; clients that connect in that moment all land
    on the workers already listening, and a run "with 2 server workers" would
    be served by one. So the pings go out on fresh connections, a few at once,
    until each worker's pid has answered one.
    """
    deadline = time.monotonic() + READY_TIMEOUT_S
    answered: set[int] = set()
    connector = aiohttp.TCPConnector(force_close=True)  # a new connection, so a new accept, per ping
    async with aiohttp.ClientSession(connector=connector) as session:

        async def ping() -> None:
            try:
                async with session.get(f"{base_url}/{PROBE_ENDPOINT}") as response:
                    if response.status == 200:
                        answered.add(int((await response.json())["pid"]))
            except (*NETWORK_ERRORS, ValueError, KeyError, TypeError):
                pass

        while time.monotonic() < deadline:
            if len(list(ready_dir.iterdir())) >= workers:
                await asyncio.gather(*(ping() for _ in range(2 * workers)))
                if len(answered) >= workers:
                    return
            await asyncio.sleep(READY_POLL_S)
    if workers > 1 and answered:
        raise ServerNotReady(
            f"only {len(answered)} of the web server's {workers} worker processes answered a ping "
            f"within {READY_TIMEOUT_S:g} s"
        )
    raise ServerNotReady(f"the web server did not answer a ping within {READY_TIMEOUT_S:g} s")


async def load(
    endpoint: str,
    base_url: str,
    settings: WebSettings,
    server_group: int,
    usable_cores: float,
    events: EventWriter,
) -> EndpointRun:
    """Load one endpoint for the window (or the request count) and return what the clients saw."""
    rate = single_core_rate(settings.size) if ENDPOINTS[endpoint].work == "cpu" else None
    check = checker(str(squares_closed_form(settings.size)) if rate is not None else None)
    url, ping_url = endpoint_url(base_url, endpoint, settings), f"{base_url}/{PROBE_ENDPOINT}"
    tickets = Tickets(settings.requests) if settings.requests is not None else None
    unlimited = aiohttp.ClientTimeout(total=None)
    async with contextlib.AsyncExitStack() as stack:
        session = await stack.enter_async_context(
            await spread_session(ping_url, settings.clients, settings.server_workers)
        )
        probe_session = None
        if ENDPOINTS[endpoint].probed:
            probe_session = await stack.enter_async_context(
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1), timeout=unlimited)
            )
            await warm_up(probe_session, ping_url, 1)
        events.emit(
            protocol.ENDPOINT_STARTED, endpoint=endpoint, clients=settings.clients, window_s=settings.window_s
        )
        cpu_before, server_cpu_before = cpu_seconds(), group_cpu_seconds(server_group)
        tally = Tally(origin=time.perf_counter())
        ping_tally = Tally(origin=tally.origin)
        clients = [
            asyncio.create_task(client(session, url, tally, check, tickets)) for _ in range(settings.clients)
        ]
        helpers = [asyncio.create_task(report_progress(endpoint, tally, events))]
        if probe_session is not None:
            helpers.append(asyncio.create_task(probe(probe_session, ping_url, ping_tally, PROBE_INTERVAL_S)))
        done, pending = await asyncio.wait(clients, timeout=settings.window_s)
        cut_at = time.perf_counter()
        client_cpu = cpu_seconds() - cpu_before
        server_cpu = group_cpu_seconds(server_group) - server_cpu_before
        for task in (*pending, *helpers):
            task.cancel()
        await asyncio.gather(*pending, *helpers, return_exceptions=True)
        for task in done:
            task.result()  # a bug in a client must not pass for a quiet client
    waited = ping_tally.waiting_since
    return EndpointRun(
        endpoint=endpoint,
        seconds=round(cut_at - tally.origin, 4),
        ok=len(tally.latency_ms),
        failed=tally.failed,
        cut=tally.cut,
        samples=tally.samples(),
        ceiling=settings.ceiling(endpoint, rate, usable_cores),
        single_core_rate=rate,
        client_cpu_seconds=round(client_cpu, 4),
        server_cpu_seconds=round(server_cpu, 4),
        server_processes=len(tally.pids),
        probe=(
            Probe(
                ping_tally.samples(),
                ping_tally.failed,
                ping_tally.cut,
                None if waited is None else round((cut_at - waited) * 1000, 3),
            )
            if probe_session is not None
            else None
        ),
        failures=tuple(tally.failures.most_common()),
    )


async def run(args: argparse.Namespace, settings: WebSettings, events: EventWriter) -> EndpointRun:
    base_url = f"http://127.0.0.1:{args.port}"
    await wait_until_ready(base_url, Path(args.ready_dir), settings.server_workers)
    return await load(args.endpoint, base_url, settings, args.server_group, args.usable_cores, events)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.web.load")
    parser.add_argument("--events-fd", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--endpoint", choices=tuple(ENDPOINTS), required=True)
    parser.add_argument("--settings", required=True, help="WebSettings as JSON")
    parser.add_argument("--ready-dir", required=True)
    parser.add_argument("--server-group", type=int, required=True, help="the server's process group id")
    parser.add_argument("--usable-cores", type=float, required=True)
    parser.add_argument("--parent-pid", type=int, required=True, help="the runner: die with it")
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    raise_open_file_limit()
    with os.fdopen(args.events_fd, "w", encoding="utf-8") as stream:
        events = EventWriter(stream)
        try:
            settings = WebSettings.from_dict(json.loads(args.settings))
            result = asyncio.run(run(args, settings, events))
        except ServerNotReady as exc:
            events.emit(protocol.ERROR, endpoint=args.endpoint, message=str(exc))
            return 1
        except Exception as exc:  # reported to the runner as the run's failure
            events.emit(protocol.ERROR, endpoint=args.endpoint, message=describe(exc))
            return 1
        events.emit(protocol.ENDPOINT_FINISHED, endpoint=args.endpoint, result=result.to_dict())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
