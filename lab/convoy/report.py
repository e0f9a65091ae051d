"""The convoy lab's results for people: the table of `python -m lab convoy` and the takeaway.

The takeaway is built from the run's own numbers, most telling first: the
reply with no CPU thread, then how the median reply behind one CPU thread
follows the switch interval, then what more threads do, then the GIL-free
build, then what it means for a web server's `def` endpoint. It reads only the
settings, the interpreter and the per-point summaries, so it works for fresh
and imported runs alike.
"""

from __future__ import annotations

from lab.convoy.csvio import ConvoyRun
from lab.convoy.results import P99_MIN_PINGS, PointSummary, cpu_threads_text
from lab.core.machine import machine_lines
from lab.core.wording import noting_steadiness

IMMEDIATE_MS = 1.0  # a reply faster than this waited for nothing but the kernel's wake-up


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def to_table(run: ConvoyRun) -> str:
    """The run as text: settings, interpreter, machine, one line per point, then the takeaway."""
    interpreter = run.interpreter.describe() if run.interpreter is not None else "-"
    lines = [
        f"GIL Lab convoy: {run.settings.describe()}",
        f"Interpreter: {interpreter}",
        *machine_lines(run.machine),
        "",
        f"{'switch ms':>9} {'CPU threads':>11} {'pings':>6} {'lost':>5} {'mean ms':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'GIL':>4} {'probe GIL wait':>14} {'on CPU':>6} {'handoffs/s':>10}",
    ]
    for s in sorted(run.summaries(), key=lambda summary: (summary.switch_interval_ms, summary.cpu_threads)):
        lines.append(
            f"{s.switch_interval_ms:>9g} {s.cpu_threads:>11} {s.pings:>6,} {s.lost:>5,} "
            f"{number(s.mean_ms, 2):>8} {number(s.p50_ms, 2):>8} {number(s.p99_ms, 2):>8} "
            f"{number(s.max_ms, 2):>8} "
            f"{'on' if s.gil_enabled else 'off':>4} {share(s.probe_gil_share):>14} "
            f"{number(s.threads_on_cpu, 2):>6} {number(s.handoffs_per_s, 0):>10}"
        )
    lines += ["", "Takeaway:"] + [f"  - {line}" for line in takeaway(run)]
    return "\n".join(lines) + "\n"


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f} ms" if value < 10 else f"{value:,.0f} ms"


@noting_steadiness
def takeaway(run: ConvoyRun) -> list[str]:
    """Sentences for the page and the CLI, most telling first; empty when nothing was measured."""
    summaries = [summary for summary in run.summaries() if summary.p50_ms is not None]
    if not summaries:
        return [f"The run {run.status.replace('_', ' ')}: {run.message or 'no point was measured'}."]
    by_key = {summary.key: summary for summary in summaries}
    gil_off = [summary for summary in summaries if not summary.gil_enabled and summary.cpu_threads > 0]
    lines = [*baseline(summaries)]
    if gil_off:
        lines.append(without_gil(gil_off, run.machine.usable_cores))
    else:
        lines += [*one_thread(summaries), *more_threads(summaries, by_key)]
    lines.append(web_link(bool(gil_off)))
    lines += caveats(run, summaries)
    return lines


def baseline(summaries: list[PointSummary]) -> list[str]:
    alone = [summary for summary in summaries if summary.cpu_threads == 0]
    if not alone:
        return []
    worst = max(alone, key=lambda summary: summary.p50_ms or 0.0)
    quality = "at once" if (worst.p50_ms or 0.0) < IMMEDIATE_MS else "without any GIL wait"
    return [
        f"With no CPU thread the probe answered {quality}: {ms(worst.p50_ms)} median round trip. The "
        "kernel wakes it when the ping arrives and nothing else wants the GIL."
    ]


def one_thread(summaries: list[PointSummary]) -> list[str]:
    """Behind one CPU thread the median reply follows the switch interval: the physics, in numbers."""
    single = sorted(
        (summary for summary in summaries if summary.cpu_threads == 1), key=lambda s: s.switch_interval_ms
    )
    if not single:
        return []
    figures = ", ".join(
        f"{ms(s.p50_ms)} at {s.switch_interval_ms:g} ms ({(s.p50_ms or 0.0) / s.switch_interval_ms:.1f}×)"
        for s in single
    )
    return [
        f"Behind one CPU thread each reply waited about one switch interval for the GIL: median {figures}. "
        "The CPU thread never blocks, so it keeps the GIL until the probe, having waited a whole interval, "
        "asks for it and the CPU thread must hand it over."
    ]


