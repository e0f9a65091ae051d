"""The run store on SQLite and on a real PostgreSQL: whole records, ids, lists, limits, visitors, faults."""

from __future__ import annotations

import json
import multiprocessing
import re
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pg_server import PgServer
from psycopg import sql
from sqlalchemy import event, update
from store_samples import LABS, sample

from lab.core.errors import NotPermitted, StoreUnavailable, UnknownRun
from lab.store import labs
from lab.store.schema import SCHEMA_VERSION, runs, schema_table, stored_version
from lab.store.store import RunStore, StoreLimits

HERE = Path(__file__).parent


class Clock:
    """A clock the test moves, so 'oldest' and 'newest' do not depend on how fast the machine is."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def numbered(record: Any, number: int) -> Any:
    """The same measurements as a different run (its own run id)."""
    return replace(record, run_id=f"{record.run_id}-{number}")


def open_store(url: str, **options: Any) -> RunStore:
    options.setdefault("clock", Clock())
    return RunStore(RunStore.open(url).engine, **options)


@pytest.mark.parametrize("lab", LABS)
def test_every_labs_run_is_stored_whole_and_opens_as_the_same_record(store_url: str, lab: str) -> None:
    record = sample(lab)
    with RunStore.open(store_url) as store:
        stored = store.get(store.save(record))
    assert stored.readable and stored.lab == lab and stored.run_id == record.run_id
    assert stored.data == json.loads(json.dumps(record.to_dict()))
    assert stored.record.to_dict() == record.to_dict()
    machine = record.machine
    assert stored.size_bytes > 1000 and stored.cpu_model == machine.cpu_model and stored.cpu_model


def test_a_run_saved_twice_is_stored_once_under_one_new_unguessable_id(store_url: str) -> None:
    record = sample("run")
    with RunStore.open(store_url) as store:
        first, again = store.save(record), store.save(record)
        other = store.save(numbered(record, 2))
        assert first == again != other and store.count() == 2
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", first) and record.run_id not in first


def test_the_list_is_newest_first_filtered_by_lab_workload_and_interpreter(store_url: str) -> None:
    with open_store(store_url) as store:
        ids = {lab: store.save(sample(lab)) for lab in LABS}
        listed = store.list()
        assert [row.id for row in listed] == list(reversed(ids.values()))
        assert [row.lab for row in store.list(lab="web")] == ["web"]
        assert {row.lab for row in store.list(workload="squares")} == {"run", "compare", "sweep", "cluster"}
        assert {row.lab for row in store.list(interpreter="3.12")} == {"compare"}
        assert [row.id for row in store.list(limit=2, offset=1)] == [ids["convoy"], ids["web"]]
        assert store.list(interpreter="%") == [] and store.count(lab="run") == 1


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("nope", "not a run id: 'nope'"),
        ("x" * 100_000, "not a run id: 100,000 characters long"),
        ("1' OR '1'='1'; DROP TABLE runs; --", "not a run id: \"1' OR '1'='1'; DROP TABLE runs; --\""),
        ("a" * 21 + "\n", "not a run id: 'aaaaaaaaaaaaaaaaaaaaa\\n'"),
        ("A" * 22, "no stored run has the id AAAAAAAAAAAAAAAAAAAAAA"),
    ],
)
def test_unknown_malformed_huge_or_sql_looking_ids_get_one_line(
    store_url: str, given: str, says: str
) -> None:
    with RunStore.open(store_url) as store:
        store.save(sample("run"))
        for action in (store.get, store.delete, lambda run: store.pin(run)):
            with pytest.raises(UnknownRun) as caught:
                action(given)
            assert str(caught.value).startswith(says) and "\n" not in str(caught.value)
        assert store.count() == 1


def test_a_hand_edited_row_is_listed_as_unreadable_with_its_reason_and_the_others_still_open(
    store_url: str,
) -> None:
    with open_store(store_url) as store:
        good, bad, odd = (store.save(sample(lab)) for lab in ("run", "web", "sweep"))
        with store.transaction(write=True) as connection:
            connection.execute(update(runs).where(runs.c.id == bad).values(body='{"kind": "web", "run'))
            edited = json.dumps({**sample("sweep").to_dict(), "schema_version": 99})
            connection.execute(update(runs).where(runs.c.id == odd).values(body=edited))
        assert store.get(bad).problem is not None and store.get(bad).problem.startswith("unreadable: ")
        assert "schema version 99" in (store.get(odd).problem or "")
        assert store.get(good).readable and store.get(good).record.run_id == sample("run").run_id
        checked = {row.id: row.readable for row in store.list(check=True)}
        assert checked == {good: True, bad: False, odd: False}


def test_the_oldest_unpinned_runs_are_evicted_first_in_the_inserts_transaction(store_url: str) -> None:
    record = sample("run")
    with open_store(store_url, limits=StoreLimits(max_runs=3, max_bytes=10**9)) as store:
        ids = [store.save(numbered(record, number)) for number in range(3)]
        store.pin(ids[0])
        newer = [store.save(numbered(record, number)) for number in range(3, 5)]
        assert {row.id for row in store.list()} == {ids[0], *newer}
        assert store.count() == 3


def test_the_size_limit_evicts_until_the_bodies_fit(store_url: str) -> None:
    record = sample("run")
    with open_store(store_url) as store:
        size = store.get(store.save(numbered(record, 0))).size_bytes
    with open_store(store_url, limits=StoreLimits(max_runs=100, max_bytes=int(size * 2.5))) as store:
        ids = [store.save(numbered(record, number)) for number in range(1, 5)]
        assert [row.id for row in store.list()] == [ids[3], ids[2]] and store.size() <= size * 2.5
        with pytest.raises(StoreUnavailable, match="larger than the whole store"):
            RunStore(store.engine, limits=StoreLimits(100, size // 2)).save(numbered(record, 9))


def test_public_visitors_list_their_own_and_pinned_runs_never_others_nor_user_code(store_url: str) -> None:
    record = sample("run")
    with RunStore.open(store_url) as host:
        pinned = host.save(numbered(record, 0), owner="host")
        host.pin(pinned)
        host.save(numbered(record, 1), owner="host")
        code = host.save(numbered(record, 2), private_code=True)
        mine = host.save(numbered(record, 3), owner="session-a")
        theirs = host.save(numbered(record, 4), owner="session-b")
    with RunStore.open(store_url, public=True) as public:
        assert {row.id for row in public.list(viewer="session-a")} == {pinned, mine}
        assert {row.id for row in public.list(viewer=None)} == {pinned}
        assert public.count(viewer="session-b") == 2
        assert public.get(theirs).readable  # a permalink opens: its id is the key
        with pytest.raises(UnknownRun, match="no stored run has the id"):
            public.get(code)
        with pytest.raises(NotPermitted):
            public.delete(mine)
        with pytest.raises(NotPermitted):
            public.pin(mine)


def test_a_run_of_user_code_is_marked_private(store_url: str) -> None:
    record = sample("run")
    code = replace(record, settings=replace(record.settings, workload="function", function="mine:work"))
    with RunStore.open(store_url) as store:
        stored = store.get(store.save(code))
    assert stored.private_code and stored.workload == "mine:work"


def test_delete_and_unpin(store_url: str) -> None:
    with RunStore.open(store_url) as store:
        stored = store.save(sample("web"))
        store.pin(stored)
        assert store.get(stored).pinned
        store.pin(stored, on=False)
        assert not store.get(stored).pinned
        store.delete(stored)
        with pytest.raises(UnknownRun):
            store.get(stored)


def save_many(url: str, numbers: range) -> list[str]:
    record = sample("run")
    with RunStore.open(url) as store:
        return [store.save(numbered(record, number)) for number in numbers]


@pytest.mark.slow
def test_concurrent_saves_from_threads_and_processes_store_each_run_once(store_url: str) -> None:
    results: list[list[str]] = []
    threads = [
        threading.Thread(target=lambda: results.append(save_many(store_url, range(12)))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        from_processes = pool.starmap(save_many, [(store_url, range(6, 18))] * 3)
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(ids == results[0] for ids in results)
    assert all(ids == from_processes[0] for ids in from_processes)
    assert from_processes[0][:6] == results[0][6:]
    with RunStore.open(store_url) as store:
        assert store.count() == 18


def test_two_replicas_on_one_postgresql_share_runs_and_limits(pg_server: PgServer) -> None:
    url, record = pg_server.new_database(), sample("run")
    limits = StoreLimits(max_runs=12, max_bytes=10**9)  # room for all 12 while both fill: no eviction race
    with RunStore.open(url, limits=limits) as one, RunStore.open(url, limits=limits) as two:
        saved: dict[str, list[str]] = {}

        def fill(name: str, store: RunStore, start: int) -> None:
            saved[name] = [store.save(numbered(record, number)) for number in range(start, start + 8)]

        workers = [threading.Thread(target=fill, args=("one", one, 0)),
                   threading.Thread(target=fill, args=("two", two, 4))]  # fmt: skip
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert saved["one"][4:] == saved["two"][:4]  # runs 4..7 saved by both: stored once
        assert one.count() == two.count() == 12
        assert {row.id for row in one.list()} == {row.id for row in two.list()}
        extra = [two.save(numbered(record, number)) for number in (12, 13)]  # over the shared limit
        assert one.count() == two.count() == 12 and set(extra) <= {row.id for row in one.list()}


def test_an_unreachable_database_at_start_is_one_line() -> None:
    with pytest.raises(StoreUnavailable) as caught:
        RunStore.open("postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert "could not be used" in str(caught.value) or "failed" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(StoreUnavailable, match="cannot create the run store's folder"):
        RunStore.open("sqlite:////proc/no-such-place/runs.db")


def test_a_database_gone_mid_run_refuses_the_save_in_one_line(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    with RunStore.open(url) as store:
        store.save(sample("run"))
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(pg_server.dsn("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        with pytest.raises(StoreUnavailable) as caught:
            store.save(sample("web"))
        assert "\n" not in str(caught.value) and "failed" in str(caught.value)


def test_a_full_disk_refuses_the_save_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore.open(url) as store:
        store.save(sample("web"))

        @event.listens_for(store.engine, "connect")
        def small_disk(dbapi_connection: Any, record: Any) -> None:
            pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 1}")

        store.engine.dispose()
        with pytest.raises(StoreUnavailable, match="full"):
            store.save(sample("convoy"))
        assert [row.lab for row in store.list()] == ["web"]


def load_dump(url: str, pg_server: PgServer | None, tmp_path: Path) -> None:
    script = (HERE / "runs_v1.sql").read_text()
    if pg_server is None:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.executescript(script)
        return
    with psycopg.connect(pg_server.dsn(url.rsplit("/", 1)[1]), autocommit=True) as connection:
        connection.execute(script.encode())


def test_a_version_1_database_opens_with_todays_code_and_reads_its_runs(
    store_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    server = request.getfixturevalue("pg_server") if store_url.startswith("postgresql") else None
    load_dump(store_url, server, tmp_path)
    with RunStore.open(store_url) as store:
        with store.transaction() as connection:
            assert stored_version(connection) == SCHEMA_VERSION
        listed = store.list(check=True)
        assert [row.id for row in listed] == ["v1-web-stored-before-0", "v1-run-stored-before-0"]
        assert all(row.readable and row.cpu_model is None for row in listed)
        old = store.get("v1-run-stored-before-0").record
        assert old.machine.cpu_model is None and old.run_id == sample("run").run_id
        assert store.get(store.save(sample("convoy"))).cpu_model == sample("convoy").machine.cpu_model


def test_the_store_builds_no_sql_by_string_formatting() -> None:
    """Every query is a SQLAlchemy expression with bound parameters; fixed DDL text is the one exception."""
    formatted = re.compile(
        r"""(text|execute|exec_driver_sql)\(\s*(f["']|["'][^"']*["']\s*(%|\.format\())""", re.S
    )
    assert formatted.search('connection.execute(text(f"DELETE FROM runs WHERE id = {run}"))')
    assert formatted.search("connection.exec_driver_sql('DELETE FROM runs WHERE id = %s' % run)")
    offenders = []
    for path in sorted((HERE.parents[1] / "lab" / "store").glob("*.py")):
        source = path.read_text()
        offenders += [f"{path.name}: {match.group(0)[:60]}" for match in formatted.finditer(source)]
        statement = re.compile(r"""f["'](SELECT|INSERT|UPDATE|DELETE|ALTER|CREATE|DROP)\b""", re.I)
        offenders += [
            f"{path.name}: {line.strip()[:60]}" for line in source.splitlines() if statement.search(line)
        ]
    assert offenders == []


def test_records_are_told_apart_by_kind_and_a_kindless_record_is_the_run_lab() -> None:
    assert labs.lab_of_dict(sample("run").to_dict()) == "run"
    assert [labs.lab_of_dict(sample(lab).to_dict()) for lab in LABS] == list(LABS)
    assert sample("compare").lab == "compare" and labs.lab_of_dict({"kind": "scaling"}) == "sweep"


def test_a_store_from_a_newer_gil_lab_is_refused_in_one_line(store_url: str) -> None:
    with RunStore.open(store_url) as store, store.transaction(write=True) as connection:
        connection.execute(update(schema_table).values(version=SCHEMA_VERSION + 1))
    newer = rf"schema version {SCHEMA_VERSION + 1}; this GIL Lab reads up to {SCHEMA_VERSION}$"
    with pytest.raises(StoreUnavailable, match=newer):
        RunStore.open(store_url)


def test_limits_apply_in_public_mode_by_default_and_in_private_mode_only_when_set() -> None:
    assert StoreLimits.from_env({}, public=True) == StoreLimits(2000, 200 * 1024 * 1024)
    assert StoreLimits.from_env({}, public=False) is None
    limits = StoreLimits.from_env({"GIL_LAB_MAX_STORED_RUNS": "50"}, public=False)
    assert limits is not None and limits.max_runs == 50
    assert StoreLimits.from_env({"GIL_LAB_MAX_STORE_MB": "0.5"}, public=True) == StoreLimits(2000, 524288)


def test_no_new_id_starts_with_a_dash_that_a_command_line_would_take_for_an_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lab.store import ids

    drawn = iter(["-startsWithADash012345", "AfterADashComesAnId_12"])
    monkeypatch.setattr(ids.secrets, "token_urlsafe", lambda nbytes: next(drawn))
    assert ids.new_id() == "AfterADashComesAnId_12"
