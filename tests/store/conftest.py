"""The store's tests run twice: on SQLite and on a real PostgreSQL server the session starts."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pg_server import PgServer


@pytest.fixture(scope="session")
def pg_database(pg_server: PgServer) -> str:
    """One database for the session's store tests, emptied before each (faster than one per test)."""
    return pg_server.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a new SQLite file, or the session's PostgreSQL database with no tables."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    url: str = request.getfixturevalue("pg_database")
    with psycopg.connect(server.dsn(url.rsplit("/", 1)[1]), autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS runs, gil_lab_schema")
    return url
