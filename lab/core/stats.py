"""The few statistics every lab's results need, computed one way."""

from __future__ import annotations

import math


def percentile(ordered: tuple[float, ...], q: float) -> float | None:
    """The q-th percentile of sorted values, interpolated linearly (numpy's default); None if empty."""
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
