"""What a run showed, in plain sentences built from its own numbers.

Every sentence states a measured figure and draws a conclusion only when the
figure clears a threshold (a speedup within 15% of 1 reads as "no faster"), so
a noisy or surprising run is described as it is, never as the textbook says it
should be.
"""

from __future__ import annotations

from lab.core.wording import (
    SAME_BAND,
    STATUS_SENTENCES,
    cores,
    count,
    faster,
    format_seconds,
    steadiness_sentences,
    times,
)
from lab.engine.results import ModeSummary
from lab.run.csvio import Run

NEAR_IDEAL = 0.7


SLOW_STARTUP_SHARE = 0.3


ONE_CORE = 1.5


QUIET_BATCH = 0.8  # cores busy below which a never-waiting batch run shared its core


MAX_REASONS = 2


MAX_REASON_CHARS = 90


THREAD_NAMES = {"threads": "Threads", "asyncio_to_thread": "asyncio.to_thread"}


def takeaway(result: Run) -> list[str]:
    """A few sentences on what this run's numbers show, most important first."""
    sentences = (
        status_sentences(result) + interpreter_sentences(result) + steadiness_sentences(result.steadiness)
    )
    summaries = result.summaries()
    base = result.baseline_mode
    if base is None or not summaries:
        return [*sentences, "No mode finished, so there are no numbers to compare."]
    sentences.append(baseline_sentence(result, result.summary(base)))
    sentences.extend(busy_machine_sentences(result, result.summary(base)))
    if result.settings.kind == "cpu" and result.machine.usable_cores < ONE_CORE:
        sentences.append(
            f"This machine gives the lab {count(result.machine.usable_cores, 'usable core')}, "
            "so no mode can run CPU work in parallel here."
        )
    for summary in summaries:
        if summary.mode == base or summary.failed or summary.error or summary.speedup is None:
            continue
        sentence = mode_sentence(result, summary, base)
        if sentence:
            sentences.append(sentence)
    sentences.extend(failure_sentences(result, base))
    return sentences


def status_sentences(result: Run) -> list[str]:
    sentences = []
    if result.status in STATUS_SENTENCES:
        message = (result.message or "").strip().rstrip(".")
        reason = f" Reason: {message}." if message else ""
        sentences.append(STATUS_SENTENCES[result.status] + reason)
    missing = [mode for mode in result.settings.modes if mode not in result.modes]
    if missing:
        sentences.append(f"Not measured: {', '.join(missing)}.")
    asked = result.settings.repeats
    short = [s for s in result.summaries() if s.repeats < asked]
    if short:
        done = ", ".join(f"{s.mode} {s.repeats}" for s in short)
        sentences.append(f"Fewer repeats than the {asked} asked for finished ({done}).")
    return sentences


def interpreter_sentences(result: Run) -> list[str]:
    """Say so when a free-threaded build ran with the GIL on although it was asked to run without."""
    interpreter = getattr(result, "interpreter", None)
    if interpreter is None or not interpreter.gil_reenabled:
        return []
    return [
        f"{interpreter.name} is a free-threaded build, but the GIL was on at the end of the run: an "
        "imported C extension that is not marked free-threading-safe turned it back on, so the threads "
        "here took turns as on a GIL build (PYTHON_GIL=0, --gil off, keeps it off and only warns)."
    ]


def baseline_sentence(result: Run, base: ModeSummary) -> str:
    tasks = count(result.settings.tasks, "task")
    busy = f" with {cores(base.cores_busy)} cores busy" if result.settings.kind == "io" else ""
    if base.mode == "batch":
        return (
            f"Batch ran the {tasks} one after another in {format_seconds(base.seconds)}{busy}; "
            "every speedup compares a mode with it."
        )
    took = format_seconds(base.seconds)
    return f"Batch did not run, so every speedup compares a mode with {base.mode} ({took})."


