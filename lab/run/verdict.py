"""How GIL-bound a function is, estimated from its own run, and what to do about it.

From the measured numbers only: batch's cores busy says whether the function
mostly waits; threads' speedup against batch, on `p = min(threads, usable
cores)` cores, gives through Amdahl's law the share `g` of its time that
holds the GIL (the part no second thread can run alongside):

    speedup = 1 / (g + (1 - g) / p)   =>   g = (1 / speedup - 1 / p) / (1 - 1 / p)

clamped to [0, 1]. Its uncertainty comes from the repeats: `g` computed at
the fastest and the slowest threads repeat (against batch's median), half the
range. With one usable core the two cannot be told apart, and the verdict
says so. Where the run was X-rayed, the threads' measured shares on a CPU,
waiting for the GIL or a lock and waiting on I/O are reported beside it. The
advice names only modes that were measured, with their figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from lab.core.interpreters import RunInterpreter
from lab.engine.results import ModeSummary
from lab.engine.settings import RunSettings

WAITS_BELOW_CORES_BUSY = 0.5  # batch keeps less than half a core busy: the function mostly waits
HOLDS_ABOVE_SHARE = 0.5
KINDS = ("holds_gil", "releases_gil", "waits", "unknown")


class MeasuredRun(Protocol):
    """What the verdict reads: a measured or an imported run."""

    @property
    def settings(self) -> RunSettings: ...

    @property
    def interpreter(self) -> RunInterpreter | None: ...

    @property
    def modes(self) -> tuple[str, ...]: ...

    @property
    def baseline_mode(self) -> str | None: ...

    def summary(self, mode: str) -> ModeSummary: ...

    @property
    def machine(self) -> Any: ...


@dataclass(frozen=True)
class Verdict:
    """The answer to "will threads help this function?", with how it was reached."""

    kind: str  # one of KINDS
    gil_share: float | None
    gil_share_err: float | None
    advice: str
    basis: str  # how the share was computed, in one sentence
    threads_speedup: float | None
    effective_threads: float | None
    xray_shares: dict[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def amdahl_share(speedup: float, parallel: float) -> float:
    """The serial share g that gives `speedup` on `parallel` workers, clamped to [0, 1]."""
    if parallel <= 1 or speedup <= 0:
        return 1.0
    share = (1 / speedup - 1 / parallel) / (1 - 1 / parallel)
    return min(1.0, max(0.0, share))


def threads_xray(summary: ModeSummary) -> dict[str, float] | None:
    """The task threads' average shares of on-CPU, GIL-or-lock and I/O-or-sleep time, from the X-ray."""
    threads = (summary.xray or {}).get("threads") or []
    if not threads:
        return None
    count = len(threads)
    return {
        "on_cpu": sum(item["on_cpu"] for item in threads) / count,
        "gil_or_lock": sum(item["gil_or_lock"] for item in threads) / count,
        "waiting": sum(item["io"] + item["sleep"] for item in threads) / count,
    }


def verdict(run: MeasuredRun) -> Verdict:
    """The verdict for a run that measured batch and threads (anything else says what is missing)."""
    if "batch" not in run.modes or "threads" not in run.modes:
        return Verdict(
            "unknown",
            None,
            None,
            "Run both batch and threads (--modes batch,threads,...) to tell how GIL-bound the function is.",
            "no verdict without batch and threads",
            None,
            None,
        )
    batch, threads = run.summary("batch"), run.summary("threads")
    cores = run.machine.usable_cores
    parallel = min(float(threads.workers), cores)
    speedup = threads.speedup
    xray = threads_xray(threads)
    if batch.failed or threads.failed or speedup is None:
        return Verdict(
            "unknown", None, None, "Tasks failed, so there is no verdict.", "failed tasks", None, None
        )
    if batch.cores_busy < WAITS_BELOW_CORES_BUSY:
        return Verdict(
            "waits",
            None,
            None,
            f"It mostly waits (batch kept {batch.cores_busy:.2f} cores busy): {waiting_advice(run)}",
            "batch's CPU seconds ÷ wall seconds below 0.5",
            speedup,
            parallel,
            xray,
        )
    if parallel <= 1:
        return Verdict(
            "unknown",
            None,
            None,
            f"This machine gives the lab {cores:g} usable core, so threads cannot show whether the "
            "function releases the GIL; run it on a machine with two or more cores.",
            "one usable core",
            speedup,
            parallel,
            xray,
        )
    share = amdahl_share(speedup, parallel)
    error = None
    if threads.repeats > 1 and threads.seconds_min > 0:
        fast = amdahl_share(batch.seconds / threads.seconds_min, parallel)
        slow = amdahl_share(batch.seconds / threads.seconds_max, parallel)
        error = abs(slow - fast) / 2
    basis = (
        f"Amdahl's law on threads' {speedup:.2f}× over {parallel:g} effective threads "
        f"(min(threads, usable cores)); ± from the spread of {threads.repeats} repeats"
        if error is not None
        else f"Amdahl's law on threads' {speedup:.2f}× over {parallel:g} effective threads "
        "(min(threads, usable cores)); one repeat, so no uncertainty: use --repeats 3"
    )
    if share >= HOLDS_ABOVE_SHARE:
        kind, advice = "holds_gil", holding_advice(run, share)
    else:
        kind, advice = (
            "releases_gil",
            f"It releases the GIL for {1 - share:.0%} of its time: threads work "
            + (f"({speedup:.2f}× here)."),
        )
    return Verdict(kind, share, error, advice, basis, speedup, parallel, xray)


def measured(run: MeasuredRun, mode: str) -> str | None:
    """'processes 1.92×' when the mode ran cleanly, else None."""
    if mode not in run.modes:
        return None
    summary = run.summary(mode)
    if summary.speedup is None or summary.failed:
        return None
    return f"{mode} {summary.speedup:.2f}×"


def holding_advice(run: MeasuredRun, share: float) -> str:
    """Processes, subinterpreters or a free-threaded build: the figures of those that ran, the rest named."""
    ran = [figure for figure in (measured(run, "processes"), measured(run, "interpreters")) if figure]
    missing = [mode for mode in ("processes", "interpreters") if mode not in run.modes]
    interpreter = run.interpreter
    if interpreter is not None and interpreter.free_threaded and not interpreter.gil_enabled:
        ran.append(f"threads on this free-threaded build {run.summary('threads').speedup or 0:.2f}×")
    else:
        missing.append("a free-threaded build")
    sentence = (
        f"It holds the GIL for about {share:.0%} of its time, so threads take turns. Processes, "
        "subinterpreters or a free-threaded build can run it in parallel"
    )
    if ran:
        sentence += "; measured here: " + ", ".join(ran)
    if missing:
        sentence += "; not measured in this run: " + ", ".join(missing)
    return sentence + "."


def waiting_advice(run: MeasuredRun) -> str:
    ran = [figure for figure in (measured(run, "threads"), measured(run, "asyncio")) if figure]
    here = f" ({', '.join(ran)} here)" if ran else ""
    return f"threads or asyncio overlap the waits{here}."
