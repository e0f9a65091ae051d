"""Each classic's shape and agreement logic, from made-up measured numbers (no process runs)."""

from __future__ import annotations

import pytest
from classics.classics_factories import convoy, countdown, every_classic, outcome

from lab.classics.agreement import compare, measured_for, within
from lab.classics.catalogue import CLASSIC_NAMES, CLASSICS
from lab.classics.results import build_record


def record(name: str, outcomes: list, cores: float = 2.0, missing: str | None = None):  # type: ignore[no-untyped-def]
    return build_record(name, outcomes, cores, missing)


@pytest.mark.parametrize("name", CLASSIC_NAMES)
def test_every_classic_has_a_source_published_figures_measured_figures_comparisons_and_a_sentence(
    name: str,
) -> None:
    entry = record(name, every_classic()).to_dict()
    assert {"name", "source", "published", "measured", "compare", "why"} <= set(entry)
    assert entry["name"] == name and entry["published"] == CLASSICS[name].published
    assert all(source["url"].startswith("http") and source["year"] > 2000 for source in entry["source"])
    assert entry["compare"], "a classic sets at least one ratio beside the published one"
    for row in entry["compare"]:
        assert set(row) >= {"what", "published", "measured", "agrees"}
    assert any(row["measured"] is not None for row in entry["compare"])
    assert entry["why"].endswith(".") and "Not run" not in entry["why"]


def test_within_is_a_factor_either_way_and_none_without_a_measurement() -> None:
    assert within(1.9, 1.0, 2.0) and within(0.51, 1.0, 2.0)
    assert not within(2.1, 1.0, 2.0) and not within(0.49, 1.0, 2.0)
    assert within(None, 1.0, 2.0) is None and within(1.0, None, 2.0) is None


def test_the_countdown_on_the_new_gil_differs_from_beazley_as_expected_and_free_threading_reverses_it() -> (
    None
):
    rows = record(
        "countdown", countdown("3.12", 1.0, 1.05, 1.1) + countdown("3.13t", 1.0, 0.55, 0.6, gil=False)
    ).compare
    new_gil = [row for row in rows if "3.12" in row.what]
    assert [round(row.published or 0, 2) for row in new_gil] == [1.85, 1.97, 2.01]
    assert all(row.agrees is False and row.as_expected for row in new_gil)
    free = [row for row in rows if "3.13t" in row.what]
    assert all(row.as_expected for row in free) and free[0].measured == pytest.approx(0.55)
    one_core = rows[0]
    assert (
        one_core.measured is None and one_core.agrees is None and "not run here" in (one_core.expected or "")
    )


def test_a_gil_build_whose_threads_ran_much_slower_is_not_as_expected_and_the_sentence_says_so() -> None:
    entry = record("countdown", countdown("3.11", 1.0, 1.5, 1.6))
    assert not any(row.as_expected for row in entry.compare if row.measured is not None)
    assert "1.50× slower" in entry.why


def test_the_convoy_rps_follows_one_over_the_switch_interval_within_a_factor_of_two() -> None:
    rows = record("convoy", convoy(0.2, 1.2, 4.0, 15.0)).compare
    law = [row for row in rows if row.as_expected is not None]
    assert len(law) == 3 and all(row.as_expected for row in law)
    assert law[1].published == 100 and law[1].measured == pytest.approx(250)  # 1000 / 4 ms
    late = record("convoy", convoy(0.2, 1.2, 12.0, 15.0)).compare  # 83 RPS at 5 ms: 0.42 of 200
    assert [row.as_expected for row in late if row.as_expected is not None] == [True, False, True]
    in_process = rows[-1]
    assert in_process.measured is None and "another process" in in_process.what


def test_stinner_subinterpreters_agree_within_1_3_of_processes() -> None:
    def rows(interpreters: float) -> list:  # type: ignore[type-arg]
        step = outcome(
            "stinner",
            "modes",
            "3.13",
            seconds__batch=0.8,
            seconds__threads=0.8,
            seconds__processes=0.4,
            seconds__interpreters=interpreters,
            workers__processes=2,
        )
        return record("stinner", [step]).compare

    assert rows(0.5)[2].as_expected and rows(0.5)[2].agrees
    assert not rows(0.6)[2].as_expected  # 1.5x processes
    assert rows(0.5)[1].measured == pytest.approx(1.0)  # speedup 2 on 2 cores used


def test_sha256_and_ccbench_compare_speedups_per_core() -> None:
    rows = record("sha256", every_classic()).compare
    assert rows[0].measured == pytest.approx(0.4 / 0.21 / 2) and rows[0].agrees
    assert record("sha256", every_classic(), cores=1.0).compare[0].measured == pytest.approx(0.4 / 0.21)
    pi, bz = record("ccbench", every_classic()).compare
    assert pi.agrees and bz.agrees and bz.measured == pytest.approx(0.6 / 0.31)


def test_the_free_threaded_cost_is_set_beside_the_three_published_figures() -> None:
    rows = record("free-threaded", every_classic()).compare
    assert [row.agrees for row in rows] == [True, False, True]  # a 6 % cost
    assert rows[0].measured == pytest.approx(1.06) and rows[0].published == pytest.approx(1.055)
    forty = [
        outcome("free-threaded", "gil", "3.13", seconds__batch=0.5, seconds__threads=0.5),
        outcome("free-threaded", "free", "3.13t", seconds__batch=0.7, seconds__threads=0.35),
    ]
    assert [row.agrees for row in record("free-threaded", forty).compare] == [False, True, False]
    releases = [
        outcome("free-threaded", "gil", "3.13", seconds__batch=0.6, version="3.13.0"),
        outcome("free-threaded", "free", "3.13t", seconds__batch=0.5, version="3.13.5"),
    ]
    why = record("free-threaded", releases).why
    assert "17% faster" in why and "different releases (3.13.0 and 3.13.5)" in why


def test_a_classic_the_machine_cannot_run_shows_the_published_figures_alone_with_the_reason() -> None:
    entry = record("free-threaded", [], missing="no free-threaded build here")
    assert entry.compare == () and entry.measured == {}
    assert entry.published == CLASSICS["free-threaded"].published
    assert entry.why.startswith("Not run here: no free-threaded build here")


def test_fastapi_compares_throughput_with_40_threads_over_the_latency() -> None:
    (row,) = record("fastapi", every_classic()).compare
    assert row.published == 1.0 and row.measured == pytest.approx(0.95) and row.agrees
    assert "190 requests/s" in record("fastapi", every_classic()).why


def test_a_machine_that_was_not_steady_is_named_in_the_sentence() -> None:
    busy = [outcome("ccbench", "pidigits", seconds__batch=0.6, seconds__threads=0.6, cores_busy__batch=0.45)]
    assert "not steady" in record("ccbench", busy).why and "0.45 of a core" in record("ccbench", busy).why
    assert "not steady" not in record("ccbench", every_classic()).why


def test_measured_figures_leave_out_what_a_failed_step_did_not_measure() -> None:
    measured = measured_for("ccbench", [outcome("ccbench", "pidigits", seconds__batch=0.6)])
    assert measured["pidigits_ratio"] is None and measured["bz2_ratio"] is None
    rows = compare("ccbench", CLASSICS["ccbench"].published, measured, 2.0)
    assert all(row.agrees is None for row in rows)
    assert "Nothing was measured" in record("ccbench", [outcome("ccbench", "pidigits")]).why