def busy_machine_sentences(result: Run, base: ModeSummary) -> list[str]:
    """Say so when batch, alone on a core with work that never waits, still kept less than one busy.

    That core was lent to other work for part of the run, so every figure of
    the run is lower and noisier than on quiet cores; the run is kept as it was.
    """
    info = result.settings.info
    if (
        base.mode != "batch"
        or info.kind != "cpu"
        or info.releases_gil is None
        or base.cores_busy >= QUIET_BATCH
    ):
        return []
    return [
        f"Batch kept only {cores(base.cores_busy)} cores busy, where work that never waits keeps one: other "
        "work on this machine took CPU time during the run, so these figures are lower and noisier than on "
        "quiet cores. Run it again, or with more repeats, before drawing a conclusion."
    ]


def mode_sentence(result: Run, summary: ModeSummary, base: str) -> str | None:
    mode = summary.mode
    if mode in THREAD_NAMES:
        return thread_sentence(result, summary, base)
    if mode == "processes":
        return process_sentence(result, summary, base)
    if mode == "interpreters":
        return interpreters_sentence(result, summary, base)
    if mode == "asyncio":
        return asyncio_sentence(result, summary, base)
    if mode == "asyncio_blocking":
        return blocking_sentence(result, summary, base)
    return None


def thread_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    """Threads (or asyncio.to_thread, which hands each call to a thread) by workload."""
    name, info = THREAD_NAMES[summary.mode], result.settings.info
    speedup, busy = summary.speedup or 0.0, cores(summary.cores_busy)
    ran = f"{name} ran at {times(speedup)} {base}"
    if info.kind == "cpu" and info.releases_gil is None:
        return f"{ran} on {result.settings.describe_work} with {busy} cores busy."
    if info.kind == "cpu" and not info.releases_gil:
        if not result.machine.gil_enabled:
            if faster(speedup):
                return (
                    f"{ran} on pure Python with {busy} cores busy: this interpreter runs without the GIL, "
                    "so threads execute bytecode in parallel."
                )
            return f"{ran} on pure Python even though this interpreter runs without the GIL."
        if faster(speedup):
            return (
                f"{ran} on pure Python, more than the GIL normally allows; "
                "rerun with more repeats before trusting it."
            )
        slower = f", slower than {base}," if speedup < 1 - SAME_BAND else ""
        return (
            f"{ran}{slower} on pure Python and kept {busy} cores busy: the GIL lets only one thread run "
            "Python bytecode at a time, so the threads took turns."
        )
    if info.kind == "cpu":
        usable = result.machine.usable_cores
        if faster(speedup):
            return (
                f"{ran} on {info.name} and kept {busy} cores busy: {info.releases_how}, "
                "so the threads work in parallel." + executor_note(result, summary)
            )
        if usable < ONE_CORE:
            return f"{ran} on {info.name}: {info.releases_how}, but there is no second usable core."
        return (
            f"{ran} on {info.name} although {info.releases_how}; with {busy} cores busy, "
            "something other than the GIL held the threads back."
        )
    if faster(speedup):
        return (
            f"{ran} on {count(result.settings.tasks, 'waiting task')} with only {busy} cores busy: "
            "a thread releases the GIL while it waits, so the waits overlap."
            + executor_note(result, summary)
            + ideal_note(result, summary)
        )
    return f"{ran} on waiting work with {count(summary.workers, 'thread')}: the waits did not overlap."


def overlap_limit(result: Run, summary: ModeSummary) -> int:
    """How many tasks a mode could run at once: its pool size, at most the task count."""
    return max(1, min(summary.workers, result.settings.tasks))


def ideal_note(result: Run, summary: ModeSummary) -> str:
    """Say 'close to ideal' only when the speedup reaches most of what the pool allows."""
    limit, tasks = overlap_limit(result, summary), result.settings.tasks
    if (summary.speedup or 0.0) < NEAR_IDEAL * limit:
        return ""
    if limit == tasks:
        return f" That is close to the ideal {limit}× for {count(tasks, 'task')}."
    return f" That is close to the {limit}× that {count(limit, 'thread')} allow."


def executor_note(result: Run, summary: ModeSummary) -> str:
    tasks = result.settings.tasks
    if summary.mode != "asyncio_to_thread" or summary.workers >= tasks:
        return ""
    return (
        f" It is capped by the default executor's {count(summary.workers, 'thread')}, "
        f"so at most {summary.workers} of the {tasks} tasks ran at once."
    )


