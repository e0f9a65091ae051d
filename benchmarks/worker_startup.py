"""How long a `python -m lab worker` takes to start measuring (goal: under 150 ms for squares).

Times, from the parent, the gap between starting the worker process and its
first event ("started", sent once settings are parsed and the machine is
described), and the whole of a one-task run, over several rounds.

Run: python benchmarks/worker_startup.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.engine.runner import Experiment
from lab.engine.settings import RunSettings


def one_round(settings: RunSettings) -> tuple[float, float]:
    begin = time.perf_counter()
    first = None
    with Experiment(settings) as experiment:
        while not experiment.done:
            for event in experiment.poll(0.005):
                if event["event"] == "started" and first is None:
                    first = time.perf_counter() - begin
    return first or float("nan"), time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    settings = RunSettings.create("squares", tasks=1, size=1, modes="batch")
    one_round(settings)  # warm the OS file cache
    rounds = [one_round(settings) for _ in range(args.rounds)]
    to_first = sorted(first for first, _ in rounds)
    total = sorted(whole for _, whole in rounds)
    print(
        f"worker start -> first event: median {statistics.median(to_first) * 1000:.0f} ms, "
        f"min {to_first[0] * 1000:.0f} ms, max {to_first[-1] * 1000:.0f} ms ({args.rounds} rounds)"
    )
    print(
        f"whole one-task squares run:  median {statistics.median(total) * 1000:.0f} ms, "
        f"min {total[0] * 1000:.0f} ms, max {total[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
