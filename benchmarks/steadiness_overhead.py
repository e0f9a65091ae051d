"""What the steadiness meter costs a default run (goal: under 1 % of it).

A default CPU run (`python -m lab run squares`: batch, threads, processes, 8
tasks of 3,000,000, one repeat) calibrates in its worker once before the
first mode and once after each mode, plus the one-off sizing of the
calibration; the caller's side (`lab.core.lifecycle`) calibrates once per
second of polling, on a core the worker's modes may be using. This measures
both costs in this process, then runs default runs and divides:

    worker overhead = (sizing + calibrations + /proc/stat reads) / the run's wall time
    caller overhead = one calibration per second = calibration ms / 1000 ms (of one core)

Run: python benchmarks/steadiness_overhead.py [--rounds 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.core import steadiness
from lab.core.steadiness import Meter
from lab.engine.runner import run_experiment
from lab.engine.settings import RunSettings


def meter_seconds(marks: int) -> tuple[float, float, float]:
    """(one-off sizing, start + `marks` calibrations + finish: wall, then CPU) in seconds, freshly sized.

    Wall and CPU differ when other work preempts a calibration: the meter then
    tries again (at most three times), so on a busy machine it waits longer
    for a core, and on quiet cores wall and CPU agree.
    """
    steadiness._sized_loops = None
    start = time.perf_counter()
    steadiness.calibration_loops()
    sizing = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.thread_time()
    meter = Meter()
    meter.start()
    for _ in range(marks):
        meter.mark()
    meter.finish(calibrate_now=False)
    return sizing, time.perf_counter() - start, time.thread_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=None, help="squares size (default: the lab's default)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    settings = RunSettings.create("squares", size=args.size)
    marks = len(settings.modes) * settings.repeats
    costs = [meter_seconds(marks) for _ in range(args.rounds)]
    sizing = statistics.median(cost[0] for cost in costs)
    metering = statistics.median(cost[1] for cost in costs)
    metering_cpu = statistics.median(cost[2] for cost in costs)
    walls, calibrations = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        result = run_experiment(settings)
        walls.append(time.perf_counter() - start)
        if result.steadiness is not None:
            calibrations += result.steadiness.calibration_ms
    wall = statistics.median(walls)
    one_calibration_ms = statistics.median(calibrations) if calibrations else metering * 1000 / (marks + 1)
    figures = {
        "default_run_seconds": round(wall, 3),
        "calibrations_per_run": marks + 1,
        "calibration_ms": round(one_calibration_ms, 3),
        "sizing_ms": round(sizing * 1000, 3),
        "worker_meter_ms": round((sizing + metering) * 1000, 3),
        "worker_meter_cpu_ms": round((sizing + metering_cpu) * 1000, 3),
        "worker_overhead": round((sizing + metering) / wall, 5),
        "worker_cpu_overhead": round((sizing + metering_cpu) / wall, 5),
        "caller_overhead_per_core": round(one_calibration_ms / 1000, 5),
    }
    print(
        f"default run {wall:.2f} s (median of {args.rounds}); the worker's meter {figures['worker_meter_ms']:.1f} ms "
        f"({marks + 1} calibrations of {one_calibration_ms:.2f} ms, sizing {sizing * 1000:.1f} ms) = "
        f"{figures['worker_overhead']:.2%} of the run ({figures['worker_meter_cpu_ms']:.1f} ms of CPU, "
        f"{figures['worker_cpu_overhead']:.2%}); the caller's meter {figures['caller_overhead_per_core']:.2%} "
        "of one core"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