def more_threads(summaries: list[PointSummary], by_key: dict[tuple[int, float], PointSummary]) -> list[str]:
    """More CPU threads lengthen the tail; the median need not rise, and when it drops the text says why."""
    counts = sorted({summary.cpu_threads for summary in summaries if summary.cpu_threads >= 2})
    if not counts:
        return []
    most = counts[-1]
    pairs = [
        (by_key[(1, summary.switch_interval_ms)], summary)
        for summary in summaries
        if summary.cpu_threads == most and (1, summary.switch_interval_ms) in by_key
    ]
    if not pairs:
        return []
    one, many = max(pairs, key=lambda pair: pair[1].switch_interval_ms)
    worse = (many.p99_ms or 0.0) > (one.p99_ms or 0.0)
    verdict = "More CPU threads made the tail worse" if worse else "More CPU threads did not help"
    median = (
        f" The median ({ms(many.p50_ms)} against {ms(one.p50_ms)}) can drop: the CPU threads hand the GIL "
        "to each other every interval, and the probe sometimes takes it at one of those handoffs, before "
        "its own interval is up."
        if (many.p50_ms or 0.0) < (one.p50_ms or 0.0)
        else ""
    )
    return [
        f"{verdict}: at {many.switch_interval_ms:g} ms, with {cpu_threads_text(most)} the slowest replies "
        f"took {ms(many.p99_ms)} (p99) and {ms(many.max_ms)} (max), against {ms(one.p99_ms)} and "
        f"{ms(one.max_ms)} behind one. Every waiter asks for the GIL the same way and a handoff often goes "
        f"to another CPU thread first, so now and then the probe waits several intervals.{median}"
    ]


def without_gil(gil_off: list[PointSummary], usable_cores: float) -> str:
    worst = max(gil_off, key=lambda summary: summary.p50_ms or 0.0)
    most = max(summary.cpu_threads for summary in gil_off)
    crowded = [summary for summary in gil_off if summary.cpu_threads >= usable_cores]
    note = (
        f" Where the CPU threads outnumber the {usable_cores:g} usable cores, the probe can still wait for a "
        "core: the kernel's scheduler shares them, usually within a fraction of a millisecond."
        if crowded
        else ""
    )
    return (
        f"With the GIL off the probe did not queue: its median reply stayed at {ms(worst.p50_ms)} or less "
        f"beside up to {cpu_threads_text(most)}, whatever the switch interval. "
        f"There is no GIL to wait for, so the switch interval has nothing to switch.{note}"
    )


def web_link(gil_off: bool) -> str:
    """What the measured queue means for the Web server lab's `def` endpoints."""
    ending = (
        "The free-threaded build without the GIL runs each thread on its own core, so that thread has "
        "nothing to queue for."
        if gil_off
        else "A free-threaded build without the GIL does not make it queue, nor do CPU-bound requests moved "
        "to other processes."
    )
    return (
        "The same queue forms in a web server: a FastAPI `def` endpoint runs in a thread of the server's "
        "pool, and each time its I/O returns (the request arrived, the database answered) it needs the GIL "
        "back. While CPU-bound requests run in other threads of the same process it waits about a switch "
        "interval for it, every time: that is why the Web server lab's ping waits beside def_cpu. " + ending
    )


def caveats(run: ConvoyRun, summaries: list[PointSummary]) -> list[str]:
    lines = []
    few = [summary for summary in summaries if summary.pings < P99_MIN_PINGS]
    if few:
        least = min(few, key=lambda summary: summary.pings)
        lines.append(
            f"{len(few)} point(s) answered fewer than {P99_MIN_PINGS} pings (as few as {least.pings} with "
            f"{cpu_threads_text(least.cpu_threads)}, {least.switch_interval_ms:g} ms): their p99 is close to "
            "their slowest ping; a longer --seconds gives a steadier tail."
        )
    lost = sum(summary.lost for summary in run.summaries())
    if lost:
        lines.append(f"{lost} ping(s) got no answer within the timeout and count as lost.")
    interpreter = run.interpreter
    if interpreter is not None and interpreter.gil_reenabled:
        lines.append(
            f"{interpreter.name} was asked to run without the GIL but had it on at the end: an extension "
            "module that is not marked free-threading-safe turned it back on."
        )
    if run.status != "complete":
        lines.append(f"The run {run.status.replace('_', ' ')}: {run.message or 'no reason given'}.")
    return lines
