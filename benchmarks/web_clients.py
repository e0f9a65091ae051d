"""def vs async def as the clients grow: the web lab's figures for 10, 100 and 1,000 clients.

Each client count is one `python -m lab web` run (a fresh uvicorn server per
endpoint, the aiohttp clients in a process of their own), so the table is
exactly what the lab reports. The ceilings are clients ÷ latency
(async_wait), min(clients, thread pool) ÷ latency (def_wait) and
1 ÷ latency (async_blocking). "server CPU" and "client CPU" are the shares of
a core the server's processes and the load generator used: near 100 % for
one process means it, not the waiting, set the pace.

    python3 benchmarks/web_clients.py --duration 3
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ENDPOINTS = "def_wait,async_wait,async_blocking"
COLUMNS = (
    ("clients", 7),
    ("endpoint", 14),
    ("req/s", 7),
    ("ceiling", 7),
    ("of ceiling", 10),
    ("p50 ms", 7),
    ("p99 ms", 7),
    ("cut", 5),
    ("server CPU", 10),
    ("client CPU", 10),
)


def markdown_row(cells: Iterable[str]) -> str:
    """One row of a Markdown table: the endpoint column flush left, numbers flush right."""
    padded = [
        cell.ljust(width) if name == "endpoint" else cell.rjust(width)
        for cell, (name, width) in zip(cells, COLUMNS, strict=True)
    ]
    return "| " + " | ".join(padded) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="10,100,1000", help="client counts, comma-separated")
    parser.add_argument("--duration", default="3", help="seconds of load per endpoint")
    parser.add_argument("--latency-ms", default="200", help="how long each request waits")
    parser.add_argument("--threadpool", default="40", help="AnyIO thread pool size")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO_ROOT))
    from lab.core.machine import current_machine
    from lab.web.runner import run_web
    from lab.web.settings import WebSettings

    counts = [int(count) for count in args.clients.split(",")]
    settings = [
        WebSettings.create(
            endpoints=ENDPOINTS,
            clients=count,
            duration=args.duration,
            latency_ms=args.latency_ms,
            threadpool=args.threadpool,
        )
        for count in counts
    ]
    print(current_machine().describe())
    print(f"{args.duration} s per endpoint, {args.latency_ms} ms latency, thread pool {args.threadpool}")
    print(markdown_row(name for name, _ in COLUMNS))
    print(markdown_row("-" * width for _, width in COLUMNS))
    failed = False
    for count, run_settings in zip(counts, settings, strict=True):
        result = run_web(run_settings)
        failed |= not result.all_ok
        for s in result.summaries():
            share = f"{s.share_of_ceiling:.0%}" if s.share_of_ceiling is not None else "-"
            cells = (f"{count:,}", s.endpoint, f"{s.throughput:,.1f}", f"{s.ceiling or 0:,.0f}", share)
            cells += (f"{s.p50_ms or 0:,.0f}", f"{s.p99_ms or 0:,.0f}", f"{s.cut:,}")
            cells += (f"{s.server_cores_busy or 0:.0%}", f"{s.client_busy:.0%}")
            print(markdown_row(cells), flush=True)
        if result.status != "complete":
            print(f"  the {count}-client run {result.status}: {result.message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
