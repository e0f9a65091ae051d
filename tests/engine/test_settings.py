"""Settings are validated in one place, with a one-line message for every bad value."""

from __future__ import annotations

import pytest

from lab.core.errors import InvalidSettings, RefusedURL
from lab.engine.settings import (
    DEFAULT_MODES,
    DEFAULT_XRAY_HZ,
    MAX_XRAY_HZ,
    MIN_XRAY_HZ,
    RunSettings,
    parse_modes,
)


def test_defaults_follow_the_workload() -> None:
    cpu = RunSettings.create("squares")
    assert (cpu.tasks, cpu.size, cpu.modes) == (8, 3_000_000, DEFAULT_MODES["cpu"])
    io = RunSettings.create("sleep")
    assert io.modes == ("batch", "threads", "processes", "asyncio")
    assert RunSettings.create("http", size=999).size == 1  # size is unused for http


def test_strings_from_the_cli_or_a_link_are_parsed() -> None:
    settings = RunSettings.create("squares", tasks="4", size="1_000_000", workers="3", modes="threads, batch")
    assert (settings.tasks, settings.size, settings.workers, settings.modes) == (
        4,
        1_000_000,
        3,
        ("threads", "batch"),
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tasks", 0, "--tasks must be between 1"),
        ("tasks", "-3", "--tasks must be between 1"),
        ("tasks", "many", "--tasks must be a whole number"),
        ("tasks", 2.5, "--tasks must be a whole number"),
        ("tasks", True, "--tasks must be a whole number"),
        ("size", 10**12, "--size must be between"),
        ("workers", 0, "--workers must be between 1"),
        ("threads", "1e3", "--threads must be a whole number"),
        ("repeats", 0, "--repeats must be between 1"),
        ("latency_ms", -1, "--latency-ms must be between 0"),
        ("modes", "batch,warp", "unknown mode 'warp'"),
        ("modes", ",", "choose at least one mode"),
        ("start_method", "vfork", "unknown start method"),
    ],
)
def test_bad_values_are_refused_with_one_line(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidSettings) as caught:
        RunSettings.create("sleep", **{field: value})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_unknown_workload() -> None:
    with pytest.raises(InvalidSettings, match="unknown workload 'fib'"):
        RunSettings.create("fib")


def test_latency_zero_is_allowed() -> None:
    assert RunSettings.create("http", latency_ms=0).latency_ms == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file", "unsupported URL scheme 'ftp'"),
        ("file:///etc/passwd", "unsupported URL scheme 'file'"),
        ("gopher://example.com", "unsupported URL scheme 'gopher'"),
        ("example.com/path", "unsupported URL scheme 'none'"),
        ("http://", "has no host"),
        ("http://[::1", "malformed URL"),
        ("http://example.com:99999/", "malformed URL"),
        ("http://example.com/" + "a" * 3000, "longer than 2048"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(RefusedURL) as caught:
        RunSettings.create("http", url=url)
    assert message in str(caught.value)


def test_process_count_defaults_to_usable_cores_and_honours_an_explicit_value() -> None:
    assert RunSettings.create("squares", tasks=8).process_count(2.0) == 2
    assert RunSettings.create("squares", tasks=8).process_count(0.5) == 1
    assert RunSettings.create("squares", tasks=8).process_count(1.5) == 2
    assert RunSettings.create("squares", tasks=1).process_count(4.0) == 1
    assert RunSettings.create("squares", tasks=8, workers=16).process_count(2.0) == 16


def test_dict_round_trip() -> None:
    settings = RunSettings.create("http", tasks=5, url="https://example.com/x", threads=3, repeats=2)
    assert RunSettings.from_dict(settings.to_dict()) == settings


def test_parse_modes_drops_repeats_keeps_order() -> None:
    assert parse_modes(["threads", "batch", "threads"]) == ("threads", "batch")


def test_the_xray_rate_settings_are_the_samplers_own() -> None:
    from lab.xray import sampler

    assert DEFAULT_XRAY_HZ == sampler.DEFAULT_RATE_HZ
    assert sampler.MIN_RATE_HZ <= MIN_XRAY_HZ and MAX_XRAY_HZ <= sampler.MAX_RATE_HZ
