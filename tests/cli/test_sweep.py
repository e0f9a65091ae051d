"""`python -m lab sweep` as a person runs it: formats, the fit here, one-line refusals, public mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from timing_tries import clock_relation, points_steadiness, until_good

from lab.core.steadiness import Steadiness
from lab.sweep import csvio as sweep_csv
from lab.sweep.results import SweepResult

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`

TINY = ("--size", "10000", "--repeats", "1", "--modes", "threads")


def lab(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def serial_fractions(data: dict[str, Any]) -> dict[str, float]:
    return {fit["mode"]: fit["serial_fraction"] for fit in data["fits"] if fit["serial_fraction"] is not None}


@pytest.mark.timing
@pytest.mark.slow
@pytest.mark.usefixtures("no_leftover_processes")
def test_threads_fit_a_serial_fraction_near_one_and_processes_near_zero_on_this_machine() -> None:
    """The issue's own command: on 2 cores, threads above 0.7 and processes below 0.25 (up to five tries).

    Beside the fit, its mechanism: threads under one GIL keep about one core busy at every worker count
    (in every try: other work can only lower a process's own cores busy), and two processes keep both
    busy. The fit's bounds are each checked on their mode's best try, and judged only on a steady
    machine (tests/timing_tries.py's clock_relation): this host slows a vCPU for seconds at a time,
    which moves a sweep's points either way (fresh-clone runs read processes at 0.31-0.51 in five
    unsteady tries of five, with two processes keeping 1.65-1.76 cores busy in each).
    """
    command = ("sweep", "squares", "--modes", "threads,processes", "--workers", "1,2,4", "--format", "json")

    def sweep() -> dict[str, Any]:
        out = lab(*command)
        assert out.returncode == 0, out.stderr
        parsed: dict[str, Any] = json.loads(out.stdout)
        return parsed

    def busy(data: dict[str, Any], mode: str) -> dict[int, float]:
        return {p["workers"]: p["cores_busy"] for p in data["points"] if p["mode"] == mode}

    def good(data: dict[str, Any]) -> bool:
        fractions = serial_fractions(data)
        return (
            fractions.get("threads", 0) > 0.7
            and fractions.get("processes", 1) < 0.25
            and max(busy(data, "threads").values()) <= 1.3
            and busy(data, "processes")[2] >= 1.6
        )

    def steadiness(data: dict[str, Any]) -> Steadiness | None:
        return points_steadiness([point.get("steady") for point in data["points"]])

    tries = until_good(sweep, good, steadiness=steadiness)
    seen = [(serial_fractions(each), busy(each, "threads"), busy(each, "processes")) for each in tries]
    report = f"serial fractions, threads' and processes' cores busy of every try: {seen}"
    data = tries[-1]
    assert data["scale"] == "strong" and data["machine"]["usable_cores"] >= 2
    assert [(p["mode"], p["workers"]) for p in data["points"]] == [
        ("threads", 1),
        ("threads", 2),
        ("threads", 4),
        ("processes", 1),
        ("processes", 2),
        ("processes", 4),
    ]
    assert all(p["tasks"] == 4 and p["repeats"] == 3 for p in data["points"])
    assert all(max(busy(each, "threads").values()) <= 1.3 for each in tries), f"{report}; {tries.report}"
    assert max(busy(each, "processes")[2] for each in tries) >= 1.6, f"{report}; {tries.report}"
    fractions = [serial_fractions(each) for each in tries]
    clock_relation(tries, max(found.get("threads", 0) for found in fractions) > 0.7, report)
    clock_relation(tries, min(found.get("processes", 1) for found in fractions) < 0.25, report)


@pytest.mark.usefixtures("no_leftover_processes")
def test_the_table_shows_every_point_and_a_fit_or_its_reason_per_line() -> None:
    out = lab("sweep", "squares", "--workers", "1,2", *TINY)
    assert out.returncode == 0, out.stderr
    assert "GIL Lab sweep · squares: 4 tasks of size 10,000" in out.stdout
    assert "Fits (Amdahl, strong scaling" in out.stdout and "Takeaway:" in out.stdout
    assert "serial fraction" in out.stdout
    assert "2 workers, round 1:" in out.stderr and "1 worker, round 1:" in out.stderr


@pytest.mark.usefixtures("no_leftover_processes")
def test_a_missing_one_worker_count_is_added_and_said(tmp_path: Path) -> None:
    target = tmp_path / "sweep.json"
    out = lab("sweep", "squares", "--workers", "2", *TINY, "--format", "json", "--output", str(target))
    assert out.returncode == 0, out.stderr
    assert "added 1 to the worker counts" in out.stderr
    data = json.loads(target.read_text())
    assert data["settings"]["workers"] == [1, 2] and data["settings"]["added_one"] is True
    assert SweepResult.from_dict(data).to_dict() == data


@pytest.mark.usefixtures("no_leftover_processes")
def test_weak_scaling_gives_each_worker_the_same_tasks_and_writes_a_csv_the_page_imports(
    tmp_path: Path,
) -> None:
    target = tmp_path / "sweep.csv"
    out = lab(
        "sweep", "squares", "--workers", "1,2", "--scale", "weak", "--tasks-per-worker", "2", *TINY,
        "--format", "csv", "--output", str(target),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    (sweep,) = sweep_csv.from_csv(target.read_text())
    assert sweep.scale == "weak"
    assert [(p.workers, p.tasks) for p in sweep.points] == [(1, 2), (2, 4)]
    assert all(sweep.efficiency(point) is not None for point in sweep.points)
    assert sweep_csv.to_csv([sweep]) == target.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers=0,1,2",), "worker counts start at 1, got 0"),
        (("--workers", "1,-2"), "worker counts start at 1, got -2"),
        (("--workers", "1,2,2"), "worker count 2 appears twice"),
        (("--workers", "1"), "a sweep needs a worker count above 1"),
        (("--workers", "1,2,4", "--tasks", "6"), "use a multiple of 4"),
        (("--scale", "weak", "--tasks", "4"), "set --tasks-per-worker, not --tasks"),
        (("--modes", "batch"), "unknown sweep mode 'batch'"),
        (("--threads", "4"), "leave out --threads"),
        (("--python", "no-such-python"), "unknown interpreter 'no-such-python'"),
        (("--python", "3.11:gil=maybe"), "the GIL switch is gil=on or gil=off"),
        (("--output", "/no/such/folder/out.json"), "no such folder"),
    ],
)
def test_bad_input_is_refused_in_one_line_with_exit_status_2(args: tuple[str, ...], message: str) -> None:
    out = lab("sweep", "squares", *args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--workers", "1,2,4,8,16", "--modes", "processes"), "drop the worker counts above"),
        (("--workers", "1,2", "--size", "30000000"), "the limit here is 30 s — lower Repeats, worker counts"),
        (
            (
                "--repeats",
                "20",
            ),
            "repeats here; lower Repeats",
        ),
    ],
)
def test_public_mode_refuses_a_sweep_over_budget_and_says_what_to_lower(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    env = {"GIL_LAB_PUBLIC": "1", "GIL_LAB_QUEUE_DIR": str(tmp_path), "GIL_LAB_MAX_PROCESSES": "4"}
    out = lab("sweep", "squares", *args, env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
