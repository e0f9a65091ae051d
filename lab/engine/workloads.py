"""The work one task does, the check that it was really done, and what a workload costs.

Each workload is an object with behaviour: it performs one task (blocking, or
awaiting in the native asyncio mode), checks the result (closed form,
reference digest, byte count, elapsed time), says what it releases and waits
on, and estimates its cost. Everything else in the lab (settings, the page's
controls, the budget, the takeaway) asks the workload instead of switching on
its name, so adding a workload touches this module and one test.

Tasks travel as `TaskSpec`s (plain data, picklable) so a spawned pool
process, a subinterpreter or another interpreter rebuilds the same task from
its name. Standard library only; the HTTP clients load on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import pickle
import sys
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from lab.core.errors import WrongResult
from lab.core.work import SQUARES_MAX_SIZE, block_ms, sha256_of_zeros, squares, squares_closed_form
from lab.engine import classic_work

if TYPE_CHECKING:
    import aiohttp

SLEEP_TOLERANCE_S = 0.001
MIB = 1024 * 1024

# Cost calibration, measured on the development host (AMD EPYC, Python 3.11.7): squares ran at
# 42-69 ns per iteration and sha256 at 0.56 ns per byte (with SHA CPU extensions; hosts without them
# hash 2-3x slower). A download from the embedded server cost 3.2 ms per request and 2.2 ns per
# byte streamed to a file. Each constant rounds its measurement up, so a slower host is not
# under-charged by the public budget.
SQUARES_S_PER_ITERATION = 80e-9
SHA256_S_PER_BYTE = 1.5e-9
HTTP_S_PER_REQUEST = 0.005
HTTP_S_PER_BYTE = 4e-9
# The Classics lab's workloads, measured the same way on 3.11.7 here: countdown 43 ns a step,
# factorial(50,000) 0.71 s, 2,000 digits of pi 0.15 s (the spigot slows with the digits' square),
# bz2 160 ns a byte of this buffer. Rounded up, as above.
COUNTDOWN_S_PER_STEP = 60e-9
FACTORIAL_S_AT_50K = 1.0
PIDIGITS_S_AT_2K = 0.25
BZ2_S_PER_BYTE = 250e-9
EXTERNAL_REQUEST_S = 0.5  # an outside URL's latency is unknown; the run's wall-clock cap backs this guess


@dataclass(frozen=True)
class TaskSpec:
    """Everything a task needs, picklable so a process pool can ship it."""

    workload: str
    size: int
    url: str | None = None
    timeout_s: float = 10.0
    max_body_bytes: int = 64 * MIB
    expected_bytes: int | None = None
    expected_value: str | None = None
    download_dir: str | None = None
    function: str | None = None  # "module:function" or "path.py:function" for the function workload
    args_json: str = "[]"


@dataclass(frozen=True)
class TaskCost:
    """One task's estimated CPU seconds (which compete for cores) and waiting seconds (which overlap)."""

    cpu_s: float
    wait_s: float


class Workload:
    """What a workload is and does. Subclasses set the class attributes and `perform`."""

    name: ClassVar[str]
    kind: ClassVar[Literal["cpu", "io"]]
    unit: ClassVar[str]
    label: ClassVar[str]  # how the page names it, with the lesson in a few words
    noun: ClassVar[str]  # what its tasks do, for sentences: "Hashing tasks ran at 1.9×"
    summary: ClassVar[str]
    default_size: ClassVar[int]
    default_tasks: ClassVar[int]
    max_size: ClassVar[int]
    size_choices: ClassVar[tuple[int, ...]]
    uses_size: ClassVar[bool] = True
    downloads: ClassVar[bool] = False  # fetches a URL (the embedded server's or another)
    releases_gil: ClassVar[bool | None] = False  # None: unknown until measured (a person's own function)
    waits_on: ClassVar[str | None] = None  # what its waiting is, for sentences: "the network"
    releases_how: ClassVar[str] = "its C code releases the GIL while it works"  # for sentences
    # What a person's own code asks of everything around it, so nothing switches on a workload's name:
    needs_code: ClassVar[bool] = False  # the task calls code the person names (--args, a code box)
    private_only: ClassVar[bool] = False  # never runs in public mode: it would run a visitor's code
    code_in_links: ClassVar[bool] = False  # a share link carries the code itself (short, compressed)
    checks_across_tasks: ClassVar[bool] = False  # results are compared across tasks and modes

    def perform(self, spec: TaskSpec, index: int) -> str:
        """Do one task the blocking way and return its checked result, as text."""
        raise NotImplementedError

    async def perform_async(self, spec: TaskSpec, index: int, session: object | None) -> str:
        """The native asyncio way; work with nothing to await just runs (and blocks the loop)."""
        return self.perform(spec, index)

    def reference_value(self, spec: TaskSpec) -> str | None:
        """The value every task must reproduce, computed once before timing starts."""
        return None

    def preload(self, spec: TaskSpec, native_async: bool) -> None:
        """Import now what the tasks will need, so no mode's timing includes loading a module."""

    def requires(self, native_async: bool) -> tuple[str, ...]:
        """Third-party modules the tasks import (an interpreter without them cannot run this workload)."""
        return ()

    def async_session(self, spec: TaskSpec) -> AbstractAsyncContextManager[object | None]:
        """What the native asyncio tasks share (a client session), opened inside the event loop."""
        return contextlib.nullcontext()

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        """One task's estimated cost, for the public budget and the page's estimate.

        Plain numbers, not a lab's settings, so any lab can price a task: `size`
        in the workload's unit; for a download, the embedded server's latency and
        body size (`latency_ms` None: an outside URL, whose latency is unknown).
        """
        raise NotImplementedError


