"""`RunStore`: every finished run of every lab, kept whole, listed by a few columns, opened by its id.

One code path over SQLAlchemy Core serves SQLite (the default: a file in the
user's data folder, WAL so readers never wait for a writer) and PostgreSQL
(`GIL_LAB_DATABASE_URL=postgresql+psycopg://...`: a host whose disk is wiped
on redeploy, or several replicas serving one link). Every statement is a
SQLAlchemy expression with bound parameters; ids are checked
(`lab.store.ids.check_id`) before any query.

Each save is one transaction: the record's JSON and its list columns go in
together, and in public mode (or wherever limits are set) the oldest unpinned
runs leave in that same transaction, so a crash or a full disk leaves the
store as it was. Any database fault surfaces as one `StoreUnavailable` line:
the caller still has the run and keeps it in its session.

Public mode: a visitor lists only the runs their session stored, plus the
runs the host pinned; opening a run needs its unguessable id (a permalink);
a visitor cannot delete or pin; a run of user code (the `function`
workload, which only private mode runs) is never shown.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    and_,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lab.catalog import read_record
from lab.core import config
from lab.core.errors import InvalidSettings, LabError, NotPermitted, StoreUnavailable, UnknownRun
from lab.store import labs
from lab.store.ids import check_id, new_id
from lab.store.schema import runs, upgrade

SOURCES = ("measured", "imported")
WRITE = "gil_lab_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)
PG_LOCK = 0x61_4C_61_62  # the advisory lock PostgreSQL writers of one store take in turn
DEFAULT_PAGE = 50
MAX_PAGE = 1000
SQLITE_BUSY_S = 30.0  # how long an SQLite connection waits for another's lock before failing
# Public mode's defaults (private mode keeps everything unless the variables are set).
PUBLIC_MAX_RUNS = 2000
PUBLIC_MAX_MB = 200.0
LIST_COLUMNS = [column for column in runs.c if column.name != "body"]


@dataclass(frozen=True)
class StoreLimits:
    """How much the store holds before the oldest unpinned run is evicted."""

    max_runs: int
    max_bytes: int

    @classmethod
    def from_env(cls, env: Mapping[str, str], public: bool) -> StoreLimits | None:
        """Public mode: the variables or the defaults above; private mode: only what the variables set."""
        unset = all(config.text(env, name) is None for name in (config.MAX_STORED_RUNS, config.MAX_STORE_MB))
        if not public and unset:
            return None
        max_runs = config.number(env, config.MAX_STORED_RUNS, PUBLIC_MAX_RUNS if public else 10**9)
        max_mb = config.number(env, config.MAX_STORE_MB, PUBLIC_MAX_MB if public else 10.0**6)
        return cls(max_runs=int(max_runs), max_bytes=int(max_mb * 1024 * 1024))


@dataclass(frozen=True)
class StoredRun:
    """One stored run: its list columns, and (when opened) its JSON and the lab's record, or why not.

    `problem` is set when the stored JSON no longer reads (a hand-edited row,
    a record from a newer GIL Lab): the run is still listed, as unreadable.
    """

    id: str
    lab: str
    run_id: str
    created: str
    stored_at: float
    status: str
    workload: str | None
    interpreters: tuple[str, ...]
    headline: float | None
    headline_label: str | None
    usable_cores: float | None
    cpu_model: str | None
    steady: bool | None
    size_bytes: int
    source: str
    owner: str | None
    pinned: bool
    private_code: bool
    record_version: int | None
    data: dict[str, Any] | None = None
    record: Any = None
    problem: str | None = None

    @property
    def readable(self) -> bool:
        return self.problem is None

    @property
    def link(self) -> str:
        return f"?run={self.id}"

    def columns(self) -> dict[str, Any]:
        """The list columns as plain values (the CLI's JSON list, the page's table)."""
        names = [column.name for column in LIST_COLUMNS if column.name != "owner"]
        values = {name: getattr(self, name) for name in names}
        values["interpreters"] = list(self.interpreters)
        values["readable"] = self.readable
        values["problem"] = self.problem
        return values


def database_url(env: Mapping[str, str] = os.environ) -> str:
    """GIL_LAB_DATABASE_URL, else the SQLite file in the user's data folder."""
    configured = config.text(env, config.DATABASE_URL)
    if configured:
        return configured
    return f"sqlite:///{config.data_dir(env) / 'runs.db'}"


