"""The convoy lab's settings: defaults, parsing, one-line errors, and what a host admits."""

from __future__ import annotations

import pytest

from lab.convoy.settings import MAX_CPU_THREADS, ConvoySettings
from lab.core.errors import InvalidSettings, OverBudget
from lab.hosting.admission import Hosting
from lab.hosting.limits import Limits

PRIVATE = Hosting(public=False, limits=Limits(), usable_cores=2.0)


def test_defaults_measure_four_thread_counts_at_three_switch_intervals() -> None:
    settings = ConvoySettings.create()
    assert settings.cpu_threads == (0, 1, 2, 4) and settings.switch_intervals_ms == (1.0, 5.0, 20.0)
    assert settings.points()[:4] == [(0, 1.0), (1, 1.0), (2, 1.0), (4, 1.0)] and len(settings.points()) == 12


def test_settings_are_sorted_without_repeats_and_round_trip() -> None:
    settings = ConvoySettings.create(cpu_threads="4, 0,1,1", switch_intervals_ms=[20, "0.5"], seconds="2")
    assert settings.cpu_threads == (0, 1, 4) and settings.switch_intervals_ms == (0.5, 20.0)
    assert ConvoySettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"cpu_threads": "-1"}, "--cpu-threads must be between 0 and 16"),
        ({"cpu_threads": str(MAX_CPU_THREADS + 1)}, "--cpu-threads must be between"),
        ({"cpu_threads": "one"}, "--cpu-threads must be a whole number"),
        ({"cpu_threads": "0,1,2,3,4,5,6,7,8"}, "at most 8 counts"),
        ({"cpu_threads": ","}, "--cpu-threads needs at least one value"),
        ({"switch_intervals_ms": "0"}, "--switch-interval-ms must be between 0.1 and 100"),
        ({"switch_intervals_ms": "250"}, "--switch-interval-ms must be between"),
        ({"switch_intervals_ms": "fast"}, "--switch-interval-ms must be a number"),
        ({"switch_intervals_ms": "1,2,3,4,5,6,7"}, "at most 6 intervals"),
        ({"seconds": "0.1"}, "--seconds must be between 0.2 and 30"),
        ({"seconds": "31"}, "--seconds must be between"),
        ({"gil": "maybe"}, "--gil must be on or off"),
    ],
)
def test_out_of_range_settings_are_one_line_errors(values: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidSettings, match=message) as caught:
        ConvoySettings.create(**values)
    assert "\n" not in str(caught.value)


def test_public_mode_holds_a_run_to_its_time_and_thread_budget() -> None:
    public = Hosting(public=True, limits=Limits(max_work_seconds=10.0, max_concurrency=8), usable_cores=2.0)
    small = ConvoySettings.create(cpu_threads="0,1", switch_intervals_ms="5", seconds=1)
    assert public.admit(small) == small
    with pytest.raises(OverBudget, match="lower the duration, the CPU threads or the switch intervals"):
        public.admit(ConvoySettings.create(seconds=10))
    with pytest.raises(InvalidSettings, match="at most 8 threads here"):
        public.admit(ConvoySettings.create(cpu_threads="16", switch_intervals_ms="5", seconds=0.5))
    assert PRIVATE.admit(ConvoySettings.create(seconds=30)).seconds == 30
