"""Writes tests/store/runs_v1.sql: a run store as the first version of its schema left it.

Kept so the migration test reads a database written before today's schema
(version 1 had no `cpu_model` or `steady` columns and its records' machines
no `cpu_model`). Portable SQL, so the same dump loads into SQLite and
PostgreSQL. Run it again only to rebuild the dump from the samples:
`python tests/store/make_v1_dump.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
IDS = {"run": "v1-run-stored-before-0", "web": "v1-web-stored-before-0"}

SCHEMA = """CREATE TABLE gil_lab_schema (version INTEGER NOT NULL);
INSERT INTO gil_lab_schema (version) VALUES (1);
CREATE TABLE runs (
    id VARCHAR(22) NOT NULL PRIMARY KEY,
    lab VARCHAR(32) NOT NULL,
    run_id VARCHAR(64) NOT NULL,
    created VARCHAR(40) NOT NULL,
    stored_at FLOAT NOT NULL,
    status VARCHAR(32) NOT NULL,
    workload VARCHAR(200),
    interpreters VARCHAR(500),
    headline FLOAT,
    headline_label VARCHAR(40),
    usable_cores FLOAT,
    size_bytes INTEGER NOT NULL,
    source VARCHAR(32) NOT NULL,
    owner VARCHAR(64),
    private_code BOOLEAN NOT NULL,
    pinned BOOLEAN NOT NULL,
    record_version INTEGER,
    body TEXT NOT NULL,
    CONSTRAINT runs_lab_run_id UNIQUE (lab, run_id)
);
CREATE INDEX runs_stored_at ON runs (stored_at);
"""


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def row(stored: str, lab: str, stored_at: float) -> str:
    data = json.loads((HERE / "samples" / f"{lab}.json").read_text())
    data["machine"].pop("cpu_model", None)  # version 1's records were written before the CPU model
    body = json.dumps(data, separators=(",", ":"))
    values = [
        quoted(stored), quoted(lab), quoted(data["run_id"]), quoted(data["created"]), repr(stored_at),
        quoted(data["status"]), quoted("squares" if lab == "run" else "def_wait,async_wait"),
        quoted("3.11 (GIL on)"), "NULL", "NULL", repr(data["machine"]["usable_cores"]),
        str(len(body.encode())), quoted("measured"), "NULL", "FALSE", "FALSE",
        str(data["schema_version"]), quoted(body),
    ]  # fmt: skip
    return f"INSERT INTO runs VALUES ({', '.join(values)});\n"


def main() -> None:
    lines = [SCHEMA, row(IDS["run"], "run", 1_700_000_000.0), row(IDS["web"], "web", 1_700_000_100.0)]
    (HERE / "runs_v1.sql").write_text("".join(lines))


if __name__ == "__main__":
    main()
