"""Public mode detection and the limits read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.hosting.limits import ENV_NAMES, Limits
from lab.hosting.public import public_mode


@pytest.fixture
def cloud_mount(tmp_path: Path) -> Path:
    mount = tmp_path / "mount" / "src"
    mount.mkdir(parents=True)
    return mount


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", " yes "])
def test_env_turns_public_mode_on(value: str, tmp_path: Path) -> None:
    assert public_mode({"GIL_LAB_PUBLIC": value}, tmp_path / "absent")


@pytest.mark.parametrize("value", ["0", "false", "No", "FALSE"])
def test_env_turns_public_mode_off_even_on_streamlit_cloud(value: str, cloud_mount: Path) -> None:
    assert not public_mode({"GIL_LAB_PUBLIC": value}, cloud_mount)


def test_unset_means_on_where_streamlit_cloud_mounts_the_repo(cloud_mount: Path) -> None:
    assert public_mode({}, cloud_mount)


def test_unset_means_off_elsewhere(tmp_path: Path) -> None:
    assert not public_mode({}, tmp_path / "absent")


@pytest.mark.parametrize("value", ["", "maybe", "2"])
def test_unrecognised_value_is_ignored_like_unset(value: str, cloud_mount: Path, tmp_path: Path) -> None:
    assert public_mode({"GIL_LAB_PUBLIC": value}, cloud_mount)
    assert not public_mode({"GIL_LAB_PUBLIC": value}, tmp_path / "absent")


def test_defaults() -> None:
    limits = Limits.from_env({}, usable_cores=2)
    assert limits.max_work_seconds == 30
    assert limits.max_run_seconds == 60
    assert limits.max_processes == 4
    assert limits.max_concurrency == 300
    assert limits.queue_timeout == 120


@pytest.mark.parametrize(("cores", "processes"), [(0.5, 2), (1, 2), (1.5, 3), (4, 8)])
def test_default_processes_are_twice_the_usable_cores(cores: float, processes: int) -> None:
    assert Limits.from_env({}, usable_cores=cores).max_processes == processes


def test_every_limit_reads_its_env_variable() -> None:
    env = {name: "7" for name in ENV_NAMES.values()}
    limits = Limits.from_env(env, usable_cores=2)
    assert all(getattr(limits, field) == 7 for field in ENV_NAMES)
    assert isinstance(limits.max_processes, int)
    assert Limits.from_env({"GIL_LAB_MAX_WORK_SECONDS": "12.5"}).max_work_seconds == 12.5
    assert Limits.from_env({"GIL_LAB_MAX_CONCURRENCY": "1_000"}).max_concurrency == 1000


@pytest.mark.parametrize("raw", ["", "  ", "abc", "-5", "0", "nan", "inf", "1e999", "2.5", "9" * 400, "½"])
def test_malformed_values_fall_back_to_defaults(raw: str) -> None:
    env = {"GIL_LAB_MAX_PROCESSES": raw, "GIL_LAB_MAX_CONCURRENCY": raw}
    limits = Limits.from_env(env, usable_cores=2)
    assert limits.max_processes == 4
    assert limits.max_concurrency == 300
    bad_seconds = {"GIL_LAB_MAX_WORK_SECONDS": raw}
    expected = float(raw) if raw == "2.5" else 30
    assert Limits.from_env(bad_seconds).max_work_seconds == expected


def test_summary_names_the_limits() -> None:
    text = Limits(max_work_seconds=20, max_processes=4).summary()
    assert "20 s of work" in text and "4 processes" in text and "\n" not in text
