"""`python -m lab runs`: list, show, delete, pin, import and bad ids, in process on a store of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from store_samples import LABS, sample

from lab.catalog import write_csv
from lab.cli.main import main
from lab.store.schema import runs
from lab.store.store import RunStore


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunStore:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("GIL_LAB_DATABASE_URL", raising=False)
    monkeypatch.delenv("GIL_LAB_PUBLIC", raising=False)
    return RunStore.open()


def test_list_shows_every_lab_newest_first_as_a_table_or_json(
    store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [store.save(sample(lab)) for lab in LABS]
    assert main(["runs", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in listed] == ids[::-1] and all(row["readable"] for row in listed)
    assert main(["runs", "list", "--lab", "web", "--limit", "5"]) == 0
    table = capsys.readouterr().out
    assert ids[LABS.index("web")] in table and "1 of 1 stored run(s)" in table


@pytest.mark.parametrize("lab", LABS)
def test_show_gives_each_labs_json_table_and_csv(
    store: RunStore, capsys: pytest.CaptureFixture[str], lab: str
) -> None:
    record = sample(lab)
    stored = store.save(record)
    assert main(["runs", "show", stored, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == record.run_id
    assert main(["runs", "show", stored]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["runs", "show", stored, "--format", "csv"]) == 0
    assert record.run_id in capsys.readouterr().out


def test_delete_and_pin_say_what_they_did(store: RunStore, capsys: pytest.CaptureFixture[str]) -> None:
    stored = store.save(sample("run"))
    assert main(["runs", "pin", stored]) == 0 and store.get(stored).pinned
    assert main(["runs", "pin", stored, "--off"]) == 0 and not store.get(stored).pinned
    assert main(["runs", "delete", stored]) == 0 and store.count() == 0
    assert capsys.readouterr().err.splitlines() == [
        f"pinned run {stored}",
        f"unpinned run {stored}",
        f"deleted run {stored}",
    ]


@pytest.mark.parametrize("lab", LABS)
def test_a_csv_of_any_lab_imports_with_store_ids_and_shows_again(
    store: RunStore, capsys: pytest.CaptureFixture[str], tmp_path: Path, lab: str
) -> None:
    record = sample(lab)
    path = tmp_path / "runs.csv"
    path.write_text(write_csv([record]))
    assert main(["runs", "import", str(path)]) == 0
    assert main(["runs", "import", str(path)]) == 0  # the same runs again: stored once
    [row] = store.list()
    assert row.lab == lab and row.source == "imported" and row.run_id == record.run_id
    assert store.get(row.id).readable
    assert main(["runs", "show", row.id, "--format", "csv"]) == 0
    assert record.run_id in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["runs", "show", "'; DROP TABLE runs; --"], "not a run id"),
        (["runs", "delete", "x" * 5000], "not a run id: 5,000 characters long"),
        (["runs", "pin", "B" * 22], "no stored run has the id"),
        (["runs", "import", "/no/such/file.csv"], "cannot read /no/such/file.csv"),
        (["runs", "list", "--limit", "0"], "--limit: from 1 to 1000"),
    ],
)
def test_bad_input_is_one_line_and_exit_status_2(
    store: RunStore, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    status = exit_status(argv)
    err = capsys.readouterr().err
    assert status == 2 and says in err and len(err.strip().splitlines()) == 1


def exit_status(argv: list[str]) -> int | str | None:
    """main's return value, or argparse's exit status for a usage error."""
    try:
        return main(argv)
    except SystemExit as ended:
        return ended.code


def test_a_csv_that_is_not_one_is_refused_in_one_line(
    store: RunStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n1,2\n")
    assert main(["runs", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m lab runs: error: ") and len(err.strip().splitlines()) == 1
    assert store.count() == 0


def test_an_unreadable_row_is_listed_as_such_and_show_says_why(
    store: RunStore, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = store.save(sample("convoy"))
    with store.transaction(write=True) as connection:
        connection.execute(update(runs).where(runs.c.id == stored).values(body="[]"))
    assert main(["runs", "list"]) == 0
    assert "unreadable: not a GIL Lab result" in capsys.readouterr().out
    assert main(["runs", "show", stored]) == 1
    assert "cannot be shown: unreadable" in capsys.readouterr().err
