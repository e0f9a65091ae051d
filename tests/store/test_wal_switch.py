"""Opening a new SQLite store from several processes at once: the switch to WAL waits for the lock."""

from __future__ import annotations

import sqlite3

import pytest

from lab.store.store import switch_to_wal


class BusyCursor:
    """A cursor whose first `busy` pragmas fail as SQLite does when another opener holds the lock."""

    def __init__(self, busy: int, message: str = "database is locked") -> None:
        self.busy, self.message, self.calls = busy, message, 0

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode=WAL"
        self.calls += 1
        if self.calls <= self.busy:
            raise sqlite3.OperationalError(self.message)


def test_a_locked_database_is_waited_for_until_the_switch_succeeds() -> None:
    cursor = BusyCursor(busy=3)
    switch_to_wal(cursor, patience_s=5.0)
    assert cursor.calls == 4


def test_a_lock_held_past_the_patience_is_the_error_it_was() -> None:
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        switch_to_wal(BusyCursor(busy=1_000_000), patience_s=0.05)


def test_any_other_error_is_raised_at_once() -> None:
    cursor = BusyCursor(busy=5, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        switch_to_wal(cursor, patience_s=5.0)
    assert cursor.calls == 1
