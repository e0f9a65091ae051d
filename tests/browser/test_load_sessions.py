"""Ten visitors at once on one public-mode server: the runs queue, stay within the caps, and all finish.

One Streamlit server with GIL_LAB_PUBLIC=1 and a run queue of its own (a temp
GIL_LAB_QUEUE_DIR), ten sessions (browser contexts of one headless Chromium)
that press Run at the same instant, and a sampler thread that reads the process
table and the queue directory every ~50 ms: how many `python -m lab.engine.worker`
processes are alive, how many processes their groups hold, the summed RSS of
the server and everything under it, and which ticket holds the host. Each page
watches itself for the "Waiting for the host" line (a MutationObserver, so a
busy renderer cannot make the test miss it). A second test SIGKILLs a pool
worker in the middle of a run and checks that the page reports the lost tasks
and keeps the session's history.

Every wait is on a condition with a deadline. The figures are printed and
written to test-output/load-figures.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import pandas as pd
import psutil
import pytest
from browser_helpers import (
    NOT_RUNNING,
    OUTPUT_DIR,
    RUN_COUNTER_JS,
    StreamlitServer,
    free_port,
    is_worker,
    live_members,
    open_page,
    runs_seen,
    set_slider,
    settle,
    wait_for_first_draw,
    wait_run_started_after,
    wait_settled_after,
    wait_until,
)
from playwright.sync_api import Browser, BrowserContext, Page, expect

from lab.app.form import Controls
from lab.core.machine import current_machine
from lab.engine.modes import WORKER_DIED
from lab.engine.workloads import WORKLOADS
from lab.hosting.limits import Limits
from lab.hosting.runqueue import SUFFIX, Entry

pytestmark = pytest.mark.timeout(150)

SESSIONS = 10
VIEWPORT = {"width": 1200, "height": 800}
FIGURES = OUTPUT_DIR / "load-figures.json"
MIB = 1024 * 1024
MEMORY_BOUND = 3 * 1024 * MIB  # the server and everything it started, summed RSS
SAMPLE_INTERVAL_S = 0.05
RUNS_DEADLINE_S = 100.0  # all ten runs, one after another, on two busy cores
UI_TIMEOUT_MS = 30_000
HELPER_MARKERS = ("resource_tracker", "forkserver")  # in a worker's group, but running no task
FINISHED = re.compile(r"^Finished in ([0-9.]+) s$")
FAILED = re.compile(r"^([0-9]+) task\(s\) failed$")
# The reliability case: a short first run, then the same with tasks long enough to kill a worker in.
SLEEP_SIZES = WORKLOADS["sleep"].size_choices
SHORT_SLEEP_MS, LONG_SLEEP_MS = 100, SLEEP_SIZES[-1]
KILL_LINK = f"/io?workload=sleep&tasks=4&size={SHORT_SLEEP_MS}&modes=processes,threads&workers=2"

# Each page notes, by its own clock (ms since the epoch), when it showed the waiting line and the
# most runs ahead it said, and when its script last went idle. The page redraws the line when its
# place moves; watching the DOM sees every change however busy the renderer is.
PAGE_WATCH_JS = r"""
window.__glLine = {first: null, last: null, most: 0, shown: false};
window.__glIdleAt = null;
new MutationObserver((records) => {
  const line = window.__glLine, now = Date.now();
  const main = document.querySelector('[data-testid="stMain"]');
  const wait = main && main.textContent.match(/Waiting for the host: (\d+) run\(s\) ahead of yours\./);
  if (wait) {
    line.first = line.first ?? now;
    line.last = now;
    line.most = Math.max(line.most, Number(wait[1]));
    line.shown = true;
  } else if (line.shown) {
    line.last = now;
    line.shown = false;
  }
  for (const record of records) {
    if (record.attributeName === 'data-test-script-state'
        && record.target.getAttribute('data-test-script-state') === 'notRunning') window.__glIdleAt = now;
  }
}).observe(document, {
  subtree: true, childList: true, characterData: true,
  attributes: true, attributeFilter: ['data-test-script-state'],
});
"""
# Press Run at a wall-clock instant (ms since the epoch) that every page shares, and note when it did.
CLICK_RUN_AT_JS = """at => {
  window.__glClickedAt = null;
  setTimeout(() => {
    const run = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Run');
    window.__glClickedAt = Date.now();
    run.click();
  }, Math.max(0, at - Date.now()));
}"""


def server_env(queue_dir: Path) -> dict[str, str]:
    return {"GIL_LAB_PUBLIC": "1", "GIL_LAB_QUEUE_DIR": str(queue_dir)}


def public_limits(env: dict[str, str]) -> Limits:
    """The limits the server reads: its environment is this one plus `env`, on the same machine."""
    return Limits.from_env({**os.environ, **env}, usable_cores=current_machine().usable_cores)


def load_link(limits: Limits) -> str:
    """Small squares runs whose process pool is as large as public mode lets a visitor ask for."""
    workers = min(Controls().workers.high, limits.max_processes)
    modes = "batch,threads,processes"
    return f"/cpu?workload=squares&tasks=4&size=300000&modes={modes}&workers={workers}&repeats=1"


# --- the sampler ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    at: float
    workers: int  # `lab.engine.worker` processes alive (leaders of their own group, under the server)
    group_processes: int  # every live process in those groups: workers, pools, helpers
    pool_processes: int  # the pool workers alone
    rss: int  # bytes, the server and all its live descendants
    tickets: int  # sessions in the host's line, the one running included


def pgid_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def cmdline_of(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except (psutil.Error, OSError):
        return ""


def rss_of(proc: psutil.Process) -> int:
    try:
        return proc.memory_info().rss
    except (psutil.Error, OSError):
        return 0


class Sampler:
    """A thread that samples the server's process tree and the queue directory every `interval` s."""

    def __init__(self, server_pid: int, queue_dir: Path, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.server_pid = server_pid
        self.queue_dir = queue_dir
        self.interval = interval
        self.samples: list[Sample] = []
        self.lifetimes: dict[int, list[float]] = {}  # worker pid -> [first, last seen], monotonic
        self.joined: dict[int, float] = {}  # ticket seq -> first seen
        self.waits: dict[int, float] = {}  # ticket seq -> seconds from joining to its worker starting
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="load-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        wait_until(lambda: self.samples or self.error, 30, what="the sampler's first sample")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        try:
            while True:
                self.samples.append(self.sample())
                if self._stop.wait(self.interval):
                    return
        except BaseException as exc:  # reported by the test, not lost in a thread
            self.error = exc

    def sample(self) -> Sample:
        live = {
            proc.pid: proc
            for proc in psutil.process_iter(["ppid", "status"])
            if proc.info["status"] != psutil.STATUS_ZOMBIE
        }
        # After the process table: a worker first seen there belongs to a ticket still in line (its
        # run has just begun), and the previous run's ticket left before that worker could start.
        tickets = self.line()
        now = time.monotonic()
        children: dict[int, list[int]] = {}
        for pid, proc in live.items():
            children.setdefault(proc.info["ppid"], []).append(pid)
        tree, todo = [], [self.server_pid]
        while todo:
            pid = todo.pop()
            if pid in live:
                tree.append(pid)
                todo.extend(children.get(pid, ()))
        leaders = {pid for pid in tree if pgid_of(pid) == pid and is_worker(cmdline_of(live[pid]).split())}
        for pid in leaders:
            if pid not in self.lifetimes and tickets:
                # The line is first come, first served: the host is held by the oldest ticket.
                holder = min(tickets)
                self.waits.setdefault(holder, now - self.joined[holder])
            self.lifetimes.setdefault(pid, [now, now])[1] = now
        # By group, not by tree: a pool process whose worker died would be reparented, yet still counts.
        members = [pid for pid in live if pgid_of(pid) in leaders]
        pool = [
            pid
            for pid in members
            if pid not in leaders and not any(mark in cmdline_of(live[pid]) for mark in HELPER_MARKERS)
        ]
        rss = sum(rss_of(live[pid]) for pid in tree)
        return Sample(now, len(leaders), len(members), len(pool), rss, len(tickets))

    def line(self) -> list[int]:
        """Sequence numbers of the tickets in the queue directory, noting when each was first seen."""
        now = time.monotonic()
        seqs = []
        for path in self.queue_dir.glob(f"*{SUFFIX}"):
            entry = Entry.parse(path)
            if entry is not None:
                seqs.append(entry.seq)
                self.joined.setdefault(entry.seq, now)
        return seqs

    def peak(self, name: str) -> int:
        return max((getattr(sample, name) for sample in self.samples), default=0)

    def handoffs(self) -> list[float]:
        """Seconds from one worker's last sighting to the next one's first: the host idle in between."""
        spans = sorted(self.lifetimes.values())
        return [later[0] - earlier[1] for earlier, later in pairwise(spans)]


def cpu_seconds(procs: Iterable[psutil.Process]) -> dict[int, float]:
    """User + system CPU seconds of each process, its reaped children's included."""
    seconds = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            seconds[proc.pid] = times.user + times.system + times.children_user + times.children_system
    return seconds


def browser_processes() -> list[psutil.Process]:
    return [proc for proc in psutil.Process().children(recursive=True) if "chrom" in proc.name().lower()]


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --- figures -------------------------------------------------------------------------------------------


def record_figures(**figures: Any) -> dict[str, Any]:
    """Merge into test-output/load-figures.json (the reliability case adds to the load case's)."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    current = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    current.update(figures)
    FIGURES.write_text(json.dumps(current, indent=2) + "\n")
    return current


# --- fixtures ------------------------------------------------------------------------------------------


@dataclass
class PublicServer:
    app: StreamlitServer
    queue_dir: Path
    limits: Limits
    started: float


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicServer]:
    started = time.monotonic()
    FIGURES.unlink(missing_ok=True)
    queue_dir = tmp_path_factory.mktemp("queue")
    env = server_env(queue_dir)
    app = StreamlitServer(port=free_port(), log_path=OUTPUT_DIR / "load-streamlit.log", env=env).start()
    try:
        yield PublicServer(app, queue_dir, public_limits(env), started)
    finally:
        app.stop()


def new_context(browser: Browser) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.add_init_script(RUN_COUNTER_JS)
    context.add_init_script(PAGE_WATCH_JS)
    return context


@dataclass
class Visitor:
    """One session: its page, and what the page saw of its run (epoch seconds, the page's clock)."""

    number: int
    context: BrowserContext
    page: Page
    runs_before: int = 0
    clicked_at: float = 0.0
    waiting_from: float | None = None
    waiting_until: float | None = None
    most_ahead: int = 0
    idle_at: float = 0.0
    run_seconds: float | None = None  # the page's "Finished in … s"
    problems: list[str] = field(default_factory=list)

    def read_page_notes(self) -> None:
        notes = self.page.evaluate("({line: window.__glLine, idle: window.__glIdleAt})")
        line = notes["line"]
        self.waiting_from = line["first"] / 1000 if line["first"] else None
        self.waiting_until = line["last"] / 1000 if line["last"] else None
        self.most_ahead = line["most"]
        self.idle_at = notes["idle"] / 1000

    def since_click(self, at: float | None) -> float | None:
        return None if at is None else round(at - self.clicked_at, 2)

    @property
    def waited_s(self) -> float:
        return (self.waiting_until - self.clicked_at) if self.waiting_until is not None else 0.0

    def timeline(self) -> dict[str, Any]:
        """Seconds from this session's click: showing the line from/until, its script idle again."""
        return {
            "session": self.number,
            "waiting_from_s": self.since_click(self.waiting_from),
            "waiting_until_s": self.since_click(self.waiting_until),
            "most_ahead": self.most_ahead,
            "run_s": self.run_seconds,
            "idle_s": self.since_click(self.idle_at),
        }


@pytest.fixture
def visitors(browser: Browser) -> Iterator[list[Visitor]]:
    opened: list[Visitor] = []
    try:
        for number in range(1, SESSIONS + 1):
            context = new_context(browser)
            opened.append(Visitor(number, context, context.new_page()))
        yield opened
    finally:
        for visitor in opened:
            with contextlib.suppress(Exception):
                visitor.context.close()


def wait_for_run_end(visitor: Visitor, deadline: float) -> None:
    """Wait until the run the click started is over and the page idle, by `deadline` (monotonic)."""
    timeout_ms = max(1.0, deadline - time.monotonic()) * 1000
    page = visitor.page
    wait_settled_after(page, visitor.runs_before, timeout_ms)


def check_finished_page(visitor: Visitor) -> None:
    """Note what is wrong with a page whose run is over; its run's seconds if all is well."""
    page = visitor.page
    finished = page.get_by_text(FINISHED)
    if finished.count() == 1:
        visitor.run_seconds = float(FINISHED.match(finished.inner_text().strip()).group(1))
    else:
        labels = [text.split("\n")[-1] for text in page.locator("details summary").all_inner_texts()]
        visitor.problems.append(f"no 'Finished in …' label; the page's labels read {labels}")
    for test_id in ("stException", "stAlertContentError", "stAlertContentWarning"):
        count = page.get_by_test_id(test_id).count()
        if count:
            texts = " | ".join(page.get_by_test_id(test_id).all_inner_texts())[:400]
            visitor.problems.append(f"{count} {test_id}: {texts}")
    labels = page.get_by_test_id("stMetricLabel").all_inner_texts()
    if labels != ["batch", "threads", "processes"]:
        visitor.problems.append(f"result metrics {labels}, not batch, threads, processes")


# --- the tests -----------------------------------------------------------------------------------------


def test_ten_sessions_take_turns_within_the_limits(server: PublicServer, visitors: list[Visitor]) -> None:
    app, limits = server.app, server.limits
    assert app.proc is not None
    link = app.url + load_link(limits)

    # All ten load at once (their first script runs overlap), then each is waited for.
    opened = time.monotonic()
    for visitor in visitors:
        visitor.page.goto(link, wait_until="commit")
    for visitor in visitors:
        wait_for_first_draw(visitor.page)
        expect(visitor.page.get_by_role("button", name="Run", exact=True)).to_be_enabled()
    open_s = time.monotonic() - opened

    server_tree = [psutil.Process(app.proc.pid)]
    cpu_before = cpu_seconds(server_tree), cpu_seconds(browser_processes())
    with Sampler(app.proc.pid, server.queue_dir) as sampler:
        at_ms = int(time.time() * 1000) + 300 + 50 * SESSIONS  # time to schedule every page first
        for visitor in visitors:
            visitor.runs_before = runs_seen(visitor.page)
            visitor.page.evaluate(CLICK_RUN_AT_JS, at_ms)
        deadline = time.monotonic() + RUNS_DEADLINE_S
        try:
            for visitor in visitors:
                wait_for_run_end(visitor, deadline)
        except Exception as exc:
            raise AssertionError(f"a session's run did not end: {exc}\n{app.log_tail()}") from None
        wait_until(lambda: not app.worker_groups(), 15, what="the last worker to be ended and reaped")
        # One more sample after the last run, so the record ends with nothing left running.
        last = len(sampler.samples)
        wait_until(lambda: len(sampler.samples) > last or sampler.error, 10, what="a final sample")
    server_cpu = cpu_used(cpu_before[0], cpu_seconds(server_tree))
    browser_cpu = cpu_used(cpu_before[1], cpu_seconds(browser_processes()))

    for visitor in visitors:
        visitor.clicked_at = visitor.page.evaluate("window.__glClickedAt") / 1000
        visitor.read_page_notes()
        check_finished_page(visitor)
    clicks = [visitor.clicked_at for visitor in visitors]
    run_seconds = [visitor.run_seconds for visitor in visitors if visitor.run_seconds is not None]
    seen_waiting = [visitor.number for visitor in visitors if visitor.waiting_from is not None]
    leftover_groups = [pgid for pgid in sampler.lifetimes if live_members(pgid)]
    tracebacks = app.log_tail(1 << 20).count("Traceback")
    figures = record_figures(
        sessions=SESSIONS,
        runs=len(run_seconds),
        errors=sum(bool(visitor.problems) for visitor in visitors),
        peak_concurrent_workers=sampler.peak("workers"),
        peak_pool_processes=sampler.peak("pool_processes"),
        peak_group_processes=sampler.peak("group_processes"),
        pool_process_limit=limits.max_processes,
        peak_memory_mib=round(sampler.peak("rss") / MIB, 1),
        memory_bound_mib=MEMORY_BOUND // MIB,
        total_wall_s=round(max(visitor.idle_at for visitor in visitors) - min(clicks), 2),
        longest_wait_in_line_s=round(max(sampler.waits.values(), default=0.0), 2),
        longest_wait_shown_on_a_page_s=round(max(visitor.waited_s for visitor in visitors), 2),
        peak_line_length=sampler.peak("tickets"),
        most_runs_ahead_shown=max(visitor.most_ahead for visitor in visitors),
        sessions_seen_waiting=len(seen_waiting),
        click_spread_s=round(max(clicks) - min(clicks), 3),
        pages_open_s=round(open_s, 2),
        workers_seen=len(sampler.lifetimes),
        workers_alive_s=round(sum(last - first for first, last in sampler.lifetimes.values()), 2),
        longest_handoff_s=round(max(sampler.handoffs(), default=0.0), 2),
        run_seconds={
            "min": min(run_seconds, default=None),
            "median": statistics.median(run_seconds) if run_seconds else None,
            "max": max(run_seconds, default=None),
        },
        cpu_s={"server_and_workers": round(server_cpu, 1), "browser": round(browser_cpu, 1)},
        server_log_tracebacks=tracebacks,
        timeline=[visitor.timeline() for visitor in visitors],
    )
    print(json.dumps(figures, indent=2))

    assert sampler.error is None, f"the sampler failed: {sampler.error!r}"
    problems = {visitor.number: visitor.problems for visitor in visitors if visitor.problems}
    assert not problems, f"sessions whose run did not finish cleanly: {problems}"
    assert figures["peak_concurrent_workers"] == 1, "runs did not take turns: workers overlapped"
    assert figures["workers_seen"] == SESSIONS, f"{figures['workers_seen']} workers for {SESSIONS} runs"
    assert figures["peak_pool_processes"] >= 1, "the sampler never saw a process pool"
    assert figures["peak_pool_processes"] <= limits.max_processes, (
        f"{figures['peak_pool_processes']} pool processes at once; public mode allows {limits.max_processes}"
    )
    assert sampler.peak("rss") < MEMORY_BOUND, f"peak memory {figures['peak_memory_mib']} MiB"
    assert seen_waiting, "no session ever showed 'Waiting for the host: N run(s) ahead of yours.'"
    left = sampler.samples[-1].workers
    assert left == 0 and not app.worker_groups(), "a `lab.engine.worker` is left running"
    assert not leftover_groups, f"worker groups with live processes after the runs: {leftover_groups}"
    assert sampler.samples[-1].tickets == 0, "tickets left in the host's line after every run ended"
    assert tracebacks == 0, f"the server logged {tracebacks} traceback(s):\n{app.log_tail()}"


def pool_workers(worker_pid: int) -> list[psutil.Process]:
    """The pool processes of a `lab.engine.worker`: its live children that are not a helper."""
    try:
        children = psutil.Process(worker_pid).children()
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            helper = any(mark in cmdline_of(child) for mark in HELPER_MARKERS)
            if child.status() != psutil.STATUS_ZOMBIE and not helper:
                found.append(child)
    return found


def download_history(page: Page, path: Path) -> pd.DataFrame:
    button = page.get_by_role("button", name="Download CSV", exact=True)
    expect(button).to_be_enabled(timeout=UI_TIMEOUT_MS)
    with page.expect_download(timeout=UI_TIMEOUT_MS) as download_info:
        button.click()
    download_info.value.save_as(path)
    page.wait_for_selector(NOT_RUNNING, timeout=UI_TIMEOUT_MS)
    return pd.read_csv(path)


def test_a_killed_pool_worker_fails_its_tasks_not_the_run(
    server: PublicServer, browser: Browser, tmp_path: Path
) -> None:
    app = server.app
    assert app.proc is not None
    assert not app.worker_groups(), "a worker from the load test is still running"
    context = new_context(browser)
    try:
        page = context.new_page()
        run = page.get_by_role("button", name="Run", exact=True)
        # An earlier run in the same session, which the history must keep.
        open_page(page, app.url + KILL_LINK)
        settle(page, run.click, timeout_ms=90_000)
        expect(page.get_by_text(FINISHED)).to_be_visible(timeout=UI_TIMEOUT_MS)

        # Tasks long enough to kill a pool worker in the middle of one.
        set_slider(
            page,
            "Workload size",
            SLEEP_SIZES.index(LONG_SLEEP_MS),
            size=str(LONG_SLEEP_MS),
            modes="processes,threads",
            workers="2",
        )
        before = runs_seen(page)
        run.click()
        wait_run_started_after(page, before, UI_TIMEOUT_MS)
        wait_until(app.worker_groups, 60, what="a `python -m lab.engine.worker` process under streamlit")
        (worker,) = app.worker_groups()
        wait_until(lambda: pool_workers(worker), 30, what=f"a pool process under worker {worker}")
        victim = pool_workers(worker)[0]
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        wait_until(lambda: victim.pid not in live_members(worker), 10, what=f"pool process {victim} to die")
        page.wait_for_selector(NOT_RUNNING, timeout=60_000)
        idle_s = time.monotonic() - killed

        main = page.get_by_test_id("stMain")
        expect(page.get_by_text(FINISHED), "the run should finish despite the lost tasks").to_be_visible(
            timeout=UI_TIMEOUT_MS
        )
        expect(page.get_by_test_id("stException")).to_have_count(0)
        failed_notes = main.get_by_text(FAILED)
        expect(failed_notes.first).to_be_visible(timeout=UI_TIMEOUT_MS)
        shown_failed = {int(FAILED.match(text).group(1)) for text in failed_notes.all_inner_texts()}
        # The failed-task table names the reason (the grid keeps its cells in an accessible table).
        expect(main.get_by_test_id("stDataFrame").first).to_contain_text(WORKER_DIED, timeout=UI_TIMEOUT_MS)

        # What the page concludes from a run whose baseline lost its tasks (batch did not run).
        takeaway = (
            main.get_by_text(re.compile(r"^Batch did not run, so every speedup"))
            .locator("xpath=ancestor::ul[1]/li")
            .all_inner_texts()
        )

        table = download_history(page, tmp_path / "history.csv")
        run_ids = list(dict.fromkeys(table["run_id"]))
        assert len(run_ids) == 2, f"the history should hold both runs of the session: {run_ids}"
        first, second = (table[table["run_id"] == run_id].set_index("mode") for run_id in run_ids)
        assert (first["failed"] == 0).all() and (first["size"] == SHORT_SLEEP_MS).all(), first
        assert (second["size"] == LONG_SLEEP_MS).all(), second
        failed = int(second.loc["processes", "failed"])
        assert failed >= 1, second
        assert int(second.loc["threads", "failed"]) == 0 and int(second.loc["threads", "ok"]) == 4, second
        assert shown_failed == {failed}, f"the page says {shown_failed} failed, the history {failed}"

        wait_until(lambda: not app.worker_groups(), 15, what="the worker to be ended and reaped")
        wait_until(lambda: not live_members(worker), 15, what=f"worker group {worker} to be empty")
    finally:
        context.close()

    previous = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures = record_figures(
        runs=previous.get("runs", 0) + 2,
        file_wall_s=round(time.monotonic() - server.started, 1),
        reliability={
            "killed_pool_pid": victim.pid,
            "failed_tasks": failed,
            "failure_reason_shown": WORKER_DIED,
            "kill_to_page_idle_s": round(idle_s, 2),
            "history_runs": len(run_ids),
            "takeaway": takeaway,
        },
    )
    print(json.dumps(figures, indent=2))
