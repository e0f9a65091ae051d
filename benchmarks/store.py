"""The run store with 10,000 runs of mixed labs, on SQLite and PostgreSQL (goals: save < 50 ms, list < 300 ms).

Fills a new store with real records of the six labs (tests/store/samples,
each saved under a fresh run id, round robin), timing every save, then
times: the Runs list's first page (50 rows, as the page asks for it, and
filtered by lab), opening a run (the query plus decoding its JSON into its
lab's record) and building its charts (what a permalink draws), and the
bytes the database holds per run.

PostgreSQL: `--postgres URL` uses that server; otherwise a throwaway server
is started from Debian's binaries (tests/pg_server.py) when they are installed.

Run: python benchmarks/store.py [--runs 10000] [--only sqlite|postgresql] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import func, select, text  # noqa: E402

from lab.app.report import figures  # noqa: E402
from lab.catalog import read_record  # noqa: E402
from lab.store.schema import runs  # noqa: E402
from lab.store.store import RunStore  # noqa: E402

SAMPLES = ROOT / "tests" / "store" / "samples"
LABS = ("run", "compare", "sweep", "web", "convoy", "cluster")


def records() -> dict[str, Any]:
    return {lab: read_record(json.loads((SAMPLES / f"{lab}.json").read_text())) for lab in LABS}


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(ordered) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms, max {ordered[-1] * 1000:6.1f} ms"


def timed(action: Callable[[], Any], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        begin = time.perf_counter()
        action()
        times.append(time.perf_counter() - begin)
    return times


def database_bytes(store: RunStore) -> int:
    with store.transaction(write=True) as connection:
        if store.postgres:
            return int(connection.execute(select(func.pg_total_relation_size("runs"))).scalar() or 0)
    path = Path(store.engine.url.database or "")
    with store.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return path.stat().st_size


def bench(name: str, url: str, count: int) -> None:
    made = records()
    print(f"--- {name}: {count:,} runs of {len(LABS)} labs ---")
    with RunStore.open(url) as store:
        saves = []
        begin = time.perf_counter()
        for number in range(count):
            lab = LABS[number % len(LABS)]
            record = replace(made[lab], run_id=f"bench-{number}")
            started = time.perf_counter()
            store.save(record)
            saves.append(time.perf_counter() - started)
        print(f"filled in {time.perf_counter() - begin:.1f} s")
        print(f"save (one run, one transaction):   {ms(saves)}")
        print(f"  the last 1,000 saves:            {ms(saves[-1000:])}")
        print(f"list, first page of 50:            {ms(timed(lambda: store.list(limit=50), 30))}")
        print(f"list, first page of 50, by lab:    {ms(timed(lambda: store.list(lab='web', limit=50), 30))}")
        print(
            f"list, 50 opened (unreadable check): {ms(timed(lambda: store.list(limit=50, check=True), 10))}"
        )
        print(f"count:                             {ms(timed(store.count, 30))}")
        ids = {lab: [row.id for row in store.list(lab=lab, limit=200)] for lab in LABS}
        for lab in LABS:
            opened = timed(lambda lab=lab: store.get(random.choice(ids[lab])), 30)
            drawn = timed(lambda lab=lab: figures(store.get(random.choice(ids[lab])).record, lab), 5)
            print(f"open a {lab:<8} (query + decode):   {ms(opened)}; + its charts built: {ms(drawn)}")
        with store.transaction() as connection:
            body = connection.execute(select(func.avg(runs.c.size_bytes))).scalar()
        size = database_bytes(store)
        print(
            f"database: {size / 1e6:.1f} MB, {size / count / 1024:.1f} KiB per run (JSON {float(body or 0) / 1024:.1f} KiB)"
        )


@contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    if url is not None:
        yield url
        return
    from pg_server import PgServer, find_binaries

    binaries = find_binaries()
    if binaries is None:
        print("PostgreSQL is not installed here (scripts/ensure-postgresql): skipping it")
        yield None
        return
    server = PgServer(binaries)
    try:
        server.start()
        yield server.new_database()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--postgres", metavar="URL")
    args = parser.parse_args()
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as folder:
            bench("SQLite (WAL)", f"sqlite:///{folder}/runs.db", args.runs)
    if args.only != "sqlite":
        with postgres(args.postgres) as url:
            if url is not None:
                bench("PostgreSQL", url, args.runs)


if __name__ == "__main__":
    main()
