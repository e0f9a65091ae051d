"""The Cluster lab's CSV: one row per run x layout, a lossless round trip, and all-or-nothing import."""

from __future__ import annotations

import csv
import io

import pytest
from cluster.cluster_factories import remote_run, typical_run

from lab.cluster.csvio import ImportedClusterRun, from_csv, to_csv
from lab.cluster.results import ClusterResult
from lab.core.errors import ResultsFormatError


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def edited(text: str, line: int, column: str, value: str) -> str:
    """The CSV with one cell changed (line 1 is the first data row)."""
    rows = rows_of(text)
    rows[line - 1][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_each_layout_is_a_row_with_a_layout_column() -> None:
    rows = rows_of(to_csv([typical_run(), remote_run()]))
    assert [row["layout"] for row in rows] == ["1x1", "1x2", "2x1", "2x1"]
    assert [row["scheduler"] for row in rows] == ["local"] * 3 + ["tcp://127.0.0.1:8786"]
    assert rows[2]["workers"] == "2" and rows[2]["threads_per_worker"] == "1"
    assert float(rows[0]["speedup"]) == 1.0 and rows[3]["layouts_setting"] == ""


def test_export_import_export_gives_back_the_same_text() -> None:
    runs = [typical_run(repeats=2), typical_run(failed=2), remote_run()]
    text = to_csv(runs)
    imported = from_csv(text)
    assert to_csv(imported) == text
    assert all(isinstance(run, ImportedClusterRun) for run in imported)
    assert [run.run_id for run in imported] == [run.run_id for run in runs]


def test_an_imported_run_answers_like_the_measured_one() -> None:
    measured = typical_run(failed=1)
    (imported,) = from_csv(to_csv([measured]))
    assert imported.settings == measured.settings and imported.machine == measured.machine
    assert imported.scheduler == "local" and imported.all_ok == measured.all_ok
    for mine, theirs in zip(imported.summaries(), measured.summaries(), strict=True):
        assert (mine.name, mine.seconds, mine.speedup, mine.failed) == (
            theirs.name,
            theirs.seconds,
            theirs.speedup,
            theirs.failed,
        )
        assert mine.tasks == ()


def test_a_run_that_measured_nothing_is_still_one_row() -> None:
    result = typical_run()
    empty = ClusterResult(result.settings, result.machine, (), status="crashed", message="no scheduler")
    text = to_csv([empty])
    assert len(rows_of(text)) == 1 and rows_of(text)[0]["layout"] == ""
    (again,) = from_csv(text)
    assert again.summaries() == [] and again.message == "no scheduler"


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (1, "seconds", "-1", "line 2, column seconds: must be a finite number >= 0"),
        (2, "layout", "3x1", "line 3: layout '3x1' does not match its workers"),
        (2, "worker_threads", "1+1", "line 3: workers does not match worker_threads"),
        (3, "position", "0", "line 4: position 0 appears twice"),
        (3, "position", "7", "line 4: position 7 is beyond the run's layouts"),
        (4, "lab", "web", "line 5: lab 'web' is not a cluster-lab run"),
        (2, "workload", "sha256", "line 3: the run has a different workload than above"),
        (4, "scheduler", "http://x", "line 5: invalid settings"),
        (1, "ok", "", "line 2: column ok is empty"),
    ],
)
def test_a_bad_cell_refuses_the_whole_file_in_one_line(
    line: int, column: str, value: str, message: str
) -> None:
    text = to_csv([typical_run(), remote_run()])
    with pytest.raises(ResultsFormatError, match=message) as error:
        from_csv(edited(text, line, column, value))
    assert "\n" not in str(error.value)


def test_files_that_are_not_cluster_csvs_are_refused() -> None:
    with pytest.raises(ResultsFormatError, match="empty"):
        from_csv("")
    with pytest.raises(ResultsFormatError, match="missing columns"):
        from_csv("schema_version,run_id\n1,abc\n")
    with pytest.raises(ResultsFormatError, match="header but no runs"):
        from_csv(to_csv([typical_run()]).splitlines()[0] + "\n")
    with pytest.raises(ResultsFormatError, match="not UTF-8"):
        from_csv(b"\xff\xfe\x00")
