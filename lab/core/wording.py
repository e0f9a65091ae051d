"""How every lab writes its numbers and its shared sentences: 1.9×, 1.01 cores, 2.06 s.

One place, so a speedup reads the same in the CLI, the page and every lab's takeaway.
"""

from __future__ import annotations

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
