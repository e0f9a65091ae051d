"""Each workload does its work and checks it, so a broken mode cannot look fast; each says what it is."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from lab.core.errors import WrongResult
from lab.core.work import sha256_of_zeros, squares, squares_closed_form
from lab.engine.settings import RunSettings
from lab.engine.workloads import (
    BUILTIN_WORKLOADS,
    WORKLOADS,
    TaskSpec,
    canonical,
    check_download,
    check_sleep,
    load_function,
    perform,
    split_target,
    workload_for,
)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 12_345])
def test_squares_matches_closed_form(n: int) -> None:
    assert squares(n) == squares_closed_form(n) == sum(i * i for i in range(n))


@pytest.mark.parametrize("nbytes", [0, 1, 1 << 20, (1 << 20) + 17, 3 * (1 << 20)])
def test_sha256_of_zeros_is_hashlib_of_zeros(nbytes: int) -> None:
    assert sha256_of_zeros(nbytes) == hashlib.sha256(bytes(nbytes)).hexdigest()


def test_sha256_task_is_checked_against_the_reference() -> None:
    spec = TaskSpec("sha256", 5000)
    good = TaskSpec("sha256", 5000, expected_value=workload_for(spec).reference_value(spec))
    assert perform(good, 0) == hashlib.sha256(bytes(5000)).hexdigest()
    with pytest.raises(WrongResult, match="differs from the reference"):
        perform(TaskSpec("sha256", 5000, expected_value="0" * 64), 0)


def test_squares_task_rejects_a_wrong_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lab.engine.workloads.squares", lambda n: 42)
    with pytest.raises(WrongResult, match="closed form"):
        perform(TaskSpec("squares", 1000), 0)


def test_a_sleep_that_returns_early_is_a_wrong_result() -> None:
    with pytest.raises(WrongResult, match="asked for 200 ms"):
        check_sleep(TaskSpec("sleep", 200), 0.05)
    assert check_sleep(TaskSpec("sleep", 200), 0.2005) == "200.5 ms"


def test_the_async_sleep_is_checked_like_the_blocking_one() -> None:
    spec = TaskSpec("sleep", 20)
    assert asyncio.run(workload_for(spec).perform_async(spec, 0, None)).endswith("ms")


def test_a_short_download_is_a_wrong_result() -> None:
    with pytest.raises(WrongResult, match="expected 100"):
        check_download(TaskSpec("http", 1, expected_bytes=100), 99)
    assert check_download(TaskSpec("http", 1, expected_bytes=100), 100) == "100 bytes"
    assert check_download(TaskSpec("http", 1), 7) == "7 bytes"


@pytest.mark.parametrize("name", BUILTIN_WORKLOADS)
def test_every_workload_describes_itself_for_the_page_and_the_budget(name: str) -> None:
    info = WORKLOADS[name]
    assert info.name == name and info.kind in ("cpu", "io")
    assert info.label.startswith(name) and info.unit and info.summary and info.noun
    assert info.default_size in info.size_choices or not info.uses_size
    assert info.size_choices == tuple(sorted(info.size_choices)) and info.size_choices[-1] <= info.max_size
    cost = RunSettings.create(name).task_cost()
    assert cost.cpu_s >= 0 and cost.wait_s >= 0 and cost.cpu_s + cost.wait_s > 0
    if info.kind == "io":
        assert info.waits_on and cost.wait_s > 0


def test_a_function_target_is_split_into_module_and_name() -> None:
    assert split_target("pkg.mod:work") == ("pkg.mod", "work")
    assert split_target("/tmp/a:b.py:work") == ("/tmp/a:b.py", "work")
    for bad in ("nocolon", ":work", "mod:"):
        with pytest.raises(ValueError, match="MODULE:FUNCTION"):
            split_target(bad)


def test_a_function_in_a_file_is_imported_as_a_fresh_process_would(tmp_path: Path) -> None:
    (tmp_path / "helper_of_mine.py").write_text("BASE = 40\n")
    code = tmp_path / "my_work.py"
    code.write_text("from helper_of_mine import BASE\n\ndef work(n):\n    return {'total': BASE + n}\n")
    function = load_function(f"{code}:work")
    assert function(2) == {"total": 42}
    spec = TaskSpec("function", 1, function=f"{code}:work", args_json="[2]")
    assert perform(spec, 0) == '{"total":42}'


def test_results_compare_equal_exactly_when_the_values_do() -> None:
    assert canonical({"b": 1, "a": [1, 2]}) == canonical({"a": [1, 2], "b": 1})
    assert canonical(1) != canonical("1")
    assert canonical({1, 2}) == canonical({2, 1}) and canonical({1, 2}).startswith("pickle:set:")
    assert canonical({1, 2}) != canonical({1, 3})
