"""The work one task does, and the check that it was really done.

Each workload is a plain module-level function of one `TaskSpec`, so a spawned
worker process can import and pickle it. Every result is checked (closed form,
reference digest, byte count, elapsed time): a broken mode must fail, never
look fast. Standard library only; the HTTP clients load on first use.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

SHA256_CHUNK = 1 << 20  # 1 MiB: hashlib releases the GIL for updates above 2 KiB
SLEEP_TOLERANCE_S = 0.001


@dataclass(frozen=True)
class Workload:
    """What a workload is, for people and for the settings validator."""

    name: str
    kind: str  # "cpu" or "io"
    unit: str
    default_size: int
    default_tasks: int
    max_size: int
    summary: str


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "squares",
            "cpu",
            "loop iterations",
            3_000_000,
            8,
            100_000_000,
            "pure-Python loop total += i * i; holds the GIL the whole time",
        ),
        Workload(
            "sha256",
            "cpu",
            "bytes hashed",
            128 * 1024 * 1024,
            8,
            4 * 1024 * 1024 * 1024,
            "hashlib.sha256 over 1 MiB chunks; C code that releases the GIL",
        ),
        Workload(
            "http",
            "io",
            "requests (size unused; --bytes sets the body)",
            1,
            10,
            1,
            "GET a URL with requests and stream the body to a file",
        ),
        Workload(
            "sleep",
            "io",
            "milliseconds",
            200,
            10,
            60_000,
            "block for a number of milliseconds: waiting with no network at all",
        ),
    )
}


class WrongResult(Exception):
    """A task finished but its result is not the one the work must give."""


@dataclass(frozen=True)
class TaskSpec:
    """Everything a task needs, picklable so a process pool can ship it."""

    workload: str
    size: int
    url: str | None = None
    timeout_s: float = 10.0
    max_body_bytes: int = 64 * 1024 * 1024
    expected_bytes: int | None = None
    expected_value: str | None = None
    download_dir: str | None = None


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


def download_path(spec: TaskSpec, index: int) -> Path:
    folder = Path(spec.download_dir) if spec.download_dir else Path(".")
    return folder / f"download-{index}.bin"


def check_download(spec: TaskSpec, received: int) -> str:
    if spec.expected_bytes is not None and received != spec.expected_bytes:
        raise WrongResult(f"received {received} bytes, expected {spec.expected_bytes}")
    return f"{received} bytes"


def check_sleep(spec: TaskSpec, waited_s: float) -> str:
    if waited_s + SLEEP_TOLERANCE_S < spec.size / 1000:
        raise WrongResult(f"woke after {waited_s * 1000:.1f} ms, asked for {spec.size} ms")
    return f"{waited_s * 1000:.1f} ms"


def perform(spec: TaskSpec, index: int) -> str:
    """Do one task the blocking way and return its checked result, as text."""
    if spec.workload == "squares":
        value = squares(spec.size)
        if value != squares_closed_form(spec.size):
            raise WrongResult(f"sum of squares gave {value}, closed form says otherwise")
        return str(value)
    if spec.workload == "sha256":
        digest = sha256_of_zeros(spec.size)
        if spec.expected_value is not None and digest != spec.expected_value:
            raise WrongResult(f"digest {digest[:12]}... differs from the reference")
        return digest
    if spec.workload == "sleep":
        return check_sleep(spec, block_ms(spec.size))
    if spec.workload == "http":
        from lab.http_task import download

        received = download(spec.url or "", download_path(spec, index), spec.timeout_s, spec.max_body_bytes)
        return check_download(spec, received)
    raise ValueError(f"unknown workload {spec.workload!r}")


def reference_value(spec: TaskSpec) -> str | None:
    """The value every task must reproduce, computed once before timing starts."""
    if spec.workload == "sha256":
        return sha256_of_zeros(spec.size)
    return None


def preload(workload: str, native_async: bool) -> None:
    """Import now what the tasks will need, so no mode's timing includes loading a module."""
    if workload == "http":
        import lab.http_task  # noqa: F401  (requests)

        if native_async:
            import aiohttp  # noqa: F401
