"""What the GIL X-ray costs the run it watches (goal: under 5% at the default rate).

Runs a fixed CPU workload in a child process, with and without the X-ray
sampler attached, interleaved (ABBA) over several rounds, for each rate:
pure-Python threads (the GIL case: one core busy, one mostly free) and
processes (both cores busy, so every microsecond the sampler spends comes
out of the workload). Reports, as medians of each round's with/without
ratio (a round's two runs are close in time, so they share the machine's
load): the workload's wall time and its own CPU time; the sampler's CPU
and sweeps per second; and the slowdown to expect on an otherwise idle
machine. `--reads` first times each /proc read the sampler uses.

Run: python benchmarks/xray_overhead.py [--rounds 5] [--rates 100,250,500,1000] [--reads]
"""

from __future__ import annotations

import argparse
import os
import selectors
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.core.procs import end_process_group, start_child
from lab.xray.client import XraySampler
from lab.xray.procfs import TaskFiles, thread_ids
from lab.xray.sampler import DEFAULT_RATE_HZ

# The child waits for a byte on fd GO before it starts the clock, so the sampler can attach first.
WORKLOAD = """
import multiprocessing, os, sys, threading, time
kind, count, loops, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def squares():
    total = 0
    for i in range(loops):
        total += i * i
def run_threads():
    workers = [threading.Thread(target=squares) for _ in range(count)]
    for worker in workers: worker.start()
    for worker in workers: worker.join()
def run_processes():
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=squares) for _ in range(count)]
    for worker in workers: worker.start()
    for worker in workers: worker.join()
if not os.read(go, 1):
    sys.exit(1)  # the benchmark has gone
start, cpu_start = time.perf_counter(), os.times()
run_threads() if kind == "threads" else run_processes()
wall, cpu_end = time.perf_counter() - start, os.times()
cpu = sum(cpu_end[:4]) - sum(cpu_start[:4])  # this process and its reaped children, user and system
print(wall, cpu, flush=True)
"""


@dataclass(frozen=True)
class Workload:
    kind: str  # "threads" or "processes"
    count: int
    loops: int

    @property
    def label(self) -> str:
        return f"{self.count} {self.kind}"


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_s: float  # the workload's own CPU time: its work plus what caches the sampler spoiled
    sampler_cpu_s: float = 0.0  # while sampling, startup excluded
    sampled_s: float = 0.0
    sweeps_per_s: float = 0.0


def run_once(workload: Workload, rate_hz: float | None) -> Run:
    """One workload run; with `rate_hz`, the X-ray samples it from before the clock starts."""
    go_read, go_write = os.pipe()
    child = start_child(
        [
            sys.executable,
            "-c",
            WORKLOAD,
            workload.kind,
            str(workload.count),
            str(workload.loops),
            str(go_read),
        ],
        pass_fds=(go_read,),
        stdout=subprocess.PIPE,
    )
    os.close(go_read)
    xray = None
    try:
        if rate_hz is not None:
            xray = XraySampler(child.pid, rate_hz).start()
            deadline = time.monotonic() + 10
            while not xray.started and time.monotonic() < deadline:
                xray.poll(0.05)
        os.write(go_write, b"g")
        assert child.stdout is not None
        if xray is None:
            return Run(*map(float, child.stdout.readline().split()))
        seconds, cpu_s = map(float, read_line_while_polling(child, xray).split())
        recording = xray.stop()
        first, last = recording.marks[0], recording.marks[-1]
        return Run(seconds, cpu_s, last.cpu_s - first.cpu_s, last.t - first.t, recording.sweeps_per_s())
    finally:
        os.close(go_write)
        if xray is not None:
            xray.close()
        end_process_group(child)


def read_line_while_polling(child: subprocess.Popen[bytes], xray: XraySampler) -> bytes:
    """The workload's one output line; the sampler's pipe is drained meanwhile, as a caller would."""
    assert child.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        while not selector.select(0):
            xray.poll(0.05)
    return child.stdout.readline()


def busy_share(interval_s: float = 0.5) -> float:
    """How busy all cores were over `interval_s`, from /proc/stat (the benchmark itself idle)."""

    def busy_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(value) for value in stat.readline().split()[1:]]
        idle = ticks[3] + ticks[4]  # idle and iowait
        return sum(ticks) - idle, sum(ticks)

    busy_0, total_0 = busy_and_total()
    time.sleep(interval_s)
    busy_1, total_1 = busy_and_total()
    return (busy_1 - busy_0) / max(1, total_1 - total_0)


