"""One sentence per classic, built from its numbers: do they agree with the published figure, and if not, why.

The reasons are the ones that can be read off the run: the cores here
against theirs, the old GIL (before 3.2) against the new, a free-threaded
build without profile-guided optimisation, a machine that was not steady,
and what the lab's experiment does differently from the published one.
Nothing is said that the numbers do not show.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lab.classics.agreement import Comparison


def times(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


STEADY_BATCH_CORES = 0.8  # work that never waits keeps one core busy; much less means others took it


def why(
    classic: str,
    measured: Mapping[str, Any],
    rows: Sequence[Comparison],
    cores: float,
    missing: str | None = None,
    failure: str | None = None,
    batch_cores: float | None = None,
) -> str:
    """The sentence under a classic's table; `batch_cores` is the least busy one-after-another run's cores."""
    if missing is not None:
        return f"Not run here: {missing}. The published figures stand alone."
    if failure is not None:
        return f"Not measured: {failure}."
    if not any(row.measured is not None for row in rows):
        return "Nothing was measured for this classic (the run ended before it)."
    text = {
        "countdown": why_countdown,
        "convoy": why_convoy,
        "stinner": why_stinner,
        "sha256": why_sha256,
        "ccbench": why_ccbench,
        "free-threaded": why_free_threaded,
        "fastapi": why_fastapi,
    }[classic](measured, rows, cores)
    if batch_cores is not None and batch_cores < STEADY_BATCH_CORES:
        text += (
            f" The machine was not steady: work run one task after another kept only {batch_cores:.2f} of a "
            "core busy, so other work took CPU time during the run and these ratios are noisier than on "
            "quiet cores."
        )
    return text


def why_countdown(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    parts = []
    for row in measured.get("pythons", []):
        value = row.get("threads2_ratio")
        if value is None:
            parts.append(f"{row['python']} measured nothing")
        elif row.get("gil_enabled") is False:
            parts.append(
                f"{row['python']} with the GIL off ran 2 threads at {times(value)} the sequential time"
            )
        else:
            parts.append(f"{row['python']} {times(value)}")
    gil_rows = [r for r in measured.get("pythons", []) if r.get("gil_enabled") is not False]
    gil_values = [r["threads2_ratio"] for r in gil_rows if r.get("threads2_ratio") is not None]
    text = (
        "Two threads ÷ sequential: published 1.85× (2009) and 1.97× (2010) slower; here "
        + "; ".join(parts)
        + "."
    )
    if gil_values and all(0.85 <= v <= 1.2 for v in gil_values):
        text += (
            " They disagree, as expected: Beazley measured the old GIL (Python 2.6), whose threads fought "
            "over it across cores on every check; since 3.2 a thread asks for the GIL and the holder gives "
            "it up after the switch interval, so two threads simply take turns at about the sequential time."
        )
    elif gil_values and max(gil_values) > 1.2:
        text += (
            f" A GIL build ran the threads {max(gil_values):.2f}× slower: more than the new GIL's handoffs "
            "cost, which on a shared machine usually means other work took cores mid-run."
        )
    free = [
        r for r in measured.get("pythons", []) if r.get("gil_enabled") is False and r.get("threads2_ratio")
    ]
    for row in free:
        if row["threads2_ratio"] < 1 / 1.6:
            text += f" With the GIL off the threads ran in parallel on {cores:g} cores: the classic reversed."
        else:
            faster = 1 / row["threads2_ratio"]
            text += f" With the GIL off the threads were only {faster:.2f}× faster on {cores:g} usable cores."
    return text


def why_convoy(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    law_rows = [r for r in rows if r.as_expected is not None]
    held = [r for r in law_rows if r.as_expected]
    one = measured.get("one_thread_rps", {})
    figures = ", ".join(f"{one[k]:,.0f} at {k} ms" for k in ("1", "5", "20") if one.get(k))
    text = f"Beside one CPU thread the probe answered {figures or 'nothing'} requests per second"
    if law_rows and len(held) == len(law_rows):
        text += (
            ": 1 ÷ the switch interval within a factor of two, as on Skvortsov's curve — each reply waits "
            "for the CPU thread to give up the GIL."
        )
    else:
        text += (
            f": {len(held)} of {len(law_rows)} intervals follow 1 ÷ interval within a factor of two; on a "
            "busy machine the CPU thread and the probe also queue for a core."
        )
    alone = measured.get("alone_rps")
    if alone:
        text += (
            f" Alone it answered {alone:,.0f} per second, against the published 30,000 for a TCP echo "
            "server: the lab pings over UDP from one client that pauses between pings, so its figure alone "
            "is one round trip's speed, not a server's capacity."
        )
    return text


def why_stinner(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    threads, per_core, interp = (rows[0], rows[1], rows[2])
    text = (
        f"On {measured.get('python')} here: threads {times(threads.measured)} the sequential time (published "
        f"{times(threads.published)}), subinterpreters {times(interp.measured)} the processes' time "
        f"(published {times(interp.published)})."
    )
    if interp.as_expected:
        text += (
            " Subinterpreters keep up with processes, as in Stinner's proof of concept: each has its own GIL."
        )
    elif interp.measured is not None:
        text += " Subinterpreters fell behind processes here (over 1.3× their time); Stinner had them level."
    if threads.agrees is False and threads.measured is not None and threads.measured < threads.published:  # type: ignore[operator]
        text += (
            f" Threads lost less here than there: Stinner's 4 threads contended for one GIL on 4 CPUs, "
            f"these on {cores:g} usable cores."
        )
    if per_core.agrees is False:
        text += f" Speedups are per core used: {cores:g} cores here, 4 there."
    return text


def why_sha256(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    values = ", ".join(f"{row.what.split(', ')[1]} {times(row.measured)}" for row in rows)
    agree = all(row.agrees for row in rows)
    published = ", ".join(times(row.published) for row in rows)
    text = f"Speedup per core used ({values}; published on 2 cores: {published})."
    if agree:
        text += " hashlib releases the GIL while it hashes, so threads scale to the cores here as there."
    else:
        text += (
            f" hashlib releases the GIL, so threads should fill the {cores:g} usable cores; where a row "
            "falls short, other work shared the cores or start-up weighs on the scaled-down buffers."
        )
    return text


def why_ccbench(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    pi, bz = rows
    text = (
        f"Two threads' throughput ÷ one thread's: pidigits {times(pi.measured)} (published 0.98×), "
        f"bz2 {times(bz.measured)} (published 1.99×)."
    )
    if pi.agrees and bz.agrees:
        text += " Pure Python takes turns under the GIL; bz2 releases it, so its threads use two cores."
    elif bz.measured is not None and cores < 2:
        text += " With under two usable cores bz2 cannot reach 2×."
    else:
        text += (
            " A ratio away from the published one on a shared machine usually means other work took a core."
        )
    latency = measured.get("latency_p50_ms")
    if latency is not None:
        text += f" Behind 1 CPU thread a waiting thread's reply took {latency:.1f} ms (p50) at 5 ms."
    return text


def why_free_threaded(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    cost = measured.get("cost")
    if cost is None:
        return "The single-thread cost was not measured; the published figures stand alone."
    gil, free = measured.get("gil_build"), measured.get("free_build")
    direction = "slower" if cost >= 0 else "faster"
    text = f"{free} ran the pure-Python loop {abs(cost):.0%} {direction} than {gil} on one thread"
    agreeing = [row.what.split(" vs ")[1].split(" (")[0] for row in rows if row.agrees]
    text += f", in line with {', '.join(agreeing)}." if agreeing else ", outside all three published figures."
    speedup = measured.get("free_threads_speedup")
    if speedup is not None:
        text += f" Its 2 threads ran {speedup:.2f}× faster than one after another, with the GIL off."
    versions = (measured.get("gil_version"), measured.get("free_version"))
    if None not in versions and versions[0] != versions[1]:
        text += (
            f" The two builds are different releases ({versions[0]} and {versions[1]}), so more than the GIL "
            "differs between them."
        )
    text += (
        " The published figures are pyperformance suites on optimised builds; this is one loop, and builds "
        "compiled apart need not share compiler options (the lab's 3.13t is built without PGO or LTO)."
    )
    return text


def why_fastapi(measured: Mapping[str, Any], rows: Sequence[Comparison], cores: float) -> str:
    share, throughput, ceiling = measured.get("share"), measured.get("throughput"), measured.get("ceiling")
    if share is None or throughput is None or ceiling is None:
        return "The web lab measured no throughput."
    text = (
        f"def_wait served {throughput:,.0f} requests/s against a ceiling of {ceiling:,.0f} "
        f"(40 ÷ latency): {share:.0%} of it."
    )
    if rows[0].agrees:
        text += " The pool of 40 threads, not the 100 clients, set the pace."
    else:
        text += " Below the ceiling: the clients and the server shared the machine's cores with each other."
    return text
