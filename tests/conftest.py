"""Shared fixtures (the embedded latency server, a guard against leftover processes) and the tiers.

The tiers are markers (declared in pyproject.toml, --strict-markers): tests
under tests/browser/ are `browser` (and the load test `load`); a module that
runs real experiments says `slow` or `web` in its own `pytestmark`, or on each
such test when the module also holds pure ones; `make check` runs what no tier
marks. `pythons` is not a tier: it names the one test of this machine's real
Pythons, which runs in `make check` and skips, saying why, where there are none.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pg_server import PgServer, find_binaries

from lab.core import config
from lab.engine.latency_server import EmbeddedServer

# No test writes to the developer's own run store: every store the tests (and the CLIs and pages they
# start, which inherit this environment) open by default lives in this session's folder.
STORE_HOME = tempfile.mkdtemp(prefix="gil-lab-tests-data-")
os.environ["XDG_DATA_HOME"] = STORE_HOME
os.environ.pop("GIL_LAB_DATABASE_URL", None)
atexit.register(shutil.rmtree, STORE_HOME, True)

# The Ctrl-C tests send SIGINT to the CLIs they start, as a terminal would. A shell that starts this
# suite in the background without job control (`cmd &` in a script) ignores SIGINT, every child
# inherits an ignored signal through exec, and Python then installs no KeyboardInterrupt: the CLIs
# would run on (seen once, in a fresh-clone run started that way). A handler, unlike "ignore", is reset
# to the default by exec, so each CLI starts as it would from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def own_run_queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The host's run queue (lab.hosting.runqueue) in a folder of this session's own.

    Public-mode runs wait in one host-wide line by default; the parallel tier's
    two workers (pytest-xdist) would otherwise queue behind each other's runs,
    and a test counting the line would see the other worker's tickets. The
    children a test starts inherit the folder, so they still share one line.
    """
    if config.QUEUE_DIR in os.environ:
        yield
        return
    os.environ[config.QUEUE_DIR] = str(tmp_path_factory.mktemp("run-queue"))
    try:
        yield
    finally:
        os.environ.pop(config.QUEUE_DIR, None)


@pytest.fixture(scope="session")
def latency_server() -> Iterator[EmbeddedServer]:
    """One embedded latency server for the whole session, in its own process."""
    with EmbeddedServer(latency_ms=200, nbytes=64 * 1024) as server:
        yield server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the session (the run store's tests, the permalink browser test)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed here (make test installs it: scripts/ensure-postgresql)")
    server = PgServer(binaries)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def no_leftover_processes() -> Iterator[None]:
    """Fail the test if it leaves any new descendant of the test process running."""
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    yield
    left = [child for child in me.children(recursive=True) if child.pid not in before and child.is_running()]
    alive = [child for child in left if child.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left behind: {[(c.pid, c.cmdline()[:4]) for c in alive]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser/ is the browser tier, and its load test the load tier too."""
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name == "browser":
            item.add_marker("browser")
            if path.name == "test_load_sessions.py":
                item.add_marker("load")
