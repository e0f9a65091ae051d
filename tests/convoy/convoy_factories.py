"""What the convoy tests share: synthetic results shaped like real ones, and a check of what a child loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

from factories import make_machine

from lab.convoy.results import ConvoyPoint, ConvoyResult
from lab.convoy.settings import ConvoySettings
from lab.core.interpreters import RunInterpreter


def xray_figures(cpu_threads: int, gil_wait: float) -> dict[str, Any]:
    """A window's figures as `WindowFigures.to_dict()` gives them: the probe and its CPU threads."""

    def thread(tid: int, worker: str, on_cpu: float, gil: float, io: float) -> dict[str, Any]:
        if worker == "probe":
            segments = [[10.0, 10.0 + gil, "gil_or_lock"], [10.0 + gil, 11.0, "io"]]
        else:
            segments = [[10.0, 11.0, "on_cpu"]]
        return {
            "pid": 100,
            "tid": tid,
            "name": worker,
            "worker": worker,
            "task": True,
            "on_cpu": on_cpu,
            "waiting_for_core": 0.0,
            "gil_or_lock": gil,
            "io": io,
            "sleep": 0.0,
            "other": 0.0,
            "unknown": round(1.0 - on_cpu - gil - io, 9),
            "voluntary_switches": 0,
            "nonvoluntary_switches": 0,
            "segments": segments,
        }

    threads = [thread(101, "probe", 0.0, gil_wait, 1.0 - gil_wait)]
    threads += [thread(102 + n, f"cpu-{n + 1}", 1.0 / cpu_threads, 0.0, 0.0) for n in range(cpu_threads)]
    return {
        "t0": 10.0,
        "t1": 11.0,
        "rate_hz": 250.0,
        "samples": 250,
        "mean_on_cpu": 1.0 if cpu_threads else 0.0,
        "handoffs_per_s": 10.0 * cpu_threads,
        "threads": threads,
        "others": [],
        "on_cpu_steps": [],
    }


def point(
    cpu_threads: int, interval: float, typical_ms: float, *, gil: bool = True, pings: int = 50
) -> ConvoyPoint:
    latencies = tuple(round(typical_ms * (0.8 + 0.4 * index / pings), 3) for index in range(pings))
    return ConvoyPoint(
        cpu_threads=cpu_threads,
        switch_interval_ms=interval,
        seconds=1.0,
        at=tuple(round(index * 0.02, 4) for index in range(pings)),
        latency_ms=latencies,
        lost=0,
        gil_enabled=gil,
        xray=xray_figures(cpu_threads, 0.5 if cpu_threads and gil else 0.0),
    )


def synthetic(gil: bool = True, **overrides: Any) -> ConvoyResult:
    """0, 1, 2 CPU threads x 5 and 20 ms: under the GIL the convoy; without it, none."""
    settings = ConvoySettings.create(cpu_threads="0,1,2", switch_intervals_ms="5,20", seconds=1)
    waits = {0: 0.0, 1: 1.0, 2: 2.5}
    points = tuple(
        point(count, interval, 0.1 + (waits[count] * interval if gil else 0.1), gil=gil)
        for count, interval in settings.points()
    )
    interpreter = RunInterpreter(
        name="3.11" if gil else "3.13t",
        version="3.11.9" if gil else "3.13.3",
        implementation="CPython",
        free_threaded=not gil,
        gil_enabled=gil,
        path="/usr/bin/python3",
        gil_setting=None if gil else "off",
    )
    values: dict[str, Any] = {
        "settings": settings,
        "machine": make_machine(2.0, gil_enabled=gil),
        "points": points,
        "interpreter": interpreter,
        "run_id": "convoy0001",
        "created": "2025-11-30T10:00:00+00:00",
    }
    return ConvoyResult(**(values | overrides))


def loaded_beyond_the_standard_library(module: str) -> list[str]:
    """The top-level packages outside the standard library (and `lab`) that importing `module` loads.

    Asked of a fresh interpreter, so what this test process already loaded does not hide anything.
    """
    code = (
        f"import sys; before = set(sys.modules); import {module}; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        "print(sorted(new - set(sys.stdlib_module_names) - {'lab', '__mp_main__'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded: list[str] = ast.literal_eval(done.stdout.strip())
    return loaded
