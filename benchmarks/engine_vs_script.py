"""Does the engine measure what a plain script measures? And what do I/O modes cost at scale?

Part 1 runs the same CPU work two ways, interleaved, on this machine: a plain
script timed the way the lab notes time it (a loop; a Thread per task;
`Pool.map`), each in a fresh process, and `python -m lab`'s engine. It prints
both and the ratio engine / script per mode, so an overhead (or a gain) of
the engine shows up as a ratio away from 1.

Part 2 runs 100 and 1,000 concurrent requests against the embedded latency
server in every mode that can overlap them, and prints seconds and requests/s.

Run: python benchmarks/engine_vs_script.py [--rounds 3] [--tasks 8] [--size 3000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.core.machine import current_machine
from lab.engine.latency_server import EmbeddedServer
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings

PLAIN_SCRIPT = """
import json, os, sys, threading, time
from multiprocessing import Pool

def sum_of_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def timed(run):
    start = time.perf_counter()
    run()
    return time.perf_counter() - start

def batch(tasks):
    return [sum_of_squares(t) for t in tasks]

def threads(tasks):
    results = []
    workers = [threading.Thread(target=lambda t=t: results.append(sum_of_squares(t))) for t in tasks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

def processes(tasks, count):
    with Pool(processes=count) as pool:
        pool.map(sum_of_squares, tasks)

if __name__ == "__main__":
    count, size, workers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    tasks = [size] * count
    print(json.dumps({
        "batch": timed(lambda: batch(tasks)),
        "threads": timed(lambda: threads(tasks)),
        "processes": timed(lambda: processes(tasks, workers)),
    }))
"""


def plain_script(tasks: int, size: int, workers: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", PLAIN_SCRIPT, str(tasks), str(size), str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def engine(tasks: int, size: int, workers: int) -> dict[str, float]:
    settings = RunSettings.create(
        "squares", tasks=tasks, size=size, workers=workers, modes="batch,threads,processes"
    )
    result = run_experiment(settings)
    return {summary.mode: summary.seconds for summary in result.summaries()}


def cpu_part(rounds: int, tasks: int, size: int, workers: int) -> None:
    plain: dict[str, list[float]] = {}
    ours: dict[str, list[float]] = {}
    for _ in range(rounds):
        for mode, seconds in plain_script(tasks, size, workers).items():
            plain.setdefault(mode, []).append(seconds)
        for mode, seconds in engine(tasks, size, workers).items():
            ours.setdefault(mode, []).append(seconds)
    print(
        f"\nCPU-bound: squares, {tasks} tasks x {size:,}, {workers} processes, median of {rounds} interleaved rounds"
    )
    print(
        f"{'mode':<10} {'script s':>9} {'engine s':>9} {'engine/script':>14} {'speedup (script)':>17} {'speedup (engine)':>17}"
    )
    plain_batch = statistics.median(plain["batch"])
    ours_batch = statistics.median(ours["batch"])
    for mode in ("batch", "threads", "processes"):
        p, o = statistics.median(plain[mode]), statistics.median(ours[mode])
        print(
            f"{mode:<10} {p:>9.3f} {o:>9.3f} {o / p:>14.2f} {plain_batch / p:>16.2f}x {ours_batch / o:>16.2f}x"
        )


def io_part(latency_ms: int) -> None:
    print(f"\nI/O-bound: http against the embedded server, {latency_ms} ms latency, 64 KiB bodies")
    print(f"{'requests':>8} {'mode':<18} {'seconds':>8} {'req/s':>8} {'ok':>5} {'cores busy':>10}")
    with EmbeddedServer(latency_ms=latency_ms) as server:
        for count, modes in (
            (100, "batch,threads,processes,asyncio,asyncio_to_thread"),
            (1000, "threads,processes,asyncio,asyncio_to_thread"),
        ):
            settings = RunSettings.create(
                "http", tasks=count, modes=modes, latency_ms=latency_ms, timeout_s=60
            )
            result = run_experiment(settings, target_url=server.url(latency_ms, settings.bytes))
            for s in result.summaries():
                print(
                    f"{count:>8} {s.mode:<18} {s.seconds:>8.3f} {count / s.seconds:>8.0f} {s.ok:>5} {s.cores_busy:>10.2f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--size", type=int, default=3_000_000)
    parser.add_argument("--latency-ms", type=int, default=200)
    args = parser.parse_args()
    machine = current_machine()
    workers = machine.parallel_slots
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"Machine: {machine.describe()}; CPU {cpu}")
    cpu_part(args.rounds, args.tasks, args.size, workers)
    io_part(args.latency_ms)


if __name__ == "__main__":
    main()
