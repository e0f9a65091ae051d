"""Every Python on this machine side by side: `python -m lab compare` for squares and sha256.

For each workload, one comparison over every usable interpreter found here
(a free-threaded build counted twice: with the GIL off and on), the modes
each supports (batch, threads, processes, and interpreters where the build
has subinterpreters with their own GIL), interleaved round by round. Prints a
Markdown table per workload for the README, with the machine it came from.

    .venv/bin/python benchmarks/interpreters.py [--rounds 3] [--tasks 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = {"squares": 3_000_000, "sha256": 64 * 1024 * 1024}


def interpreters() -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "lab", "pythons", "--format", "json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    found = [python for python in json.loads(out.stdout) if python["usable"] and python["offered"]]
    # One per minor version and build: the lab's own 3.11 stands for the system's 3.11.2 too.
    seen: set[tuple[str, bool]] = set()
    chosen = []
    for python in found:
        key = (".".join(python["version"].split(".")[:2]), python["free_threaded"])
        if key not in seen:
            seen.add(key)
            chosen.append(python)
    return chosen


def choices(found: list[dict]) -> list[str]:
    labels = []
    for python in found:
        if python["free_threaded"]:
            labels += [f"{python['name']}:gil=off", f"{python['name']}:gil=on"]
        else:
            labels.append(python["name"])
    return labels


def compare(workload: str, labels: list[str], modes: str, rounds: int, tasks: int) -> dict:
    command = [
        sys.executable, "-m", "lab", "compare", workload, "--pythons", ",".join(labels), "--modes", modes,
        "--tasks", str(tasks), "--size", str(SIZES[workload]), "--repeats", str(rounds), "--workers", "2",
        "--format", "json",
    ]  # fmt: skip
    out = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr.strip())
    result: dict = json.loads(out.stdout)
    return result


def table(result: dict) -> str:
    runs = result["runs"]
    modes = ["batch", "threads", "processes", "interpreters"]
    lines = [
        "| interpreter | GIL | "
        + " | ".join(f"{mode} s (speedup, cores busy)" for mode in modes)
        + " | batch cost |",
        "|---|---|" + "---:|" * len(modes) + "---:|",
    ]
    first_batch = None
    for run in runs:
        interpreter = run["interpreter"]
        by_mode = {mode["mode"]: mode for mode in run["modes"]}
        batch = by_mode.get("batch", {}).get("seconds")
        first_batch = first_batch or batch
        cells = []
        for mode in modes:
            summary = by_mode.get(mode)
            if summary is None:
                cells.append("–")
            else:
                speedup = f"{summary['speedup']:.2f}×" if summary["speedup"] is not None else "n/a"
                cells.append(f"{summary['seconds']:.2f} ({speedup}, {summary['cores_busy']:.2f})")
        gil = "on" if interpreter["gil_enabled"] else "off"
        label = interpreter["name"] + (f" (gil={run['settings']['gil']})" if run["settings"]["gil"] else "")
        cost = f"{batch / first_batch:.2f}" if batch and first_batch else "–"
        lines.append(f"| {label} {interpreter['version']} | {gil} | " + " | ".join(cells) + f" | {cost} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=4)
    args = parser.parse_args()
    found = interpreters()
    labels = choices(found)
    with_subinterpreters = all(python["subinterpreters"] for python in found)
    modes = "batch,threads,processes" + (",interpreters" if with_subinterpreters else "")
    print(f"Interpreters: {', '.join(labels)}; {args.rounds} rounds, {args.tasks} tasks, 2 processes\n")
    for workload in SIZES:
        if not with_subinterpreters:
            # Not every Python here has subinterpreters: compare them all without, then those that have.
            result = compare(workload, labels, "batch,threads,processes", args.rounds, args.tasks)
            print(f"### {workload} ({SIZES[workload]:,} per task)\n\n{table(result)}\n")
            newer = [
                label
                for label, python in zip(labels, expand(found), strict=True)
                if python["subinterpreters"]
            ]
            if len(newer) >= 2:
                result = compare(workload, newer, "batch,interpreters", args.rounds, args.tasks)
                print(f"Subinterpreters, same work:\n\n{table(result)}\n")
        else:
            result = compare(workload, labels, modes, args.rounds, args.tasks)
            print(f"### {workload} ({SIZES[workload]:,} per task)\n\n{table(result)}\n")


def expand(found: list[dict]) -> list[dict]:
    """Each interpreter once per label `choices` gives it (a free-threaded build twice)."""
    return [python for python in found for _ in range(2 if python["free_threaded"] else 1)]


if __name__ == "__main__":
    main()
