"""A real PostgreSQL server for the tests: Debian's binaries, a temporary folder, stopped on every way out.

`make test` installs Debian's `postgresql` package when it is missing
(scripts/ensure-postgresql); elsewhere the tests that need the server skip
with the reason. PostgreSQL refuses to run as root, and CI runs as root, so
the server runs as the `postgres` user the package creates. It listens on
127.0.0.1 on a free port, with its unix socket in a private folder (never
/var/run/postgresql, which a system server may own), trusts local
connections (a throwaway server with throwaway data), and skips fsync: the
tests measure behaviour, not durability.

The server is stopped (SIGINT: PostgreSQL's fast shutdown, then SIGKILL) and
its folder removed by `stop()`, which the fixture calls in `finally` and
`atexit` calls again, so a failing test or Ctrl-C does not leave it running.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 60.0
SERVER_USER = "postgres"


def find_binaries() -> Path | None:
    """The newest Debian PostgreSQL's bin folder, or None when the package is not installed."""
    found = [Path(path) for path in glob.glob(BIN_GLOB) if (Path(path) / "postgres").exists()]

    def version(path: Path) -> float:
        try:
            return float(path.parent.name)
        except ValueError:
            return 0.0

    return max(found, key=version) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PgServer:
    """One throwaway PostgreSQL server; `url(database)` gives a psycopg 3 SQLAlchemy URL."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="gil-lab-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.databases = 0
        as_root = os.geteuid() == 0
        self.user = pwd.getpwnam(SERVER_USER) if as_root else None
        atexit.register(self.stop)

    def run_as(self) -> dict[str, object]:
        """Popen arguments that drop to the postgres user when we are root (PostgreSQL refuses root)."""
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self) -> PgServer:
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.root, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        log = self.root / "initdb.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--no-sync", "--no-instructions"],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.root, check=False, **self.run_as(),
            )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {log.read_text(errors='replace')[-500:]}")
        self.process = subprocess.Popen(
            [str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=subprocess.DEVNULL, stderr=(self.root / "server.log").open("wb"), cwd=self.root,
            start_new_session=True, **self.run_as(),
        )  # fmt: skip
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.root / "server.log").read_text(errors="replace")[-500:]
                raise RuntimeError(f"postgres exited with {self.process.returncode}: {log}")
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database's URL (one per test, so tests never see each other's runs)."""
        self.databases += 1
        name = f"gil_lab_test_{self.databases}"
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown, then SIGKILL if it lingers; remove the folder. Safe to call twice."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self.root.exists():
            shutil.rmtree(self.root, ignore_errors=True)
        atexit.unregister(self.stop)
