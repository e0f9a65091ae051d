"""The units of work every lab runs: one pure-Python loop, one GIL-releasing hash, one wait.

The CPU-bound lab, the web server's CPU endpoints and the cluster's tasks all
call these same functions, so "squares" means the same bytecode everywhere.
Standard library only, and cheap to import.
"""

from __future__ import annotations

import hashlib
import time

SQUARES_MAX_SIZE = 100_000_000  # the largest loop any lab accepts: about 5-8 s of pure Python
SHA256_CHUNK = 1 << 20  # 1 MiB: hashlib releases the GIL for updates above 2 KiB


def squares(n: int) -> int:
    """The lab's pure-Python CPU work: every step runs bytecode under the GIL."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def squares_closed_form(n: int) -> int:
    """Sum of i*i for i in range(n), i.e. (n-1)n(2n-1)/6."""
    return (n - 1) * n * (2 * n - 1) // 6


def sha256_of_zeros(nbytes: int) -> str:
    """Hash `nbytes` zero bytes in 1 MiB updates; each update releases the GIL."""
    chunk = memoryview(bytes(min(SHA256_CHUNK, max(nbytes, 1))))
    digest = hashlib.sha256()
    remaining = nbytes
    while remaining > 0:
        step = min(remaining, len(chunk))
        digest.update(chunk[:step])
        remaining -= step
    return digest.hexdigest()


def block_ms(ms: int) -> float:
    """Block the calling thread; returns the seconds actually waited."""
    start = time.perf_counter()
    time.sleep(ms / 1000)
    return time.perf_counter() - start
