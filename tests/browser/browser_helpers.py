"""Helpers for the real-browser test: the Streamlit server, waiting on the page, finding workers.

Nothing here sleeps for a fixed time: every wait is on a condition (the health
endpoint, the script runs the server reports on the page's websocket, the
script-run state on `stApp`, the URL, a process group), polled with a short
interval and a deadline.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil
from playwright.sync_api import Page
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from lab.core.procs import group_members

REPO_ROOT = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPO_ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SLIDER_TRIES = 3
SLIDER_TRY_S = 30.0  # keys to idle page; a heavy rerun on a loaded machine takes seconds
RUNNING = '[data-testid="stApp"][data-test-script-state="running"]'

_FIELDS = ForwardMsg.DESCRIPTOR.fields_by_name
# Counts the script runs the server starts and finishes for a page, read off the
# page's own websocket. The `data-test-script-state` attribute is not enough:
# when a run takes a few milliseconds (a slider's rerun), React can render its
# start and end together and `running` never reaches the DOM. Each frame is one
# ForwardMsg; only its top-level fields are scanned, with the field numbers
# taken from Streamlit's own proto, so a Streamlit upgrade cannot skew them.
# `__glRuns`: runs started. `__glSettled`: the run whose end was last seen,
# unless it ended early for a rerun, i.e. the page is idle when they are equal.
_RUN_COUNTER_BODY = """
  window.__glRuns = 0;
  window.__glSettled = 0;
  function varint(bytes, at) {
    let value = 0, scale = 1, byte;
    do { byte = bytes[at.i++]; value += (byte & 0x7f) * scale; scale *= 128; } while (byte & 0x80);
    return value;
  }
  function scan(bytes) {
    const at = {i: 0};
    while (at.i < bytes.length) {
      const tag = varint(bytes, at), field = Math.floor(tag / 8), wire = tag % 8;
      if (wire === 0) {
        const value = varint(bytes, at);
        if (field === SCRIPT_FINISHED && value !== EARLY_FOR_RERUN) window.__glSettled = window.__glRuns;
      } else if (wire === 2) {
        const length = varint(bytes, at);
        at.i += length;
        if (field === NEW_SESSION) window.__glRuns += 1;
      } else if (wire === 1) { at.i += 8; } else if (wire === 5) { at.i += 4; } else { return; }
    }
  }
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (event.data instanceof ArrayBuffer) scan(new Uint8Array(event.data));
      });
    }
  };
"""
RUN_COUNTER_JS = (
    "(() => {\n"
    f"  const NEW_SESSION = {_FIELDS['new_session'].number};\n"
    f"  const SCRIPT_FINISHED = {_FIELDS['script_finished'].number};\n"
    f"  const EARLY_FOR_RERUN = {ForwardMsg.ScriptFinishedStatus.Value('FINISHED_EARLY_FOR_RERUN')};\n"
    f"{_RUN_COUNTER_BODY}}})();\n"
)
SETTLED_AFTER_JS = "n => window.__glRuns > n && window.__glSettled === window.__glRuns"

QUERY_MATCHES_JS = (
    "want => { const q = new URLSearchParams(location.search);"
    " return Object.entries(want).every(([k, v]) => q.get(k) === v); }"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "") -> float:
    """Poll `check` until it returns something truthy; returns the seconds it took."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or check}")
        time.sleep(interval)


