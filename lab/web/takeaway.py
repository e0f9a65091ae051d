"""What a web-lab run showed, in sentences built from its own numbers.

Each sentence names a measured figure and the reason behind it, so a reader
sees why `def` and `async def` differ under load on this machine, not a
general claim. Works for fresh and imported runs alike: it reads only the
settings and the per-endpoint summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.core.wording import noting_steadiness
from lab.web.results import EndpointSummary
from lab.web.settings import WebSettings

if TYPE_CHECKING:
    from lab.web.csvio import WebRun

CLIENT_BOUND_SHARE = 0.85  # the load generator kept this much of a core busy: its pace, not the server's
HALF_DONE_SHARE = 0.6  # below this share of its ceiling, with the cores busy, work was left half done


def rate(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:,.0f}"


def wait(ms: float) -> str:
    return f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"


def of_ceiling(summary: EndpointSummary) -> str:
    share = summary.share_of_ceiling
    return f" ({share:.0%} of {rate(summary.ceiling or 0)})" if share is not None else ""


def ping_text(summary: EndpointSummary) -> str:
    """How long the ping probe beside this load waited, answered or not."""
    if summary.ping_count is None:
        return ""
    if summary.ping_count == 0:
        longest = f"; one waited {wait(summary.ping_max_ms)} and was cut off" if summary.ping_max_ms else ""
        return f" Not one ping was answered in the {summary.seconds:.0f} s window{longest}."
    return (
        f" A ping beside it waited {wait(summary.ping_p50_ms or 0)} (median), "
        f"up to {wait(summary.ping_max_ms or 0)}."
    )


def cores_text(summary: EndpointSummary) -> str:
    busy = summary.server_cores_busy
    return f", keeping {busy:.1f} cores busy" if busy is not None else ""


def endpoint_sentence(summary: EndpointSummary, settings: WebSettings) -> str:
    name, measured = summary.endpoint, rate(summary.throughput)
    latency_s = settings.latency_ms / 1000
    pool = settings.threadpool * settings.server_workers
    if name == "def_wait":
        if pool < settings.clients:
            return (
                f"def_wait held at {measured} req/s{of_ceiling(summary)}: the thread pool's {pool} threads "
                f"were all busy, each sleeping {latency_s:g} s, while the other {settings.clients - pool} "
                f"clients queued; a bigger --threadpool raises it."
            )
        return (
            f"def_wait reached {measured} req/s{of_ceiling(summary)}: the pool's {pool} threads outnumber "
            f"the {settings.clients} clients, so no request waited for a thread."
        )
    if name == "async_wait":
        return (
            f"async_wait reached {measured} req/s{of_ceiling(summary)}: one event loop keeps all "
            f"{settings.clients} requests waiting at once, with no thread each."
        )
    if name == "async_blocking":
        return (
            f"async_blocking managed {measured} req/s{of_ceiling(summary)}: one blocking call at a time "
            f"stalls the whole event loop.{ping_text(summary)}"
        )
    request_ms = 1000 / summary.single_core_rate if summary.single_core_rate else None
    one = f" of {wait(request_ms)} each" if request_ms is not None else ""
    if name == "def_cpu":
        return (
            f"def_cpu did {measured} req/s{of_ceiling(summary)}{one}{cores_text(summary)}: the pool's "
            f"threads take turns holding the GIL, so each process runs Python on one core at a time; the "
            f"loop is not blocked, but it must win the GIL back from up to {settings.threadpool} busy "
            f"threads.{ping_text(summary)}"
        )
    return (
        f"async_cpu did {measured} req/s{of_ceiling(summary)}{one}{cores_text(summary)}: each request holds "
        f"the event loop until it is done, and a ping queues behind every request already started."
        f"{ping_text(summary)}"
    )


def comparisons(by_name: dict[str, EndpointSummary], settings: WebSettings, usable_cores: float) -> list[str]:
    lines = []
    threaded, awaited = by_name.get("def_wait"), by_name.get("async_wait")
    if threaded and awaited and threaded.throughput > 0:
        lines.append(
            f"async_wait served {awaited.throughput / threaded.throughput:.1f}x def_wait: a sleeping "
            f"async def needs no thread, a sleeping plain def holds one of the pool's threads."
        )
    if {"def_cpu", "async_cpu"} & by_name.keys():
        if settings.server_workers == 1 and usable_cores > 1:
            lines.append(
                "CPU endpoints gain from more uvicorn worker processes (--server-workers), not from more "
                "threads: each process runs Python on one core at a time."
            )
        elif settings.server_workers > 1:
            cores = min(settings.server_workers, usable_cores)
            lines.append(
                f"With {settings.server_workers} uvicorn worker processes the CPU endpoints could use "
                f"{cores:g} cores: each process has its own GIL."
            )
    return lines


def half_done(summary: EndpointSummary, settings: WebSettings, usable_cores: float) -> str | None:
    """def_cpu in a short window: the threads share the core, so the window closes on half-done requests."""
    busy, share = summary.server_cores_busy, summary.share_of_ceiling
    cores = min(settings.server_workers, usable_cores)
    if summary.endpoint != "def_cpu" or busy is None or share is None or summary.p50_ms is None:
        return None
    if share >= HALF_DONE_SHARE or busy < HALF_DONE_SHARE * cores:
        return None
    sharing = min(settings.clients, settings.threadpool * settings.server_workers)
    return (
        f"def_cpu kept {busy:.1f} cores busy yet answered {rate(summary.throughput)} req/s in the window: "
        f"up to {sharing} requests share the core in turns, so each took about {wait(summary.p50_ms)} and "
        f"the window closed on requests still half done; a longer --duration shows the steady rate."
    )


def caveats(summaries: list[EndpointSummary], settings: WebSettings, usable_cores: float) -> list[str]:
    lines = []
    for summary in summaries:
        note = half_done(summary, settings, usable_cores)
        if note:
            lines.append(note)
        if summary.error:
            lines.append(f"{summary.endpoint}: {summary.error}")
        if summary.failed:
            lines.append(f"{summary.endpoint}: {summary.failed:,} requests failed: {summary.failures}.")
        if summary.client_busy > CLIENT_BOUND_SHARE:
            lines.append(
                f"{summary.endpoint}: the clients kept {summary.client_busy:.0%} of a core busy, so the load "
                "generator, not the server, may have set this figure."
            )
    return lines


@noting_steadiness
def takeaway(run: WebRun) -> list[str]:
    """Sentences for the page and the CLI, most telling first; empty when nothing was measured."""
    summaries = run.summaries()
    lines = [endpoint_sentence(summary, run.settings) for summary in summaries]
    lines += comparisons({s.endpoint: s for s in summaries}, run.settings, run.machine.usable_cores)
    lines += caveats(summaries, run.settings, run.machine.usable_cores)
    if run.status != "complete":
        ended = "was cancelled" if run.status == "cancelled" else "crashed"
        lines.append(f"The run {ended}: {run.message or 'no reason given'}.")
    return lines
