"""The checks every lab's settings go through: raw input in, a checked value or one line naming the option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lab.core.errors import InvalidSettings
from lab.core.validate import blank_to_none, bounded, parse_names, positive_seconds, switch, whole


def refusal(check: Callable[[], object]) -> str:
    """The one-line message `check` refuses its input with."""
    with pytest.raises(InvalidSettings) as refused:
        check()
    message = str(refused.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, 8), (3, 3), ("12", 12), (" 1_000 ", 1000), ("1,000", 1000), (64.0, 64), (1, 1)],
)
def test_a_whole_number_comes_from_ints_digit_strings_and_whole_floats(value: Any, expected: int) -> None:
    assert whole("tasks", value, 8, 1, 5000) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("four", "--tasks must be a whole number, got 'four'"),
        ("1.5", "--tasks must be a whole number, got '1.5'"),
        (2.5, "--tasks must be a whole number, got 2.5"),
        (True, "--tasks must be a whole number, got True"),
        ([3], "--tasks must be a whole number, got [3]"),
        (0, "--tasks must be between 1 and 5,000, got 0"),
        ("-3", "--tasks must be between 1 and 5,000, got -3"),
        (12345, "--tasks must be between 1 and 5,000, got 12,345"),
    ],
)
def test_anything_else_is_refused_naming_the_option_as_the_cli_spells_it(value: Any, message: str) -> None:
    assert refusal(lambda: whole("tasks", value, 8, 1, 5000)) == message


def test_seconds_must_be_a_positive_number_up_to_an_hour() -> None:
    assert positive_seconds("timeout", None, 30.0) == 30.0
    assert positive_seconds("timeout", "2.5", 30.0) == 2.5
    assert positive_seconds("timeout", 3600, 30.0) == 3600.0
    assert refusal(lambda: positive_seconds("timeout", "soon", 30.0)) == (
        "--timeout must be a number of seconds, got 'soon'"
    )
    for bad in (0, -1, 3601, "inf"):
        assert refusal(lambda bad=bad: positive_seconds("timeout", bad, 30.0)) == (
            f"--timeout must be between 0 and 3600 seconds, got {bad!r}"
        )


def test_names_are_read_from_a_string_or_a_list_known_ones_in_order_once_each() -> None:
    known = ("threads", "processes", "asyncio")
    assert parse_names("processes, threads,processes,,", known, "mode") == ("processes", "threads")
    assert parse_names(["asyncio", " threads "], known, "mode") == ("asyncio", "threads")


def test_an_unknown_name_or_none_at_all_is_refused_saying_what_to_choose() -> None:
    known = ("threads", "processes")
    assert refusal(lambda: parse_names("threads,fibers", known, "mode")) == (
        "unknown mode 'fibers'; choose from threads, processes"
    )
    assert refusal(lambda: parse_names(" , ", known, "mode")) == "choose at least one mode"
    assert refusal(lambda: parse_names([], known, "mode")) == "choose at least one mode"


def test_a_blank_field_means_the_default_and_anything_else_is_kept() -> None:
    assert blank_to_none("") is None and blank_to_none("   ") is None
    assert blank_to_none(None) is None
    assert blank_to_none(" 3 ") == " 3 " and blank_to_none(0) == 0


def test_a_bounded_number_is_read_from_numbers_or_strings_and_kept_in_range() -> None:
    assert bounded("switch-interval-ms", "0.5", 0.1, 100) == 0.5
    assert bounded("switch-interval-ms", 100, 0.1, 100) == 100.0
    assert bounded("switch-interval-ms", " 1_0 ", 0.1, 100) == 10.0
    assert refusal(lambda: bounded("switch-interval-ms", "fast", 0.1, 100)) == (
        "--switch-interval-ms must be a number, got 'fast'"
    )
    assert refusal(lambda: bounded("switch-interval-ms", 250, 0.1, 100)) == (
        "--switch-interval-ms must be between 0.1 and 100, got 250"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("on", True), ("YES", True), (" 1 ", True), ("off", False), (0, False)],
)
def test_a_switch_reads_bools_and_the_words_a_form_link_or_csv_may_hold(value: Any, expected: bool) -> None:
    assert switch("X-ray", value) is expected


def test_a_switch_refuses_other_words_quoting_at_most_twenty_characters() -> None:
    assert refusal(lambda: switch("X-ray", "maybe")) == "X-ray must be on or off, got 'maybe'"
    assert refusal(lambda: switch("X-ray", "y" * 50)) == f"X-ray must be on or off, got {'y' * 20!r}"