def process_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    speedup, usable = summary.speedup or 0.0, result.machine.usable_cores
    ran = f"Processes ran at {times(speedup)} {base}"
    pool = count(summary.workers, "process", "processes")
    startup = format_seconds(summary.startup_seconds)
    if result.settings.kind == "io":
        if faster(speedup):
            return (
                f"{ran} with {pool}: the waits overlap across processes too, but only {summary.workers} "
                f"at a time, and each process is a whole interpreter (start-up {startup})."
            )
        return f"{ran} on waiting work; starting them took {startup}."
    if faster(speedup):
        return (
            f"{ran} on {count(usable, 'usable core')} with {cores(summary.cores_busy)} cores busy: "
            "each process has its own interpreter and its own GIL."
        )
    if usable < ONE_CORE:
        return f"{ran}: with {count(usable, 'usable core')}, separate interpreters have no other core to use."
    if summary.startup_seconds >= SLOW_STARTUP_SHARE * summary.seconds:
        return (
            f"{ran}: starting {pool} took {startup} of its {format_seconds(summary.seconds)}, "
            "more than the work could pay back."
        )
    return f"{ran} despite {count(usable, 'usable core')}, with {cores(summary.cores_busy)} cores busy."


def interpreters_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    speedup, usable = summary.speedup or 0.0, result.machine.usable_cores
    ran = f"Subinterpreters ran at {times(speedup)} {base}"
    pool = count(summary.workers, "interpreter")
    if faster(speedup):
        return (
            f"{ran} with {pool} in one process and {cores(summary.cores_busy)} cores busy: each "
            "subinterpreter has its own GIL, so they run Python in parallel without the cost of a process."
        )
    if usable < ONE_CORE:
        return f"{ran}: with {count(usable, 'usable core')}, the interpreters have no other core to use."
    if result.settings.kind == "io":
        return f"{ran} on waiting work with {pool}."
    busy = cores(summary.cores_busy)
    return f"{ran} with {pool} despite {count(usable, 'usable core')}, with {busy} cores busy."


def asyncio_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    speedup, workload = summary.speedup or 0.0, result.settings.workload
    ran = f"asyncio ran at {times(speedup)} {base}"
    if result.settings.kind == "io":
        if faster(speedup):
            return (
                f"{ran} on one thread with {cores(summary.cores_busy)} cores busy: while a task awaits "
                f"{result.settings.info.waits_on or 'its I/O'}, the event loop runs the others."
            )
        return f"{ran}: the waits did not overlap."
    if faster(speedup):
        return f"{ran} on {workload}."
    return (
        f"{ran} on {workload}: CPU work never awaits, so the event loop's one thread ran the tasks "
        "one after another."
    )


def blocking_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    ran = f"asyncio with a blocking call inside async def ran at {times(summary.speedup or 0.0)} {base}"
    if faster(summary.speedup or 0.0):
        return f"{ran}."
    waiting = ", even though the work was only waiting" if result.settings.kind == "io" else ""
    return (
        f"{ran}: the call blocks the event loop's only thread, so the tasks ran one after another{waiting}."
    )


def failure_sentences(result: Run, base: str) -> list[str]:
    sentences = []
    reasons_by_mode: dict[str, list[str]] = {}
    for mode, _, span in result.failures():
        reason = (span.error or "no reason given").strip()[:MAX_REASON_CHARS]
        if reason not in reasons_by_mode.setdefault(mode, []):
            reasons_by_mode[mode].append(reason)
    for summary in result.summaries():
        if not summary.failed and not summary.error:
            continue
        reasons = reasons_by_mode.get(summary.mode, [])
        if not reasons and summary.error:
            reasons = [summary.error[:MAX_REASON_CHARS]]
        why = f" ({'; '.join(reasons[:MAX_REASONS])})" if reasons else ""
        consequence = (
            f"so speedups against {base} are unreliable"
            if summary.mode == base
            else "so its time is not comparable with the others"
        )
        if summary.failed:
            total = summary.ok + summary.failed
            sentences.append(
                f"{summary.failed} of {total} tasks failed in {summary.mode}{why}, {consequence}."
            )
        else:
            sentences.append(f"{summary.mode} reported an error{why}, {consequence}.")
    return sentences