def wait_for_quiet(max_busy: float, timeout_s: float) -> bool:
    """Wait until other work leaves the cores (mostly) idle; False if it never did within `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while busy_share() > max_busy:
        if time.monotonic() > deadline:
            return False
    return True


def compare(workload: Workload, rate_hz: float, rounds: int, max_busy: float) -> str:
    """One line: wall and CPU time of the workload without and with the sampler, and the sampler's cost.

    On a shared machine the wall-time difference is at the mercy of other
    work, so the line also gives what does not depend on it: the change in
    the workload's own CPU time (the sampler's cache and scheduling
    disturbance) and the sampler's CPU as a share of the machine (what it
    takes away when every core is busy). Their sum is the slowdown to expect
    on a machine with no other work.
    """
    pairs: list[tuple[Run, Run]] = []
    noisy_rounds = 0
    for index in range(rounds):
        noisy_rounds += not wait_for_quiet(max_busy, timeout_s=60)
        if index % 2 == 0:  # ABBA against drift
            plain = run_once(workload, None)
            sampled = run_once(workload, rate_hz)
        else:
            sampled = run_once(workload, rate_hz)
            plain = run_once(workload, None)
        pairs.append((plain, sampled))
    wall = sorted(sampled.seconds / plain.seconds for plain, sampled in pairs)
    cpu = statistics.median(sampled.cpu_s / plain.cpu_s for plain, sampled in pairs)
    with_xray = [sampled for _, sampled in pairs]
    sampler_cpu = statistics.median(run.sampler_cpu_s for run in with_xray)
    core_share = statistics.median(
        run.sampler_cpu_s / run.sampled_s for run in with_xray if run.sampled_s > 0
    )
    machine_share = core_share / (os.cpu_count() or 1)
    return (
        f"{workload.label:12s} {rate_hz:6.0f} Hz  "
        f"wall {statistics.median(plain.seconds for plain, _ in pairs):5.2f} -> "
        f"{statistics.median(run.seconds for run in with_xray):5.2f} s "
        f"{100 * (statistics.median(wall) - 1):+5.1f}% (rounds {100 * (wall[0] - 1):+.0f}%..{100 * (wall[-1] - 1):+.0f}%)  "
        f"workload CPU {100 * (cpu - 1):+5.1f}%  "
        f"sampler CPU {sampler_cpu:5.3f} s = {100 * core_share:4.1f}% of a core, {100 * machine_share:3.1f}% of the machine  "
        f"expected {100 * (cpu - 1 + machine_share):+4.1f}%  "
        f"{statistics.median(run.sweeps_per_s for run in with_xray):4.0f} sweeps/s"
        + (f"  ({noisy_rounds} rounds began on a busy machine)" if noisy_rounds else "")
    )


def time_reads(rounds: int = 3000) -> None:
    """Microseconds of CPU per pread of each /proc file, on a process with spinning and sleeping threads."""
    code = (
        "import threading, time\n"
        "def spin():\n    while True: pass\n"
        "[threading.Thread(target=spin, daemon=True).start() for _ in range(2)]\n"
        "[threading.Thread(target=time.sleep, args=(3600,), daemon=True).start() for _ in range(2)]\n"
        "time.sleep(3600)\n"
    )
    target = start_child([sys.executable, "-c", code])
    try:
        time.sleep(0.5)
        tasks = [TaskFiles.open(target.pid, tid) for tid in thread_ids(target.pid)]
        files = [task for task in tasks if task is not None]
        readers = {
            "stat": TaskFiles.stat,
            "stat (letter only)": TaskFiles.state_letter,
            "wchan": TaskFiles.wchan,
            "schedstat": TaskFiles.schedstat,
            "status (open, read, close)": TaskFiles.switches,
        }
        for name, read in readers.items():
            begin = time.process_time()
            for _ in range(rounds):
                for task in files:
                    read(task)
            per_read = (time.process_time() - begin) / rounds / len(files)
            print(f"  {name:28s} {per_read * 1e6:6.1f} µs per read")
        for task in files:
            task.close()
    finally:
        end_process_group(target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rates", default="100,250,500,1000")
    parser.add_argument("--loops", type=int, default=12_000_000, help="loop iterations per thread or process")
    parser.add_argument("--reads", action="store_true", help="first time each /proc read")
    parser.add_argument(
        "--max-busy",
        type=float,
        default=0.15,
        help="start a round only when other work keeps the cores below this",
    )
    args = parser.parse_args()
    if args.reads:
        print("/proc reads (CPU time, hot cache):")
        time_reads()
    workloads = [Workload("threads", 2, args.loops), Workload("threads", 4, args.loops // 2)]
    workloads.append(Workload("processes", 2, args.loops))
    print(f"{os.cpu_count()} cores; default rate {DEFAULT_RATE_HZ:g} Hz; medians of {args.rounds} rounds")
    for rate in (float(value) for value in args.rates.split(",")):
        for workload in workloads:
            print(compare(workload, rate, args.rounds, args.max_busy), flush=True)


if __name__ == "__main__":
    main()
