"""How every lab writes its numbers and its shared sentences: 1.9×, 1.01 cores, 2.06 s.

One place, so a speedup reads the same in the CLI, the page and every lab's takeaway.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol, TypeVar

from lab.core.steadiness import Steadiness

SAME_BAND = 0.15


STATUS_SENTENCES = {
    "cancelled": "This run was cancelled before it finished: the numbers cover only what completed.",
    "cut_short": "This run was cut short before it finished: the numbers cover only what completed.",
    "crashed": "The experiment crashed before it finished: the numbers cover only what completed.",
}


def times(speedup: float) -> str:
    return f"{speedup:.2f}×"


def cores(value: float) -> str:
    return f"{value:.2f}" if value < 0.1 else f"{value:.1f}"


def format_seconds(value: float) -> str:
    """2.06 s, 0.21 s, 45 ms: enough digits to compare modes, no more."""
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def count(number: float, word: str, plural: str | None = None) -> str:
    return f"{number:g} {word if number == 1 else plural or word + 's'}"


def faster(speedup: float) -> bool:
    return speedup > 1 + SAME_BAND


class Metered(Protocol):
    """A result that may say how steady the machine was while it was measured."""

    @property
    def steadiness(self) -> Steadiness | None: ...


M = TypeVar("M", bound=Metered)


def steadiness_sentences(steadiness: Steadiness | None) -> list[str]:
    """One line, with the figure, when the machine was not steady during the run; none otherwise."""
    warning = steadiness.warning() if steadiness is not None else None
    return [warning[0].upper() + warning[1:] + "."] if warning else []


def noting_steadiness(takeaway: Callable[[M], list[str]]) -> Callable[[M], list[str]]:
    """A lab's takeaway with the machine's unsteadiness said last, in every lab alike (page and CLI)."""

    @functools.wraps(takeaway)
    def sentences(result: M) -> list[str]:
        return [*takeaway(result), *steadiness_sentences(result.steadiness)]

    return sentences
