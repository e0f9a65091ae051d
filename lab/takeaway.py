"""What a run showed, in plain sentences built from its own numbers.

Every sentence states a measured figure and draws a conclusion only when the
figure clears a threshold (a speedup within 15% of 1 reads as "no faster"), so
a noisy or surprising run is described as it is, never as the textbook says it
should be. `EXPLAINER` is the fixed background text the page shows beside it.
"""

from __future__ import annotations

from lab.history import Run
from lab.results import ModeSummary

SAME_BAND = 0.15
NEAR_IDEAL = 0.7
SLOW_STARTUP_SHARE = 0.3
ONE_CORE = 1.5
MAX_REASONS = 2
MAX_REASON_CHARS = 90

THREAD_NAMES = {"threads": "Threads", "asyncio_to_thread": "asyncio.to_thread"}
STATUS_SENTENCES = {
    "cancelled": "This run was cancelled before it finished: the numbers cover only what completed.",
    "cut_short": "This run was cut short before it finished: the numbers cover only what completed.",
    "crashed": "The experiment crashed before it finished: the numbers cover only what completed.",
}
WAIT_NAMES = {"sleep": "its sleep", "http": "the network"}


def times(speedup: float) -> str:
    return f"{speedup:.2f}×"


def cores(value: float) -> str:
    return f"{value:.2f}" if value < 0.1 else f"{value:.1f}"


def format_seconds(value: float) -> str:
    """2.06 s, 0.21 s, 45 ms: enough digits to compare modes, no more."""
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def count(number: float, word: str, plural: str | None = None) -> str:
    return f"{number:g} {word if number == 1 else plural or word + 's'}"


def faster(speedup: float) -> bool:
    return speedup > 1 + SAME_BAND


def takeaway(result: Run) -> list[str]:
    """A few sentences on what this run's numbers show, most important first."""
    sentences = status_sentences(result)
    summaries = result.summaries()
    base = result.baseline_mode
    if base is None or not summaries:
        return [*sentences, "No mode finished, so there are no numbers to compare."]
    sentences.append(baseline_sentence(result, result.summary(base)))
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


def mode_sentence(result: Run, summary: ModeSummary, base: str) -> str | None:
    mode = summary.mode
    if mode in THREAD_NAMES:
        return thread_sentence(result, summary, base)
    if mode == "processes":
        return process_sentence(result, summary, base)
    if mode == "asyncio":
        return asyncio_sentence(result, summary, base)
    if mode == "asyncio_blocking":
        return blocking_sentence(result, summary, base)
    return None


def thread_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    """Threads (or asyncio.to_thread, which hands each call to a thread) by workload."""
    name, workload = THREAD_NAMES[summary.mode], result.settings.workload
    speedup, busy = summary.speedup or 0.0, cores(summary.cores_busy)
    ran = f"{name} ran at {times(speedup)} {base}"
    if workload == "squares":
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
    if workload == "sha256":
        usable = result.machine.usable_cores
        if faster(speedup):
            return (
                f"{ran} on sha256 and kept {busy} cores busy: hashlib releases the GIL while it hashes, "
                "so the threads hash in parallel." + executor_note(result, summary)
            )
        if usable < ONE_CORE:
            return (
                f"{ran} on sha256: hashlib releases the GIL, but there is no second usable core to hash on."
            )
        return (
            f"{ran} on sha256 although hashlib releases the GIL; with {busy} cores busy, "
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


def asyncio_sentence(result: Run, summary: ModeSummary, base: str) -> str:
    speedup, workload = summary.speedup or 0.0, result.settings.workload
    ran = f"asyncio ran at {times(speedup)} {base}"
    if result.settings.kind == "io":
        if faster(speedup):
            return (
                f"{ran} on one thread with {cores(summary.cores_busy)} cores busy: while a task awaits "
                f"{WAIT_NAMES.get(workload, 'its I/O')}, the event loop runs the others."
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


EXPLAINER = """\
### What the GIL is

CPython keeps one lock per interpreter, the **global interpreter lock**. An OS thread must hold it
to execute Python bytecode, so in one process only one thread runs Python code at any instant; the
others wait their turn. The interpreter makes the running thread hand the lock over every few
milliseconds, and a thread also lets go of it whenever it blocks on I/O, sleeps, or enters C code
written to release it (hashlib on large buffers, zlib, many NumPy operations). The GIL protects
the interpreter's own data, such as reference counts; it does not make *your* code thread-safe.

### The other locks you meet

- **`threading.Lock`** coordinates threads of one process around your own shared data. You still
  need it with the GIL: `counter += 1` is several bytecodes and a thread switch can land between them.
- **`multiprocessing.Lock`** coordinates separate processes, each with its own interpreter and its
  own GIL. It is backed by an OS semaphore, because the processes share no memory by default.
- **`asyncio.Lock`** coordinates coroutines on one event loop, in one thread. Nothing is preempted:
  a coroutine only gives way at an `await`, so the lock matters only when a critical section
  awaits in the middle.

### Rule of thumb

- **Waiting** (network, disk, sleep): threads or asyncio. A waiting thread does not hold the GIL,
  so the waits overlap and the time approaches one task's wait, not their sum.
- **Pure-Python CPU work**: processes. Threads take turns on the GIL and run no faster than one loop;
  processes each bring their own GIL, up to the number of usable cores, at the cost of start-up time
  and of pickling arguments and results.
- **C code that releases the GIL**: threads can use several cores, as `sha256` shows here.
- A free-threaded build (3.13t and later, GIL disabled) lets pure-Python threads run in parallel too.

### `def` vs `async def` in an async web framework

In FastAPI (and Starlette), a plain `def` endpoint runs in a thread pool, so a blocking call in it
ties up one pool thread and the other requests carry on. An `async def` endpoint runs on the event
loop itself: it helps only when it *awaits* (an async database driver, `httpx.AsyncClient`,
`asyncio.sleep`). A blocking call inside `async def` (`time.sleep`, `requests.get`, a long
computation) stalls the loop, and with it every request that server process is handling; that is
the `asyncio_blocking` mode here. Move such work to `await asyncio.to_thread(...)`, declare the
endpoint with plain `def`, or send CPU-heavy work to a process pool.
"""