class Squares(Workload):
    name = "squares"
    kind = "cpu"
    unit = "loop iterations"
    label = "squares — pure Python, holds the GIL"
    noun = "Pure-Python"
    summary = "pure-Python loop total += i * i; holds the GIL the whole time"
    default_size = 3_000_000
    default_tasks = 8
    max_size = SQUARES_MAX_SIZE
    size_choices = (
        10_000,
        30_000,
        100_000,
        300_000,
        1_000_000,
        3_000_000,
        10_000_000,
        30_000_000,
        100_000_000,
    )

    def perform(self, spec: TaskSpec, index: int) -> str:
        value = squares(spec.size)
        if value != squares_closed_form(spec.size):
            raise WrongResult(f"sum of squares gave {value}, closed form says otherwise")
        return str(value)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(size * SQUARES_S_PER_ITERATION, 0.0)


class Sha256(Workload):
    name = "sha256"
    kind = "cpu"
    unit = "bytes hashed"
    label = "sha256 — C code, releases the GIL"
    noun = "Hashing"
    summary = "hashlib.sha256 over 1 MiB chunks; C code that releases the GIL"
    default_size = 128 * MIB
    default_tasks = 8
    max_size = 4 * 1024 * MIB
    size_choices = tuple(MIB * 2**power for power in range(0, 11))
    releases_gil = True
    releases_how = "hashlib releases the GIL while it hashes"

    def perform(self, spec: TaskSpec, index: int) -> str:
        digest = sha256_of_zeros(spec.size)
        if spec.expected_value is not None and digest != spec.expected_value:
            raise WrongResult(f"digest {digest[:12]}... differs from the reference")
        return digest

    def reference_value(self, spec: TaskSpec) -> str | None:
        return sha256_of_zeros(spec.size)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(size * SHA256_S_PER_BYTE, 0.0)


class Sleep(Workload):
    name = "sleep"
    kind = "io"
    unit = "milliseconds"
    label = "sleep — plain waiting"
    noun = "Sleeping"
    summary = "block for a number of milliseconds: waiting with no network at all"
    default_size = 200
    default_tasks = 10
    max_size = 60_000
    size_choices = (10, 20, 50, 100, 200, 500, 1000, 2000)
    releases_gil = True
    waits_on = "its sleep"

    def perform(self, spec: TaskSpec, index: int) -> str:
        return check_sleep(spec, block_ms(spec.size))

    async def perform_async(self, spec: TaskSpec, index: int, session: object | None) -> str:
        import asyncio  # only the asyncio modes await: everything else runs without loading it

        start = time.perf_counter()
        await asyncio.sleep(spec.size / 1000)
        return check_sleep(spec, time.perf_counter() - start)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(0.0, size / 1000)


