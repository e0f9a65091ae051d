"""The classics: each famous GIL experiment's published setup, figures and sources, and how it is scaled here.

The published figures are numbers as their authors printed them (seconds,
requests per second, percentages); `lab.classics.agreement` turns them into
ratios, since the authors' machines are not ours. Each classic says what runs
here and how it was scaled to take a few seconds: the scaling changes the
work per task, never the shape of the experiment (tasks, threads, modes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    """Where a figure was published: enough to find it again."""

    title: str
    author: str
    year: int
    url: str
    note: str | None = None

    def cite(self) -> str:
        return f"{self.author}, “{self.title}” ({self.year}), {self.url}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Classic:
    """One famous experiment: what was run and found there, and what runs here."""

    name: str  # the CLI's and the share link's name
    title: str
    sources: tuple[Source, ...]
    setup: str  # the published setup, in a sentence
    published: dict[str, float]  # the published figures, in their own units
    here: str  # what runs here
    scaling: str  # how the work was scaled to a few seconds (at scale 1)


BEAZLEY_2009 = Source("Inside the Python GIL", "David Beazley", 2009, "http://www.dabeaz.com/python/GIL.pdf")
BEAZLEY_2010 = Source(
    "Understanding the Python GIL (PyCon 2010)",
    "David Beazley",
    2010,
    "http://www.dabeaz.com/python/UnderstandingGIL.pdf",
)
SKVORTSOV_2021 = Source(
    "Python behind the scenes #13: the GIL and its effects on Python multithreading",
    "Victor Skvortsov",
    2021,
    "https://tenthousandmeters.com/blog/python-behind-the-scenes-13-the-gil-and-its-effects-on-python-multithreading/",
)
STINNER_2020 = Source(
    "Re: PEP 554 for 3.9 or 3.10? (per-interpreter GIL proof of concept)",
    "Victor Stinner",
    2020,
    "https://mail.python.org/archives/list/python-dev@python.org/",
    note="python-dev, May 2020; the thread's own address was not checked from here",
)
CCBENCH_GROSS = Source(
    "ccbench on CPython 3.11, in the nogil project's published results",
    "Sam Gross",
    2021,
    "https://github.com/colesbury/nogil",
    note="ccbench is CPython's Tools/ccbench (Antoine Pitrou, 2010); figures as issue 19 quotes them",
)
PEP_703 = Source(
    "PEP 703 – Making the Global Interpreter Lock Optional in CPython",
    "Sam Gross",
    2023,
    "https://peps.python.org/pep-0703/",
)
HOWTO_313 = Source(
    "Python support for free threading (Python 3.13 HOWTO)",
    "Python documentation",
    2024,
    "https://docs.python.org/3.13/howto/free-threading-python.html",
)
WHATSNEW_314 = Source(
    "What's New In Python 3.14: free-threaded mode",
    "Python documentation",
    2025,
    "https://docs.python.org/3.14/whatsnew/3.14.html",
)
FASTAPI_ASYNC = Source(
    "Concurrency and async / await", "FastAPI documentation", 2024, "https://fastapi.tiangolo.com/async/"
)
ANYIO_THREADS = Source(
    "Working with threads (the default capacity limiter of 40 tokens)",
    "AnyIO documentation",
    2024,
    "https://anyio.readthedocs.io/en/stable/threads.html",
)

# At scale 1, each classic's work here (the runner multiplies it by the settings' scale).
COUNTDOWN_TOTAL = 10_000_000  # Beazley counted 100,000,000 in all; a tenth takes ~0.5 s on 3.11 here
FACTORIAL_N = 25_000  # Stinner's 50,000! takes ~0.7 s here in a loop; 25,000! ~0.2 s, 4 tasks
SHA256_BYTES = 32 * 1024 * 1024  # Skvortsov hashed 8 × 128 MB; 8 × 32 MiB here
PIDIGITS_DIGITS = 3_000  # ~0.35 s a task here
BZ2_BYTES = 2 * 1024 * 1024  # ~0.3 s a task here
FREE_THREADED_SIZE = 3_000_000  # squares iterations a task: ~0.15-0.25 s
CONVOY_SECONDS = 1.0  # pinging time per convoy point
CONVOY_INTERVALS_MS = (1.0, 5.0, 20.0)
WEB_SECONDS = 2.0
WEB_MIN_SECONDS = 1.5  # at 200 ms a request, fewer than ~7 waves of answers understate the throughput
WEB_LATENCY_MS = 200
WEB_CLIENTS = 100
FASTAPI_POOL = 40

CLASSICS: dict[str, Classic] = {
    c.name: c
    for c in (
        Classic(
            name="countdown",
            title="Beazley's countdown: two threads slower than one",
            sources=(BEAZLEY_2009, BEAZLEY_2010),
            setup=(
                "Old GIL, Python 2.6. 2009, dual-core: count(100,000,000) twice in a row 24.6 s, in two "
                "threads 45.5 s; with one core disabled, two threads 38.0 s. 2010, quad-core Mac Pro, "
                "COUNT = 100,000,000 split in two: sequential 7.8 s, two threads 15.4 s, four threads 15.7 s."
            ),
            published={
                "seq_2009": 24.6,
                "threads2_2009": 45.5,
                "threads2_one_core_2009": 38.0,
                "seq_2010": 7.8,
                "threads2_2010": 15.4,
                "threads4_2010": 15.7,
            },
            here=(
                "The same countdown (`while n > 0: n -= 1`) split in 2 tasks run one after another (batch) "
                "and in 2 threads, and split in 4 run in 4 threads, on every interpreter chosen: old GIL "
                "(published) → new GIL, 3.2+ (measured) → free-threaded (measured)."
            ),
            scaling=f"COUNT = {COUNTDOWN_TOTAL:,} in all (a tenth of Beazley's), split the same ways.",
        ),
        Classic(
            name="convoy",
            title="The convoy effect on a server",
            sources=(SKVORTSOV_2021,),
            setup=(
                "A 1-byte echo server: ~30,000 RPS alone, ~100 RPS beside one CPU-bound thread, ~20,000 RPS "
                "with the CPU work in another process; beside one CPU thread the RPS follows the switch "
                "interval: 5 RPS at 100 ms, 100 at 5 ms, 3,200 at 0.1 ms, 11,000 at 0.01 ms."
            ),
            published={
                "alone_rps": 30_000,
                "one_thread_rps": 100,
                "cpu_process_rps": 20_000,
                "rps_at_100ms": 5,
                "rps_at_5ms": 100,
                "rps_at_0.1ms": 3_200,
                "rps_at_0.01ms": 11_000,
            },
            here=(
                "The convoy lab's closed loop: a probe thread answers UDP pings; requests per second = "
                "1 ÷ the mean round trip, with no CPU thread (5 ms) and beside one CPU thread at switch "
                "intervals of 1, 5 and 20 ms. The convoy lab runs its CPU threads inside the measured "
                "process only: it has no mode with the CPU work in another process, so that figure is "
                "shown as published alone."
            ),
            scaling=f"{CONVOY_SECONDS:g} s of pings per point, 4 points.",
        ),
        Classic(
            name="stinner",
            title="Stinner's per-interpreter GIL proof of concept",
            sources=(STINNER_2020,),
            setup=(
                "Factorial of 50,000, 4 tasks on 4 CPUs: sequential 1.99 s, threads 3.15 s, "
                "multiprocessing 0.56 s, subinterpreters 0.58 s."
            ),
            published={"cpus": 4, "batch": 1.99, "threads": 3.15, "processes": 0.56, "interpreters": 0.58},
            here=(
                "4 factorial tasks (a Python loop of big-integer multiplications, checked against "
                "math.factorial) in batch, threads, processes and subinterpreters, on the newest chosen "
                "GIL build with subinterpreters of their own GIL (3.12+)."
            ),
            scaling=f"factorial of {FACTORIAL_N:,} per task (half of Stinner's n: a quarter of the work).",
        ),
        Classic(
            name="sha256",
            title="GIL-releasing C code scales in threads",
            sources=(SKVORTSOV_2021,),
            setup="SHA-256 of 8 × 128 MB in 1/2/4/8 threads on 2 cores: 3.30 / 1.68 / 1.50 / 1.60 s.",
            published={"threads1": 3.30, "threads2": 1.68, "threads4": 1.50, "threads8": 1.60, "cores": 2},
            here="SHA-256 of 8 buffers one after another (1 thread) and in pools of 2, 4 and 8 threads.",
            scaling=f"8 × {SHA256_BYTES // (1024 * 1024)} MiB (a quarter of the bytes).",
        ),
        Classic(
            name="ccbench",
            title="ccbench on CPython 3.11: pure Python vs C code in two threads",
            sources=(CCBENCH_GROSS,),
            setup=(
                "ccbench's throughput rows: Python pidigits in 2 threads at 98 % of one thread's "
                "throughput, bz2 compression at 199 %; and the latency of a thread behind 1 CPU thread."
            ),
            published={"pidigits_2_threads": 0.98, "bz2_2_threads": 1.99},
            here=(
                "2 pidigits tasks and 2 bz2 tasks, each one after another and in 2 threads (throughput = "
                "one after another ÷ threads); the latency behind 1 CPU thread through the convoy lab's "
                "probe at the default 5 ms switch interval."
            ),
            scaling=f"{PIDIGITS_DIGITS:,} digits of pi and {BZ2_BYTES // (1024 * 1024)} MiB of bz2 per task.",
        ),
        Classic(
            name="free-threaded",
            title="The free-threaded build's single-thread cost",
            sources=(PEP_703, HOWTO_313, WHATSNEW_314),
            setup=(
                "PEP 703: 5–6 % slower on one thread on its branch; the 3.13 free-threading HOWTO: about "
                "40 % on pyperformance; 3.14's What's New: about 5–10 %."
            ),
            published={
                "pep703_low": 0.05,
                "pep703_high": 0.06,
                "howto313_low": 0.40,
                "howto313_high": 0.40,
                "whatsnew314_low": 0.05,
                "whatsnew314_high": 0.10,
            },
            here=(
                "The same pure-Python work (2 squares tasks) in batch and in 2 threads on the GIL build and "
                "the free-threaded build of one version (3.13 and 3.13t here), where both exist."
            ),
            scaling=f"{FREE_THREADED_SIZE:,} loop iterations per task.",
        ),
        Classic(
            name="fastapi",
            title="FastAPI's thread pool: waiting `def` endpoints top out near 40 ÷ latency",
            sources=(FASTAPI_ASYNC, ANYIO_THREADS),
            setup=(
                "A plain `def` endpoint runs in AnyIO's pool of 40 threads, so endpoints that wait top out "
                "near 40 ÷ latency requests per second however many clients call."
            ),
            published={"pool": FASTAPI_POOL},
            here=(
                f"The web lab's def_wait endpoint ({WEB_LATENCY_MS} ms of time.sleep) under {WEB_CLIENTS} "
                "clients, against that ceiling."
            ),
            scaling=f"{WEB_SECONDS:g} s of load.",
        ),
    )
}
CLASSIC_NAMES: tuple[str, ...] = tuple(CLASSICS)
