"""Each workload does its work and checks it, so a broken mode cannot look fast."""

from __future__ import annotations

import hashlib

import pytest

from lab.workloads import (
    TaskSpec,
    WrongResult,
    check_download,
    check_sleep,
    perform,
    reference_value,
    sha256_of_zeros,
    squares,
    squares_closed_form,
)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 12_345])
def test_squares_matches_closed_form(n: int) -> None:
    assert squares(n) == squares_closed_form(n) == sum(i * i for i in range(n))


@pytest.mark.parametrize("nbytes", [0, 1, 1 << 20, (1 << 20) + 17, 3 * (1 << 20)])
def test_sha256_of_zeros_is_hashlib_of_zeros(nbytes: int) -> None:
    assert sha256_of_zeros(nbytes) == hashlib.sha256(bytes(nbytes)).hexdigest()


def test_sha256_task_is_checked_against_the_reference() -> None:
    spec = TaskSpec("sha256", 5000)
    good = TaskSpec("sha256", 5000, expected_value=reference_value(spec))
    assert perform(good, 0) == hashlib.sha256(bytes(5000)).hexdigest()
    with pytest.raises(WrongResult, match="differs from the reference"):
        perform(TaskSpec("sha256", 5000, expected_value="0" * 64), 0)


def test_squares_task_rejects_a_wrong_sum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lab.workloads.squares", lambda n: 42)
    with pytest.raises(WrongResult, match="closed form"):
        perform(TaskSpec("squares", 1000), 0)


def test_a_sleep_that_returns_early_is_a_wrong_result() -> None:
    with pytest.raises(WrongResult, match="asked for 200 ms"):
        check_sleep(TaskSpec("sleep", 200), 0.05)
    assert check_sleep(TaskSpec("sleep", 200), 0.2005) == "200.5 ms"


def test_a_short_download_is_a_wrong_result() -> None:
    with pytest.raises(WrongResult, match="expected 100"):
        check_download(TaskSpec("http", 1, expected_bytes=100), 99)
    assert check_download(TaskSpec("http", 1, expected_bytes=100), 100) == "100 bytes"
    assert check_download(TaskSpec("http", 1), 7) == "7 bytes"
