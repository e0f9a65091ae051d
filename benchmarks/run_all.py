"""Every benchmark in benchmarks/, at quick sizes, into one JSON with the machine's steadiness for each.

`make bench` runs this. Each benchmark runs in its own process, with the
arguments below (small sizes: the whole set takes a few minutes; pass a
benchmark's own defaults by running it alone). While it runs, a steadiness
meter (lab.core.steadiness) calibrates in this process before, every second
and after, and reads the cores' busy time, counting the benchmark's processes
(reaped children) as the run's own: so every figure in the file says how
steady the machine was when it was taken. A benchmark that can write its
figures as JSON (`--json PATH`) has them under "figures"; the others' printed
tables are kept as "output" lines. A benchmark that fails is recorded with its
exit status and error, and the file still gets written; the exit status is
then 1.

Run: python benchmarks/run_all.py [--out bench.json] [--only NAME,...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lab.core.machine import current_machine
from lab.core.records import now_iso
from lab.core.steadiness import Meter

ROOT = Path(__file__).resolve().parent.parent

METER_EVERY_S = 1.0
# Each benchmark's quick arguments; those marked True write their figures with --json.
QUICK: dict[str, tuple[list[str], bool]] = {
    "steadiness_overhead": (["--rounds", "2"], True),
    "worker_startup": (["--rounds", "5"], False),
    "engine_vs_script": (["--rounds", "1", "--size", "1000000"], False),
    "xray_overhead": (["--rounds", "1", "--rates", "250", "--loops", "2000000"], False),
    "async_clients": (["--requests", "200", "--rounds", "1"], False),
    "web_clients": (["--clients", "10", "--duration", "1"], False),
    "cluster_overhead": (["--size", "500000", "--rounds", "1"], False),
    "interpreters": (["--rounds", "1", "--tasks", "2"], False),
}


def run_one(name: str, args: list[str], writes_json: bool, timeout_s: float) -> dict[str, Any]:
    script = ROOT / "benchmarks" / f"{name}.py"
    with tempfile.TemporaryDirectory(prefix="gil-lab-bench-") as folder:
        figures_path = Path(folder) / "figures.json"
        command = [
            sys.executable,
            str(script),
            *args,
            *(["--json", str(figures_path)] if writes_json else []),
        ]
        meter = Meter()
        meter.start()
        started = time.monotonic()
        marked = started
        with open(Path(folder) / "out", "w+b") as out, open(Path(folder) / "err", "w+b") as err:
            proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT)
            code: int | None = None
            while code is None:
                try:
                    code = proc.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    if time.monotonic() - started > timeout_s:
                        proc.kill()
                        code = proc.wait()
                        break
                if time.monotonic() - marked >= METER_EVERY_S:
                    meter.mark()
                    marked = time.monotonic()
            seconds = time.monotonic() - started
            steadiness = meter.finish()
            out.seek(0)
            err.seek(0)
            output = out.read().decode("utf-8", "replace").splitlines()
            error = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
        figures = json.loads(figures_path.read_text()) if writes_json and figures_path.exists() else None
    record: dict[str, Any] = {
        "command": ["python", f"benchmarks/{name}.py", *args],
        "seconds": round(seconds, 2),
        "exit_status": code,
        "steadiness": steadiness.to_dict(),
        "figures": figures,
        "output": output,
    }
    if code != 0:
        record["error"] = error or [f"exit status {code}"]
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench.json"))
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a benchmark is ended")
    args = parser.parse_args()
    found = sorted(path.stem for path in (ROOT / "benchmarks").glob("*.py") if path.stem != "run_all")
    unknown = [name for name in found if name not in QUICK]
    if unknown:
        print(f"benchmarks without quick arguments in run_all.py: {', '.join(unknown)}", file=sys.stderr)
        return 2
    chosen = [name for name in args.only.split(",") if name] or list(QUICK)
    results: dict[str, Any] = {}
    for name in chosen:
        quick, writes_json = QUICK[name]
        print(f"--- {name} ---", flush=True)
        record = run_one(name, quick, writes_json, args.timeout)
        results[name] = record
        verdict = record["steadiness"]
        state = "steady" if verdict["steady"] else f"NOT steady: {verdict['reason']}"
        print("\n".join(record["output"][-6:]))
        print(f"({record['seconds']:.1f} s, exit {record['exit_status']}, machine {state})", flush=True)
    document = {"created": now_iso(), "machine": current_machine().to_dict(), "benchmarks": results}
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    failed = [name for name, record in results.items() if record["exit_status"] != 0]
    print(f"wrote {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
