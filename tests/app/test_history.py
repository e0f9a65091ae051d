"""The page's history: a list of every lab's runs, its tables, and importing any lab's CSV."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from factories import failed_http_result, repeated_result, sha256_result, sleep_result, squares_result

from lab.app.history import (
    HISTORY_TABLE_COLUMNS,
    add_runs,
    history_table,
    import_any_csv,
    modes_table,
    remove_run,
)
from lab.core.steadiness import judge
from lab.engine.results import RunResult
from lab.run.csvio import Run, from_csv, to_csv


def sample_history() -> list[Run]:
    return [
        squares_result(),
        repeated_result(),
        sleep_result(run_id="sleep01", status="cut_short", message='stopped: "budget", 30 s\nover'),
        failed_http_result(),
        sha256_result(run_id="sha01", workers=3, threads=7, start_method="spawn"),
    ]


def test_add_runs_returns_a_new_list_and_skips_known_run_ids() -> None:
    history: list[Run] = [squares_result()]
    updated = add_runs(history, [squares_result(), repeated_result(), repeated_result()])
    assert [run.run_id for run in updated] == ["run0001", "run0002"]
    assert len(history) == 1


def test_remove_run_drops_only_that_run() -> None:
    history = sample_history()
    updated = remove_run(history, "run0002")
    assert [run.run_id for run in updated] == ["run0001", "sleep01", "run0003", "sha01"]
    assert len(history) == 5
    assert remove_run(history, "nope") == history


def test_history_table_has_one_row_per_run_with_best_mode() -> None:
    table = history_table(sample_history())
    assert list(table.columns) == list(HISTORY_TABLE_COLUMNS)
    assert list(table["run"]) == [1, 2, 3, 4, 5]
    first = table.iloc[0]
    assert first["workload"] == "squares"
    assert first["modes"] == "batch, threads, processes"
    assert first["best mode"] == "processes"
    assert first["speedup"] == pytest.approx(2.0 / 1.05)
    assert first["status"] == "complete"
    assert "2 usable cores" in first["machine"]
    assert first["source"] == "measured"
    assert table.iloc[2]["status"] == "cut short"
    assert table.iloc[2]["best mode"] == "asyncio"


def test_history_table_never_picks_a_failed_mode_as_best() -> None:
    row = history_table([failed_http_result()]).iloc[0]
    assert row["best mode"] == "batch"
    assert "13 failed tasks" in row["status"]


def test_history_table_of_an_empty_history_has_the_columns() -> None:
    table = history_table([])
    assert table.empty
    assert list(table.columns) == list(HISTORY_TABLE_COLUMNS)


def test_modes_table_is_tidy_and_numbered_like_the_history_table() -> None:
    table = modes_table(sample_history())
    assert len(table) == sum(len(run.modes) for run in sample_history())
    assert set(table["run"]) == {1, 2, 3, 4, 5}
    row = table[(table["run"] == 1) & (table["mode"] == "threads")].iloc[0]
    assert row["speedup"] == pytest.approx(2.0 / 2.06)
    assert row["label"] == "#1 squares"
    assert table["speedup"].dtype == "float64"


def test_history_table_treats_imported_runs_like_measured_ones() -> None:
    history = sample_history()
    measured = history_table(history).drop(columns="source")
    imported = history_table(from_csv(to_csv(history)))
    assert set(imported["source"]) == {"imported"}
    pd.testing.assert_frame_equal(imported.drop(columns="source"), measured)


def test_import_csv_adds_new_runs_and_counts_them() -> None:
    text = to_csv(sample_history())
    history: list[Run] = [squares_result()]
    updated, added = import_any_csv(history, text)
    assert added == 4
    assert [run.run_id for run in updated] == ["run0001", "run0002", "sleep01", "run0003", "sha01"]
    assert isinstance(updated[0], RunResult)
    assert len(history) == 1
    again, added_again = import_any_csv(updated, text)
    assert added_again == 0 and again == updated


def test_history_table_marks_a_run_taken_on_an_unsteady_machine() -> None:
    unsteady = replace(squares_result(), steadiness=judge((2.0, 2.62), 0.1, 0.0))
    steady = replace(sha256_result(), steadiness=judge((2.0, 2.0), 0.1, 0.0))
    table = history_table([unsteady, steady])
    assert list(table["status"]) == ["complete, machine not steady", "complete"]
