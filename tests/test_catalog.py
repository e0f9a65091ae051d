"""Every lab speaks the one contract: result -> dict -> result, result -> CSV -> record, one listing row.

Parametrised over every lab in the catalog, so a lab added without its
catalog entry, or one whose record does not round-trip, fails here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import replace

import pytest
from classics.classics_factories import every_classic
from cluster.cluster_factories import typical_run
from factories import make_machine, sha256_result, squares_result
from web.test_results import make_result as web_result

from lab.catalog import ALIASES, LABS, by_lab, csv_lab, lab_named, read_csv, read_record, write_csv
from lab.classics.results import ClassicsResult
from lab.classics.settings import ClassicsSettings
from lab.cluster.takeaway import takeaway as cluster_takeaway
from lab.compare.results import CompareResult
from lab.compare.settings import CompareSettings
from lab.compare.takeaway import compare_takeaway
from lab.convoy.report import takeaway as convoy_takeaway
from lab.convoy.results import ConvoyPoint, ConvoyResult
from lab.convoy.settings import ConvoySettings
from lab.core.contract import LabResult, RunListing
from lab.core.errors import ResultsFormatError
from lab.core.interpreters import PythonChoice, RunInterpreter
from lab.core.steadiness import judge
from lab.engine.settings import RunSettings
from lab.run.takeaway import takeaway as run_takeaway
from lab.sweep.results import SweepPoint, SweepResult
from lab.sweep.settings import SweepSettings
from lab.web.takeaway import takeaway as web_takeaway


def interpreter(name: str) -> RunInterpreter:
    return RunInterpreter(name, "3.13.5", "CPython", name.endswith("t"), not name.endswith("t"), "/x/python")


def convoy_result() -> ConvoyResult:
    settings = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=1)
    points = tuple(
        ConvoyPoint(
            cpu_threads=threads,
            switch_interval_ms=interval,
            seconds=1.0,
            at=tuple(index * 0.02 for index in range(20)),
            latency_ms=tuple(0.1 + threads * interval for _ in range(20)),
            lost=0,
            gil_enabled=True,
        )
        for threads, interval in settings.points()
    )
    return ConvoyResult(settings, make_machine(), points, interpreter=interpreter("3.13"))


def sweep_result() -> SweepResult:
    settings = SweepSettings.create(RunSettings.create("squares"), workers="1,2", modes="threads,processes")
    points = tuple(
        SweepPoint(mode, "3.13", workers, 4, 1, seconds, seconds, seconds, seconds, 1.0)
        for mode, workers, seconds in (
            ("threads", 1, 1.0),
            ("threads", 2, 1.0),
            ("processes", 1, 1.0),
            ("processes", 2, 0.55),
        )
    )
    return SweepResult(settings, make_machine(), ("3.13",), points)


def classics_result() -> ClassicsResult:
    settings = ClassicsSettings.create(pythons="3.13,3.13t")
    return ClassicsResult(settings, make_machine(), tuple(every_classic()), run_id="classics01")


def compare_result() -> CompareResult:
    runs = (
        replace(squares_result(), interpreter=interpreter("3.13"), series="cmp000000001", run_id="cmp1a"),
        replace(squares_result(), interpreter=interpreter("3.13t"), series="cmp000000001", run_id="cmp1b"),
    )
    base = replace(runs[0].settings, python=None, gil=None)
    settings = CompareSettings(base, (PythonChoice("3.13"), PythonChoice("3.13t")))
    return CompareResult(settings, runs, run_id="cmp000000001", created=runs[0].created)


RESULTS: dict[str, Callable[[], LabResult]] = {
    "run": sha256_result,
    "web": web_result,
    "convoy": convoy_result,
    "cluster": typical_run,
    "compare": compare_result,
    "sweep": sweep_result,
    "classics": classics_result,
}


def test_every_lab_in_the_catalog_is_tested_here() -> None:
    assert set(RESULTS) == set(LABS)


@pytest.mark.parametrize("lab", RESULTS)
def test_a_result_says_its_lab_and_comes_back_whole_from_its_json(lab: str) -> None:
    result = RESULTS[lab]()
    assert isinstance(result, LabResult) and result.lab == lab
    data = result.to_dict()
    assert data["lab"] == lab and data["run_id"] == result.run_id
    again = read_record(data)
    assert type(again) is type(result) and again.to_dict() == data


@pytest.mark.parametrize("lab", RESULTS)
def test_a_result_comes_back_from_its_csv_as_a_record_of_the_same_lab_that_stores_and_reopens(
    lab: str,
) -> None:
    result = RESULTS[lab]()
    text = write_csv([result])
    assert csv_lab(text).name == lab
    (record,) = read_csv(text)
    assert record.lab == lab and record.run_id == result.run_id and record.created == result.created
    assert record.listing() == result.listing()
    assert read_record(record.to_dict()).to_dict() == record.to_dict()  # an imported run stores too


@pytest.mark.parametrize("lab", RESULTS)
def test_every_listing_row_names_its_run_and_a_headline_with_what_it_measures(lab: str) -> None:
    listing = RESULTS[lab]().listing()
    assert isinstance(listing, RunListing) and listing.lab == lab and listing.status == "complete"
    assert listing.headline is not None and listing.headline > 0 and listing.headline_label
    assert listing.usable_cores == 2.0
    assert listing.to_dict()["interpreters"] == list(listing.interpreters)


def test_a_listing_reads_the_best_speedup_of_a_run_and_the_interpreters_of_a_comparison() -> None:
    result = squares_result()
    assert result.listing().headline == max(
        summary.speedup for summary in result.summaries() if summary.mode != "batch" and summary.speedup
    )
    assert compare_result().listing().interpreters == ("3.13", "3.13t")


def legacy_csv(text: str, rename: dict[str, str], drop: tuple[str, ...]) -> str:
    """The same rows as a GIL Lab of before wrote them: columns renamed or missing."""
    rows = list(csv.DictReader(io.StringIO(text)))
    names = [rename.get(name, name) for name in rows[0] if name not in drop]
    out = io.StringIO()
    writer = csv.DictWriter(out, names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({rename.get(name, name): value for name, value in row.items() if name not in drop})
    return out.getvalue()


@pytest.mark.parametrize(
    ("lab", "rename", "drop"),
    [
        ("run", {"workload_kind": "kind"}, ("lab", "cpu_model")),
        ("compare", {"workload_kind": "kind"}, ("lab", "cpu_model")),
        ("web", {"lab": "kind"}, ("cpu_model",)),
        ("convoy", {"lab": "kind"}, ("cpu_model",)),
        ("cluster", {"lab": "kind"}, ("cpu_model",)),
        ("sweep", {}, ("lab", "cpu_model")),
        ("classics", {}, ("cpu_model",)),
    ],
)
def test_csv_files_written_before_the_lab_column_still_import(
    lab: str, rename: dict[str, str], drop: tuple[str, ...]
) -> None:
    result = RESULTS[lab]()
    (record,) = read_csv(legacy_csv(write_csv([result]), rename, drop))
    assert record.lab == lab and record.run_id == result.run_id and record.machine is not None
    assert record.machine.cpu_model is None


def test_old_names_lead_to_todays_lab_and_unknown_ones_to_none() -> None:
    assert {ALIASES[name] for name in ("engine", "runs", "cpu", "io")} == {"run"}
    assert lab_named("scaling") is LABS["sweep"] and lab_named("sweep") is LABS["sweep"]
    assert lab_named("mining") is None and lab_named(None) is None


def test_a_json_record_of_before_the_lab_key_opens_by_its_kind_or_as_a_run() -> None:
    data = squares_result().to_dict()
    del data["lab"]
    assert read_record(data).lab == "run"
    web = web_result().to_dict()
    del web["lab"]
    assert read_record(web).lab == "web"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "not a JSON object"),
        ({"lab": "mining"}, "no lab is called 'mining'"),
        ({"lab": "web", "imported_csv": 5}, "CSV is not text"),
        ({"lab": "web", "kind": "web", "schema_version": 1}, "unknown status"),
    ],
)
def test_a_record_that_is_not_one_is_refused_in_one_line(data: object, message: str) -> None:
    with pytest.raises(ResultsFormatError, match=message) as caught:
        read_record(data)
    assert "\n" not in str(caught.value)


def test_an_imported_record_must_hold_its_own_run() -> None:
    (record,) = read_csv(write_csv([web_result()]))
    data = record.to_dict() | {"run_id": "someoneelse1"}
    with pytest.raises(ResultsFormatError, match="does not hold run 'someoneelse1'"):
        read_record(data)


def test_one_csv_holds_one_labs_runs_and_records_group_by_lab_in_catalog_order() -> None:
    records = [web_result(), squares_result(), sweep_result(), sha256_result()]
    with pytest.raises(ValueError, match="one CSV holds one lab"):
        write_csv(records)
    assert [(lab, len(group)) for lab, group in by_lab(records).items()] == [
        ("run", 2),
        ("web", 1),
        ("sweep", 1),
    ]


@pytest.mark.parametrize("lab", sorted(set(RESULTS) - {"sweep"}))
def test_every_labs_record_says_how_steady_the_machine_was_through_json_csv_and_its_listing(lab: str) -> None:
    unsteady = judge((2.0, 2.6), 0.1, 0.0)
    result = replace(RESULTS[lab](), steadiness=unsteady)
    if isinstance(result, CompareResult):  # its CSV is its runs' rows: each run says its own
        result = replace(result, runs=tuple(replace(run, steadiness=unsteady) for run in result.runs))
    again = read_record(result.to_dict())
    assert again.steadiness == unsteady and again.listing().steady is False
    (imported,) = read_csv(write_csv([result]))
    kept = imported.runs[0].steadiness if isinstance(imported, CompareResult) else imported.steadiness
    assert kept is not None and kept.steady is False and kept.reason == unsteady.reason
    assert RESULTS[lab]().listing().steady is None  # not measured: unknown, never "steady"


def test_a_sweep_is_steady_where_every_point_was_and_unsteady_where_any_was_not() -> None:
    result = sweep_result()
    assert result.steady is None and result.listing().steady is None
    points = tuple(replace(point, steady=index != 1) for index, point in enumerate(result.points))
    assert replace(result, points=points).listing().steady is False
    assert replace(result, points=tuple(replace(p, steady=True) for p in points)).listing().steady is True


@pytest.mark.parametrize("lab", ["run", "web", "convoy", "cluster", "compare"])
def test_every_labs_takeaway_ends_with_one_line_when_the_machine_was_not_steady(lab: str) -> None:
    takeaways = {
        "run": run_takeaway,
        "web": web_takeaway,
        "convoy": convoy_takeaway,
        "cluster": cluster_takeaway,
        "compare": compare_takeaway,
    }
    unsteady = judge((2.0, 2.6), 0.1, 0.0)
    steady = takeaways[lab](RESULTS[lab]())
    said = takeaways[lab](replace(RESULTS[lab](), steadiness=unsteady))
    line = "The machine's speed changed by 26% during this run; compare its ratios with care, or run again."
    assert line not in steady and said.count(line) == 1
