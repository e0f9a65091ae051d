"""The work of the famous GIL experiments, as the Classics lab re-runs them: each a function, each checkable.

- `countdown(n)`: Beazley's loop, `while n > 0: n -= 1`; it holds the GIL for
  every step and returns what is left (0 when it really counted down).
- `factorial(n)`: Stinner's per-interpreter-GIL benchmark computed a factorial
  of 50,000; here a Python loop of big-integer multiplications, checked
  against `math.factorial`. Each multiply is C code that keeps the GIL.
- `pi_digits(n)`: ccbench's pure-Python pidigits, the first n decimal digits of
  pi by Gibbons' unbounded spigot (2006), checked against a known prefix.
- `bz2_size(nbytes)`: ccbench's bz2 row, compressing a fixed buffer in C code
  that releases the GIL; its compressed size and digest are the check.

Standard library only: the worker, its pool processes and its
subinterpreters import this module under every Python from 3.10 on.
"""

from __future__ import annotations

import hashlib
import math

PI_PREFIX = "31415926535897932384626433832795028841971693993751"
BZ2_BLOCK = b"GIL Lab compresses this line with bz2, as ccbench did. " * 64


def countdown(n: int) -> int:
    """Beazley's countdown: pure bytecode under the GIL; returns 0 when it counted all the way down."""
    while n > 0:
        n -= 1
    return n


def factorial(n: int) -> int:
    """n! as a loop of big-integer multiplications (math.factorial is the reference, not the work)."""
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


def fingerprint(value: int) -> str:
    """A short fingerprint of a big integer, so a task's result travels as text and compares cheaply."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return f"{value.bit_length()}:{hashlib.sha256(raw).hexdigest()[:16]}"


def reference_factorial(n: int) -> str:
    """The fingerprint every factorial task must reproduce, from math.factorial."""
    return fingerprint(math.factorial(n))


def pi_digits(count: int) -> str:
    """The first `count` decimal digits of pi ("314159..."), by Gibbons' unbounded spigot."""
    q, r, t, k, m, x = 1, 0, 1, 1, 3, 3
    digits: list[str] = []
    while len(digits) < count:
        if 4 * q + r - t < m * t:
            digits.append(str(m))
            q, r, m = 10 * q, 10 * (r - m * t), (10 * (3 * q + r)) // t - 10 * m
        else:
            q, r, t, k, m, x = (
                q * k,
                (2 * q + r) * x,
                t * x,
                k + 1,
                (q * (7 * k + 2) + r * x) // (t * x),
                x + 2,
            )
    return "".join(digits)


def bz2_input(nbytes: int) -> bytes:
    """The buffer the bz2 work compresses: a repeated text block cut to `nbytes`."""
    repeats = nbytes // len(BZ2_BLOCK) + 1
    return (BZ2_BLOCK * repeats)[:nbytes]


def bz2_digest(nbytes: int) -> str:
    """Compress the buffer with bz2 (its C code releases the GIL) and fingerprint the output."""
    import bz2  # only the bz2 work loads it

    packed = bz2.compress(bz2_input(nbytes), 9)
    return f"{len(packed)}:{hashlib.sha256(packed).hexdigest()[:16]}"