@dataclass
class StreamlitServer:
    """`streamlit run streamlit_app.py` as a child in its own process group."""

    port: int
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    env: dict[str, str] | None = None  # added to (or overriding) this process's environment

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> StreamlitServer:
        command = [
            sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
            "--server.headless", "true",
            "--server.port", str(self.port),
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # Others edit the page while tests run: no watcher, so no "source changed" rerun prompts.
            "--server.fileWatcherType", "none",
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env} if self.env else None,
            start_new_session=True,
        )
        try:
            wait_until(self._healthy, timeout, interval=0.2, what=f"{self.url}/_stcore/health to answer ok")
        except BaseException:
            self.stop()
            raise
        return self

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"streamlit exited with {self.proc.returncode} before it was healthy:\n{self.log_tail()}"
            )
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.read().decode().strip() == "ok"
        except OSError:
            return False

    def log_tail(self, nbytes: int = 4000) -> str:
        try:
            return self.log_path.read_bytes()[-nbytes:].decode(errors="replace")
        except OSError:
            return ""

    def worker_groups(self) -> set[int]:
        """Process groups of the `python -m lab.engine.worker` processes this server started."""
        assert self.proc is not None
        groups: set[int] = set()
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return groups
        for child in children:
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if is_worker(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                    groups.add(os.getpgid(child.pid))
        return groups

    def stop(self) -> None:
        """End the server's group, and any worker group it left, and reap the server."""
        if self.proc is None:
            return
        self.kill_workers()
        pgid = self.proc.pid  # start_new_session: the server leads its own group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill_workers(self) -> None:
        """Clean-up after a failure: end the worker groups still running under this server."""
        for pgid in self.worker_groups():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)


def is_worker(cmdline: list[str]) -> bool:
    return "lab.engine.worker" in " ".join(cmdline)


def live_members(pgid: int) -> list[int]:
    """Members of a process group that are still running (zombies excluded)."""
    return group_members(pgid)


def group_gone(pgid: int) -> bool:
    """True once no process at all, not even an unreaped zombie, is left in the group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reaped_by(parent: int, pid: int) -> bool:
    """True once `pid` is no longer a child (running or zombie) of `parent`: the parent reaped it."""
    try:
        return psutil.Process(pid).ppid() != parent
    except psutil.NoSuchProcess:
        return True


@dataclass(frozen=True)
class GroupEnd:
    """How long a worker group took to go, from a moment the test chose (click, tab close)."""

    ended_s: float  # no member still running (zombies aside)
    leader_reaped_s: float  # the worker, a child of the Streamlit server, waited for by the page
    gone_s: float | None  # no member at all; orphaned pool zombies wait on PID 1, which the page can't hurry


def wait_group_end(pgid: int, server_pid: int, started: float, timeout: float) -> GroupEnd:
    wait_until(lambda: not live_members(pgid), timeout, interval=0.02, what=f"group {pgid} to stop running")
    ended = time.monotonic() - started
    wait_until(
        lambda: reaped_by(server_pid, pgid), timeout, interval=0.02, what=f"worker {pgid} to be reaped"
    )
    reaped = time.monotonic() - started
    try:
        wait_until(lambda: group_gone(pgid), timeout, interval=0.02)
        gone: float | None = time.monotonic() - started
    except AssertionError:
        gone = None
    return GroupEnd(ended, reaped, gone)


def runs_seen(page: Page) -> int:
    return int(page.evaluate("window.__glRuns || 0"))


def is_settled_after(page: Page, runs_before: int) -> bool:
    return bool(page.evaluate(SETTLED_AFTER_JS, runs_before))


def wait_settled_after(page: Page, runs_before: int, timeout_ms: float = 60_000) -> None:
    """Wait until a run started after `runs_before` and the last run ended (not for a rerun)."""
    page.wait_for_function(SETTLED_AFTER_JS, arg=runs_before, timeout=timeout_ms)
    page.wait_for_selector(NOT_RUNNING, timeout=timeout_ms)  # and the page has drawn that end


def wait_run_started_after(page: Page, runs_before: int, timeout_ms: float = 60_000) -> None:
    page.wait_for_function("n => window.__glRuns > n", arg=runs_before, timeout=timeout_ms)


def settle(page: Page, action: Callable[[], Any], timeout_ms: float = 60_000) -> None:
    """Do `action`, then wait for the script run it causes to start and end."""
    before = runs_seen(page)
    action()
    wait_settled_after(page, before, timeout_ms)


def open_page(page: Page, url: str, timeout_ms: float = 60_000) -> None:
    """Load the page and wait for its first script run to finish and its widgets to draw."""
    page.goto(url)
    wait_for_first_draw(page, timeout_ms)


def wait_for_first_draw(page: Page, timeout_ms: float = 60_000) -> None:
    """After `page.goto`: wait for the first script run to finish and the widgets to draw.

    Apart from `open_page` so several pages can load at once: go to each, then wait for each.
    """
    wait_settled_after(page, 0, timeout_ms)
    # Widgets are lazily loaded components: they can draw a moment after the run ends.
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=timeout_ms)
    page.get_by_role("slider").first.wait_for(timeout=timeout_ms)


def query_param(page: Page, name: str) -> str | None:
    return page.evaluate("name => new URLSearchParams(location.search).get(name)", name)


def wait_for_query(page: Page, timeout_ms: float = 30_000, **expected: str) -> None:
    """Wait until the URL's query string holds these values and the script is idle."""
    page.wait_for_function(QUERY_MATCHES_JS, arg=expected, timeout=timeout_ms)
    page.wait_for_selector(NOT_RUNNING, timeout=timeout_ms)