class Http(Workload):
    name = "http"
    kind = "io"
    unit = "requests (size unused; --bytes sets the body)"
    label = "http — downloads"
    noun = "Download"
    summary = "GET a URL with requests and stream the body to a file"
    default_size = 1
    default_tasks = 10
    max_size = 1
    size_choices = (1,)
    uses_size = False
    downloads = True
    releases_gil = True
    waits_on = "the network"

    def perform(self, spec: TaskSpec, index: int) -> str:
        from lab.engine.http_client import download

        path = download_path(spec, index)
        try:
            received = download(spec.url or "", path, spec.timeout_s, spec.max_body_bytes)
        finally:
            path.unlink(missing_ok=True)  # counted: its bytes need not stay on disk until the run ends
        return check_download(spec, received)

    async def perform_async(self, spec: TaskSpec, index: int, session: object | None) -> str:
        from lab.engine.http_client import download_async

        path = download_path(spec, index)
        try:
            received = await download_async(
                cast("aiohttp.ClientSession", session),
                spec.url or "",
                path,
                spec.timeout_s,
                spec.max_body_bytes,
            )
        finally:
            path.unlink(missing_ok=True)
        return check_download(spec, received)

    def preload(self, spec: TaskSpec, native_async: bool) -> None:
        import lab.engine.http_client  # noqa: F401  (requests)

        if native_async:
            import aiohttp  # noqa: F401

    def requires(self, native_async: bool) -> tuple[str, ...]:
        return ("requests", "urllib3", "aiohttp") if native_async else ("requests", "urllib3")

    def async_session(self, spec: TaskSpec) -> AbstractAsyncContextManager[object | None]:
        from lab.engine.http_client import open_async_session

        return open_async_session()

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        if latency_ms is not None:
            wait_s, body = latency_ms / 1000, body_bytes
        else:
            wait_s, body = EXTERNAL_REQUEST_S, 0
        return TaskCost(HTTP_S_PER_REQUEST + body * HTTP_S_PER_BYTE, wait_s)


class Function(Workload):
    """A person's own function, imported by name in whichever process, thread or interpreter runs the task.

    Every task calls it once with the same arguments. Its return value comes
    back as canonical text (JSON with sorted keys, or a digest of its pickle
    when it is not JSON), so the worker can compare results across tasks and
    modes: a function that answers differently under threads is worth knowing
    about. Whether it releases the GIL is what the run finds out.
    """

    name = "function"
    kind = "cpu"
    unit = "calls (size unused; the arguments set the work)"
    label = "your function"
    noun = "Function"
    summary = "a function of yours, called once per task with the same arguments"
    default_size = 1
    default_tasks = 8
    max_size = 1
    size_choices = (1,)
    uses_size = False
    releases_gil = None
    needs_code = True
    private_only = True
    code_in_links = True
    checks_across_tasks = True

    def perform(self, spec: TaskSpec, index: int) -> str:
        target = load_function(spec.function or "")
        return canonical(target(*json.loads(spec.args_json)))

    def preload(self, spec: TaskSpec, native_async: bool) -> None:
        load_function(spec.function or "")

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(0.0, 0.0)  # unknown: public mode never runs a visitor's code


class Countdown(Workload):
    """Beazley's countdown (2009): the loop the old GIL made slower in two threads than in one."""

    name = "countdown"
    kind = "cpu"
    unit = "steps counted down"
    label = "countdown — Beazley's loop, holds the GIL"
    noun = "Countdown"
    summary = "while n > 0: n -= 1 (Beazley, 2009); pure bytecode under the GIL"
    default_size = 10_000_000
    default_tasks = 2
    max_size = SQUARES_MAX_SIZE
    size_choices = (1_000_000, 10_000_000, 50_000_000, 100_000_000)

    def perform(self, spec: TaskSpec, index: int) -> str:
        left = classic_work.countdown(spec.size)
        if left != 0:
            raise WrongResult(f"the countdown stopped at {left}, not 0")
        return str(spec.size)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(size * COUNTDOWN_S_PER_STEP, 0.0)


class Factorial(Workload):
    """Stinner's per-interpreter-GIL benchmark (2020): factorial of 50,000, checked against math.factorial."""

    name = "factorial"
    kind = "cpu"
    unit = "n of n!"
    label = "factorial — big-integer multiplies, hold the GIL"
    noun = "Factorial"
    summary = "n! as a Python loop of big-integer multiplications (Stinner, 2020)"
    default_size = 25_000  # the classic runs 50,000 (scaled, lab.classics); a default run fits a budget
    default_tasks = 4
    max_size = 200_000
    size_choices = (10_000, 25_000, 50_000, 100_000)

    def perform(self, spec: TaskSpec, index: int) -> str:
        digest = classic_work.fingerprint(classic_work.factorial(spec.size))
        if spec.expected_value is not None and digest != spec.expected_value:
            raise WrongResult(f"{spec.size}! came out as {digest}, math.factorial says otherwise")
        return digest

    def reference_value(self, spec: TaskSpec) -> str | None:
        return classic_work.reference_factorial(spec.size)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(FACTORIAL_S_AT_50K * (size / 50_000) ** 2, 0.0)


