"""`python -m lab compare` and `python -m lab pythons`, as a person runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # real runs in child processes: the full tier, not `make check`


def lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "lab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def test_pythons_lists_the_gil_builds_the_free_threaded_build_and_the_too_old_ones() -> None:
    out = lab("pythons", "--format", "json")
    assert out.returncode == 0, out.stderr
    found = {python["name"]: python for python in json.loads(out.stdout) if python["usable"]}
    assert {"3.11", "3.12", "3.13", "3.13t"} <= set(found)
    assert found["3.13t"]["free_threaded"] and not found["3.13"]["free_threaded"]
    assert found["3.12"]["subinterpreters"] and found["3.11"]["subinterpreters"] is None
    table = lab("pythons").stdout
    assert "free-threaded" in table and "Not usable" in table


def test_compare_prints_one_run_per_interpreter_each_as_run_prints_it() -> None:
    out = lab(
        "compare", "squares", "--pythons", "3.11,3.13t:gil=off", "--tasks", "2", "--size", "20000",
        "--modes", "batch,threads", "--format", "json",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "compare" and data["pythons"] == ["3.11", "3.13t:gil=off"]
    first, second = data["runs"]
    assert set(first) >= {"schema_version", "settings", "machine", "interpreter", "modes", "runs"}
    assert first["interpreter"]["name"] == "3.11" and first["interpreter"]["gil_enabled"] is True
    assert second["interpreter"]["name"] == "3.13t" and second["interpreter"]["gil_enabled"] is False
    table = lab(
        "compare", "squares", "--pythons", "3.11,3.13", "--tasks", "2", "--size", "20000", "--modes", "batch"
    ).stdout
    assert "Single-thread cost" in table and "Takeaway:" in table


@pytest.mark.parametrize(
    "args, words",
    [
        (["--pythons", "3.11"], "at least two"),
        (["--pythons", "3.11,3.13:gil=off"], "not a free-threaded build"),
        (["--pythons", "3.11,no-such-python"], "unknown interpreter"),
        (["--pythons", "3.11,3.13", "--modes", "interpreters"], "no subinterpreters"),
    ],
)
def test_compare_refuses_bad_choices_in_one_line(args: list[str], words: str) -> None:
    out = lab("compare", "squares", *args)
    assert out.returncode == 2 and words in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_run_takes_an_interpreter_by_path_but_refuses_a_gil_switch_on_a_gil_build() -> None:
    out = lab(
        "run", "squares", "--tasks", "1", "--size", "1000", "--modes", "batch", "--python", sys.executable
    )
    assert out.returncode == 0, out.stderr
    refused = lab("run", "squares", "--modes", "batch", "--python", "3.13", "--gil", "off")
    assert refused.returncode == 2 and "not a free-threaded build" in refused.stderr
    not_python = lab("run", "squares", "--modes", "batch", "--python", "/bin/true")
    assert not_python.returncode == 2 and "cannot run the lab" in not_python.stderr


def test_public_mode_offers_only_the_hosts_pythons_and_never_a_path() -> None:
    public = {"GIL_LAB_PUBLIC": "1"}
    by_path = lab("run", "squares", "--modes", "batch", "--python", sys.executable, env=public)
    assert by_path.returncode == 2 and "choose one of the listed interpreters" in by_path.stderr
    other = lab("run", "squares", "--modes", "batch", "--python", "3.13", env=public)
    assert other.returncode == 2 and "unknown interpreter" in other.stderr