def query_matches(page: Page, want: dict[str, str]) -> bool:
    return bool(page.evaluate(QUERY_MATCHES_JS, want))


def set_slider(page: Page, label: str, steps_from_low: int, **query: str) -> None:
    """Move a slider with the keyboard to its `steps_from_low`-th stop (Home, then ArrowRight).

    The input's value is the number (st.slider) or the option's index
    (st.select_slider). Done means: the slider shows the target, a script run
    started after the keys, the page is idle, and the URL holds `query`.

    Keys pressed while the page is still wiring up a lazily loaded widget can be
    lost, and on a loaded machine a commit can be too: each try gets a deadline,
    and a try that missed one presses the keys again. A try that had to be
    repeated is reported as a warning, so flakiness shows in the test summary.
    """
    slider = page.get_by_role("slider", name=label)
    target = str(int(slider.get_attribute("min") or 0) + steps_from_low)
    if slider.input_value() == target and query_matches(page, query):
        page.wait_for_selector(NOT_RUNNING, timeout=60_000)
        return
    seen: list[str] = []
    for attempt in range(1, SLIDER_TRIES + 1):
        before = runs_seen(page)
        # locator.press focuses the (re-resolved) input before every key.
        slider.press("Home")
        for _ in range(steps_from_low):
            slider.press("ArrowRight")

        def done(before: int = before) -> bool:
            return (
                slider.input_value(timeout=5_000) == target
                and is_settled_after(page, before)
                and page.locator(NOT_RUNNING).count() == 1
                and query_matches(page, query)
            )

        try:
            wait_until(done, SLIDER_TRY_S, interval=0.1)
        except AssertionError:
            state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
            seen.append(
                f"try {attempt}: value {slider.input_value()!r} (want {target!r}), "
                f"runs {before}->{runs_seen(page)}, script {state}, url {page.evaluate('location.search')}"
            )
            continue
        if seen:
            warnings.warn(f"slider {label!r} needed {attempt} tries: " + "; ".join(seen), stacklevel=2)
        return
    raise AssertionError(f"slider {label!r} never settled at {target}: " + "; ".join(seen))


def screenshot_whole_page(page: Page, path: Path) -> None:
    """Streamlit scrolls inside stMain: grow the viewport to its height, then take a full-page shot."""
    main = page.locator('[data-testid="stMain"]')
    width = page.viewport_size["width"] if page.viewport_size else 1400
    height = int(main.evaluate("element => element.scrollHeight"))
    page.set_viewport_size({"width": width, "height": max(height, 600)})
    # Let Plotly and the layout react to the new size: two animation frames, then idle.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_selector(NOT_RUNNING)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
