"""aiohttp or httpx for the native asyncio mode? N concurrent GETs in one event loop, measured.

Each (client, round) runs in a fresh spawned process, so CPU seconds and peak
RSS belong to that client alone; the server is an EmbeddedServer in its own
child process. Both clients get uncapped connection pools. Rounds interleave
the clients so drift on the machine hits both; the table shows medians.

    python3 benchmarks/async_clients.py --requests 1000 --latency-ms 200
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import multiprocessing
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ("aiohttp", "httpx")


@dataclass(frozen=True)
class Sample:
    """One round of one client: wall and CPU seconds for the N requests, peak RSS of its process."""

    client: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    ok: int


async def fetch_all_aiohttp(url: str, count: int, nbytes: int) -> int:
    import aiohttp

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> bool:
            async with session.get(url) as response:
                return response.status == 200 and len(await response.read()) == nbytes

        return sum(await asyncio.gather(*(one() for _ in range(count))))


async def fetch_all_httpx(url: str, count: int, nbytes: int) -> int:
    import httpx

    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one() -> bool:
            response = await client.get(url)
            return response.status_code == 200 and len(response.content) == nbytes

        return sum(await asyncio.gather(*(one() for _ in range(count))))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(client: str, url: str, count: int, nbytes: int) -> Sample:
    """Runs in a fresh process: import the client, then time N concurrent GETs."""
    from lab.core.procs import raise_open_file_limit

    raise_open_file_limit()
    fetch_all = fetch_all_aiohttp if client == "aiohttp" else fetch_all_httpx
    importlib.import_module(client)
    cpu_before, wall_before = cpu_seconds(), time.perf_counter()
    ok = asyncio.run(fetch_all(url, count, nbytes))
    wall, cpu = time.perf_counter() - wall_before, cpu_seconds() - cpu_before
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Sample(client, wall, cpu, peak_rss_kib / 1024, ok)


def run_isolated(client: str, url: str, count: int, nbytes: int) -> Sample:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(measure, client, url, count, nbytes).result()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="concurrent GETs per round")
    parser.add_argument("--latency-ms", type=int, default=200, help="server latency per request")
    parser.add_argument("--bytes", type=int, default=65536, help="body size per response")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per client, interleaved")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO_ROOT))
    from lab.core.machine import affinity_core_count
    from lab.engine.latency_server import EmbeddedServer

    print(
        f"Python {platform.python_version()}, {affinity_core_count()} usable cores, {cpu_model()}; "
        + ", ".join(f"{name} {version(name)}" for name in CLIENTS)
    )
    print(f"{args.requests} concurrent GETs, {args.latency_ms} ms latency, {args.bytes} B bodies")
    samples: list[Sample] = []
    with EmbeddedServer(latency_ms=args.latency_ms, nbytes=args.bytes) as server:
        url = server.url(args.latency_ms, args.bytes)
        for _ in range(args.rounds):
            for client in CLIENTS:
                samples.append(run_isolated(client, url, args.requests, args.bytes))

    print(f"{'client':<8} {'wall s':>8} {'req/s':>8} {'CPU s':>7} {'peak RSS MiB':>13} {'ok':>11}")
    for client in CLIENTS:
        mine = [sample for sample in samples if sample.client == client]
        wall = statistics.median(sample.wall_s for sample in mine)
        cpu = statistics.median(sample.cpu_s for sample in mine)
        rss = statistics.median(sample.peak_rss_mib for sample in mine)
        ok = f"{min(sample.ok for sample in mine)}/{args.requests}"
        print(f"{client:<8} {wall:>8.3f} {args.requests / wall:>8.0f} {cpu:>7.3f} {rss:>13.1f} {ok:>11}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
