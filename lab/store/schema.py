"""The store's tables, its schema version and the written steps that bring an older database up to date.

One version number for the whole database, in a one-row table
(`gil_lab_schema`). Opening a database runs every step from its version to
`SCHEMA_VERSION`, each in the transaction that records the new version, so a
database written by older code opens with today's and a step is never half
done. A database newer than this code is refused with one line, not guessed at.

Version history:
1. `runs` with the record's JSON and the list columns.
2. The machine's CPU model and whether the run found the machine steady
   (`cpu_model`, `steady`), added with `Machine.cpu_model`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    inspect,
    select,
    text,
    update,
)

from lab.core.errors import StoreUnavailable

SCHEMA_VERSION = 2
ID_LENGTH = 22  # secrets.token_urlsafe(16): 128 random bits

metadata = MetaData()

schema_table = Table("gil_lab_schema", metadata, Column("version", Integer, nullable=False))

runs = Table(
    "runs",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("lab", String(32), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("created", String(40), nullable=False),
    Column("stored_at", Float, nullable=False),
    Column("status", String(32), nullable=False),
    Column("workload", String(200)),
    Column("interpreters", String(500)),
    Column("headline", Float),
    Column("headline_label", String(40)),
    Column("usable_cores", Float),
    Column("cpu_model", String(200)),
    Column("steady", Boolean),
    Column("size_bytes", Integer, nullable=False),
    Column("source", String(32), nullable=False),
    Column("owner", String(64)),
    Column("private_code", Boolean, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("record_version", Integer),
    Column("body", Text, nullable=False),
    UniqueConstraint("lab", "run_id", name="runs_lab_run_id"),
    Index("runs_stored_at", "stored_at"),
    Index("runs_lab_stored_at", "lab", "stored_at"),
    Index("runs_owner_stored_at", "owner", "stored_at"),
)


def add_machine_columns(connection: Connection) -> None:
    """1 -> 2: the CPU model and the steadiness of the machine, both optional (old rows keep NULL)."""
    connection.execute(text("ALTER TABLE runs ADD COLUMN cpu_model VARCHAR(200)"))
    connection.execute(text("ALTER TABLE runs ADD COLUMN steady BOOLEAN"))


# MIGRATIONS[v] brings a database at version v to v + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: add_machine_columns}


def stored_version(connection: Connection) -> int | None:
    """The database's schema version; None for an empty database (no tables of ours yet)."""
    if not inspect(connection).has_table(schema_table.name):
        return None
    version = connection.execute(select(schema_table.c.version)).scalar()
    return None if version is None else int(version)


def upgrade(connection: Connection) -> int:
    """Create the tables, or run every step from the stored version; returns the version it started at.

    The caller holds a write transaction (and, on PostgreSQL, an advisory
    lock), so two processes opening one new database do not both create it.
    """
    version = stored_version(connection)
    if version is None:
        metadata.create_all(connection)
        connection.execute(insert(schema_table).values(version=SCHEMA_VERSION))
        return SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise StoreUnavailable(
            f"the run store has schema version {version}; this GIL Lab reads up to {SCHEMA_VERSION}"
        )
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](connection)
        connection.execute(update(schema_table).values(version=step + 1))
    return version