def parse_url(url: str) -> URL:
    """The URL, with `postgres://` and `postgresql://` (as hosts hand them out) meaning psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidSettings(f"{config.DATABASE_URL}: not a database URL") from None
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise InvalidSettings(
            f"{config.DATABASE_URL}: {parsed.drivername} is not supported; "
            "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DATABASE"
        )
    return parsed


def sqlite_engine(url: URL) -> Engine:
    """SQLite in WAL mode, with transactions begun by us: BEGIN IMMEDIATE for writes, so two writers
    queue on the busy timeout instead of failing when a reader upgrades."""
    if url.database and url.database != ":memory:":
        try:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the run store's folder: {exc.strerror or exc}") from None
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_S})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        switch_to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def switch_to_wal(cursor: Any, patience_s: float = SQLITE_BUSY_S) -> None:
    """`PRAGMA journal_mode=WAL`, waiting while another connection holds the lock it needs.

    Switching a new database to WAL takes an exclusive lock, and SQLite can answer "database is
    locked" at once instead of waiting on the busy timeout when several processes open a new store
    together (seen here: one of seven openers failed). So the switch is retried until the same
    patience as the busy timeout has passed; once the file is in WAL mode the pragma only reads it.
    """
    deadline = time.monotonic() + patience_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0][:300] if lines else type(cause).__name__


class RunStore:
    """The runs of every lab, in one database (see the module's docstring for the rules)."""

    def __init__(
        self,
        engine: Engine,
        *,
        public: bool = False,
        limits: StoreLimits | None = None,
        decode: Callable[[Any], Any] = read_record,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.public = public
        self.limits = limits
        self.decode = decode
        self.clock = clock
        self.where = engine.url.render_as_string(hide_password=True)
        self.postgres = engine.dialect.name == "postgresql"
        try:
            with self.transaction(write=True) as connection:
                upgrade(connection)
        except LabError:
            engine.dispose()  # a store that cannot open leaves no pooled connection behind
            raise

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        env: Mapping[str, str] = os.environ,
        public: bool = False,
        limits: StoreLimits | None = None,
        decode: Callable[[Any], Any] = read_record,
    ) -> RunStore:
        """The store at `url` (default: `database_url(env)`), created or brought up to date."""
        return cls(make_engine(url or database_url(env)), public=public, limits=limits, decode=decode)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[Connection]:
        """One transaction; any database or disk fault becomes one StoreUnavailable line."""
        try:
            with self.engine.connect() as connection:
                connection = connection.execution_options(**{WRITE: write})
                with connection.begin():
                    if write and self.postgres:
                        connection.execute(select(func.pg_advisory_xact_lock(PG_LOCK)))
                    yield connection
        except (SQLAlchemyError, OSError) as exc:
            raise StoreUnavailable(f"the run store ({self.where}) failed: {first_line(exc)}") from None

    # Writing.

    def save(
        self,
        record: Any,
        owner: str | None = None,
        source: str = "measured",
        private_code: bool | None = None,
    ) -> str:
        """Store a finished run whole; returns its store id (the same id if this run is already stored)."""
        if source not in SOURCES:
            raise InvalidSettings(f"unknown source {source!r}: one of {', '.join(SOURCES)}")
        data = record.to_dict()
        summary = record.listing()
        body = json.dumps(data, separators=(",", ":"))
        size = len(body.encode("utf-8"))
        if self.limits is not None and size > self.limits.max_bytes:
            raise StoreUnavailable(
                f"this run's record ({size / 1e6:.1f} MB) is larger than the whole store may hold"
            )
        values = {
            "lab": summary.lab,
            "run_id": summary.run_id[:64],
            "created": summary.created[:40],
            "status": summary.status[:32],
            "workload": (summary.workload or "")[:200] or None,
            "interpreters": " | ".join(summary.interpreters)[:500] or None,
            "headline": finite(summary.headline),
            "headline_label": summary.headline_label,
            "usable_cores": finite(summary.usable_cores),
            "cpu_model": summary.cpu_model,
            "steady": summary.steady,
            "size_bytes": size,
            "source": source,
            "owner": owner,
            "private_code": labs.runs_code(record) if private_code is None else private_code,
            "pinned": False,
            "record_version": data.get("schema_version"),
            "body": body,
        }
        # One transaction, and one writer at a time (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory
        # lock), so the look-up and the insert cannot race another process saving the same run.
        with self.transaction(write=True) as connection:
            known = self.id_of(connection, summary.lab, summary.run_id[:64])
            if known is not None:
                return known
            stored = new_id()
            connection.execute(insert(runs).values(id=stored, stored_at=self.clock(), **values))
            self.evict(connection, stored)
            return stored

    @staticmethod
    def id_of(connection: Connection, lab: str, run_id: str) -> str | None:
        query = select(runs.c.id).where(runs.c.lab == lab, runs.c.run_id == run_id)
        found = connection.execute(query).scalar()
        return None if found is None else str(found)

    def evict(self, connection: Connection, keep: str) -> None:
        """Within the insert's transaction: drop the oldest unpinned runs until the limits hold."""
        if self.limits is None:
            return
        count, total = connection.execute(
            select(func.count(), func.coalesce(func.sum(runs.c.size_bytes), 0)).select_from(runs)
        ).one()
        extra_runs, extra_bytes = count - self.limits.max_runs, total - self.limits.max_bytes
        if extra_runs <= 0 and extra_bytes <= 0:
            return
        oldest = connection.execute(
            select(runs.c.id, runs.c.size_bytes)
            .where(runs.c.pinned.is_(False), runs.c.id != keep)
            .order_by(runs.c.stored_at, runs.c.id)
        )
        doomed: list[str] = []
        for stored, size in oldest:
            if extra_runs <= 0 and extra_bytes <= 0:
                break
            doomed.append(stored)
            extra_runs, extra_bytes = extra_runs - 1, extra_bytes - size
        oldest.close()
        for start in range(0, len(doomed), 500):
            connection.execute(delete(runs).where(runs.c.id.in_(doomed[start : start + 500])))

    def delete(self, run: str) -> None:
        if self.public:
            raise NotPermitted("stored runs cannot be deleted on a public lab")
        ident = check_id(run)
        with self.transaction(write=True) as connection:
            gone = connection.execute(delete(runs).where(runs.c.id == ident)).rowcount
        if not gone:
            raise UnknownRun(f"no stored run has the id {ident}")

    def pin(self, run: str, on: bool = True) -> None:
        """Pinned runs are never evicted and, on a public lab, every visitor's list shows them."""
        if self.public:
            raise NotPermitted("only the host pins runs (python -m lab runs pin ID)")
        ident = check_id(run)
        with self.transaction(write=True) as connection:
            changed = connection.execute(update(runs).where(runs.c.id == ident).values(pinned=on)).rowcount
        if not changed:
            raise UnknownRun(f"no stored run has the id {ident}")

    # Reading.

    def visible(self, viewer: str | None) -> ColumnElement[bool]:
        """What this reader may list: everything in private mode; in public mode their own and pinned runs."""
        if not self.public:
            return true()
        mine = runs.c.owner == viewer if viewer is not None else false()
        return and_(runs.c.private_code.is_(False), or_(mine, runs.c.pinned.is_(True)))

    def get(self, run: str) -> StoredRun:
        """A run by its id, decoded; an unreadable record comes back with `problem` set, not raised."""
        ident = check_id(run)
        with self.transaction() as connection:
            row = connection.execute(select(runs).where(runs.c.id == ident)).mappings().first()
        if row is None or (self.public and row["private_code"]):
            raise UnknownRun(f"no stored run has the id {ident}")
        return self.opened(row)

    def opened(self, row: RowMapping) -> StoredRun:
        try:
            data = json.loads(row["body"])
            record = self.decode(data)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            return from_row(row, problem=f"unreadable: {reason}")
        return from_row(row, data=data, record=record)

    def list(
        self,
        *,
        lab: str | None = None,
        workload: str | None = None,
        interpreter: str | None = None,
        owner: str | None = None,
        pinned: bool | None = None,
        viewer: str | None = None,
        limit: int = DEFAULT_PAGE,
        offset: int = 0,
        check: bool = False,
    ) -> list[StoredRun]:
        """Stored runs newest first, filtered; `check` also opens each to mark the unreadable ones."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidSettings(f"a page of runs has 1 to {MAX_PAGE} rows from offset 0 on")
        columns = list(runs.c) if check else LIST_COLUMNS
        query = select(*columns).where(self.visible(viewer), *filters(lab, workload, interpreter))
        if owner is not None:
            query = query.where(runs.c.owner == owner)
        if pinned is not None:
            query = query.where(runs.c.pinned.is_(pinned))
        query = query.order_by(runs.c.stored_at.desc(), runs.c.id.desc()).limit(limit).offset(offset)
        with self.transaction() as connection:
            rows = connection.execute(query).mappings().all()
        return [self.opened(row) if check else from_row(row) for row in rows]

    def count(self, viewer: str | None = None, lab: str | None = None) -> int:
        query = select(func.count()).select_from(runs)
        query = query.where(self.visible(viewer), *filters(lab, None, None))
        with self.transaction() as connection:
            return int(connection.execute(query).scalar() or 0)

    def size(self) -> int:
        """Bytes of stored records (the JSON bodies), which the size limit counts."""
        with self.transaction() as connection:
            total = connection.execute(select(func.coalesce(func.sum(runs.c.size_bytes), 0))).scalar()
        return int(total or 0)


def filters(lab: str | None, workload: str | None, interpreter: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if lab is not None:
        found.append(runs.c.lab == lab)
    if workload is not None:
        found.append(runs.c.workload == workload)
    if interpreter is not None:
        found.append(runs.c.interpreters.contains(interpreter, autoescape=True))
    return found


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def from_row(
    row: RowMapping, data: dict[str, Any] | None = None, record: Any = None, problem: str | None = None
) -> StoredRun:
    interpreters = row["interpreters"]
    return StoredRun(
        id=row["id"],
        lab=row["lab"],
        run_id=row["run_id"],
        created=row["created"],
        stored_at=float(row["stored_at"]),
        status=row["status"],
        workload=row["workload"],
        interpreters=tuple(interpreters.split(" | ")) if interpreters else (),
        headline=row["headline"],
        headline_label=row["headline_label"],
        usable_cores=row["usable_cores"],
        cpu_model=row["cpu_model"],
        steady=row["steady"],
        size_bytes=int(row["size_bytes"]),
        source=row["source"],
        owner=row["owner"],
        pinned=bool(row["pinned"]),
        private_code=bool(row["private_code"]),
        record_version=row["record_version"],
        data=data,
        record=record,
        problem=problem,
    )