class PiDigits(Workload):
    """ccbench's pure-Python pidigits: the first N digits of pi by a spigot, checked against a known start."""

    name = "pidigits"
    kind = "cpu"
    unit = "digits of pi"
    label = "pidigits — pure Python, holds the GIL"
    noun = "Pi-digit"
    summary = "the first N digits of pi by Gibbons' spigot, as ccbench's pidigits row"
    default_size = 2_000
    default_tasks = 2
    max_size = 20_000
    size_choices = (500, 1_000, 2_000, 5_000)

    def perform(self, spec: TaskSpec, index: int) -> str:
        digits = classic_work.pi_digits(spec.size)
        known = classic_work.PI_PREFIX[: spec.size]
        if digits[: len(known)] != known or len(digits) != spec.size:
            raise WrongResult(f"pi came out as {digits[:12]}..., not {known[:12]}...")
        if spec.expected_value is not None and digits[-16:] != spec.expected_value:
            raise WrongResult("pi's last digits differ from the reference computation")
        return digits[-16:]

    def reference_value(self, spec: TaskSpec) -> str | None:
        return classic_work.pi_digits(spec.size)[-16:]

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(PIDIGITS_S_AT_2K * (size / 2_000) ** 2, 0.0)


class Bz2(Workload):
    """ccbench's bz2 row: compression in C code that releases the GIL, checked by its output's digest."""

    name = "bz2"
    kind = "cpu"
    unit = "bytes compressed"
    label = "bz2 — C code, releases the GIL"
    noun = "Compression"
    summary = "bz2.compress of a fixed text buffer, as ccbench's bz2 row; releases the GIL"
    default_size = MIB
    default_tasks = 2
    max_size = 256 * MIB
    size_choices = tuple(MIB * 2**power for power in range(0, 6))
    releases_gil = True
    releases_how = "bz2 releases the GIL while it compresses"

    def perform(self, spec: TaskSpec, index: int) -> str:
        digest = classic_work.bz2_digest(spec.size)
        if spec.expected_value is not None and digest != spec.expected_value:
            raise WrongResult(f"bz2 output {digest} differs from the reference")
        return digest

    def reference_value(self, spec: TaskSpec) -> str | None:
        return classic_work.bz2_digest(spec.size)

    def cost(self, size: int, *, latency_ms: float | None = None, body_bytes: int = 0) -> TaskCost:
        return TaskCost(size * BZ2_S_PER_BYTE, 0.0)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (Squares(), Sha256(), Http(), Sleep(), Countdown(), Factorial(), PiDigits(), Bz2(), Function())
}
BUILTIN_WORKLOADS: tuple[str, ...] = tuple(name for name, w in WORKLOADS.items() if not w.needs_code)
CODE_WORKLOAD = Function.name  # what MODULE:FUNCTION on the command line means


def workload_for(spec: TaskSpec) -> Workload:
    return WORKLOADS[spec.workload]


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
    """Do one task of the spec's workload the blocking way (pool processes call this by name)."""
    return workload_for(spec).perform(spec, index)


def split_target(target: str) -> tuple[str, str]:
    """'pkg.mod:func' or 'path/to/file.py:func' -> (module or path, function name)."""
    module, colon, function = target.rpartition(":")
    if not colon or not module or not function:
        raise ValueError(f"{target!r} is not MODULE:FUNCTION or PATH.py:FUNCTION")
    return module, function


def load_function(target: str) -> Callable[..., Any]:
    """The function a target names, imported the way any fresh process would import it.

    A PATH.py target imports the file as a module named after it, with its
    folder first on sys.path (so its own imports resolve as when run there).
    """
    module_name, function = split_target(target)
    if module_name.endswith(".py"):
        path = Path(module_name).resolve()
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        module_name = path.stem
    module = importlib.import_module(module_name)
    found = getattr(module, function)
    if not callable(found):
        raise TypeError(f"{target} is not callable")
    return cast(Callable[..., Any], found)


def canonical(value: object) -> str:
    """A task's return value as text that compares equal exactly when the values do."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        digest = hashlib.sha256(pickle.dumps(value, protocol=4)).hexdigest()
        return f"pickle:{type(value).__name__}:{digest[:16]}"
