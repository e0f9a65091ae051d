"""What a Cluster-lab run showed, in sentences built from its own numbers.

The lesson is the GIL at cluster scale: a Dask worker is one process with one
GIL, so for pure-Python tasks its threads take turns and only more worker
processes add cores; C code that releases the GIL (hashlib) and plain waiting
scale with threads too. Each sentence names the measured figure behind it.
Works for fresh and imported runs alike: it reads only the settings, the
machine and the per-layout summaries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lab.cluster.results import LayoutSummary
from lab.cluster.settings import ClusterLayout
from lab.core.wording import format_seconds, noting_steadiness

if TYPE_CHECKING:
    from lab.cluster.csvio import ClusterRun


PREDICTED_GAIN = 1.5  # a layout predicted to run this much faster than the first...
GAIN_SEEN = 1.3  # ...must show at least this
NO_GAIN = 1.15  # one predicted no faster must stay below this (the engine's "no faster" band)
BUSY_FLOOR = 0.8  # one thread of CPU work keeps about one core busy: below this, something else had it


def times(speedup: float | None) -> str:
    return f"{speedup:.2f}×" if speedup is not None else "an unknown speed (tasks failed)"


def threads_of(summary: LayoutSummary) -> int:
    return summary.layout.threads_per_worker or 0


def shaped(summaries: list[LayoutSummary]) -> tuple[LayoutSummary | None, LayoutSummary | None]:
    """The first layout that adds threads to one worker, and the first that adds single-thread workers."""
    threaded = next((s for s in summaries if s.layout.workers == 1 and threads_of(s) > 1), None)
    spread = next((s for s in summaries if s.layout.workers > 1 and threads_of(s) == 1), None)
    return threaded, spread


def predicted_speedup(run: ClusterRun, summary: LayoutSummary, base: LayoutSummary) -> float:
    """The speedup one GIL per worker process predicts: tasks at once, over the first layout's.

    Pure-Python tasks run one per worker process; tasks that release the GIL
    or wait run one per thread. CPU work also stops at the usable cores.
    """
    info, tasks = run.settings.info, run.settings.tasks
    cores = run.machine.usable_cores if info.kind == "cpu" else float("inf")

    def at_once(layout: ClusterLayout) -> float:
        parallel = layout.slots if info.releases_gil else layout.workers
        return min(float(parallel), float(tasks), cores)

    return at_once(summary.layout) / at_once(base.layout)


def as_predicted(speedup: float | None, predicted: float) -> bool:
    """In line with the prediction: no gain where none is possible, a clear one where one is."""
    if speedup is None:
        return False
    if predicted >= PREDICTED_GAIN:
        return speedup >= GAIN_SEEN
    return speedup < NO_GAIN if predicted <= 1.0 else True


def headline(run: ClusterRun, summaries: list[LayoutSummary]) -> str | None:
    """Threads of one worker against single-thread workers, each against the first layout.

    The reason given is the GIL's only when the numbers bear it out; a run
    whose numbers do not (another program took the cores) says so instead.
    """
    base = summaries[0]
    shown = [summary for summary in shaped(summaries[1:]) if summary is not None]
    if not shown:
        return None
    parts = []
    for summary in shown:
        if summary.layout.workers == 1:
            parts.append(f"on one worker with {threads_of(summary)} threads ran at {times(summary.speedup)}")
        else:
            parts.append(f"on {summary.layout.workers} single-thread workers at {times(summary.speedup)}")
    measured = f"{'; '.join(parts)} (vs {base.name})"
    predictions = [(summary, predicted_speedup(run, summary, base)) for summary in shown]
    info = run.settings.info
    holds = info.kind == "cpu" and not info.releases_gil
    kind = info.noun
    if not all(as_predicted(summary.speedup, predicted) for summary, predicted in predictions):
        expected = ", ".join(
            f"about {predicted:.1f}× for {summary.name}" for summary, predicted in predictions
        )
        return (
            f"{kind} tasks {measured}: not what one GIL per worker process predicts here ({expected}), "
            "so something else probably held this machine's cores; run it again when it is quieter."
        )
    if holds:
        return (
            f"{kind} tasks {measured} — each Dask worker process has one GIL, so its threads take "
            "turns running Python and only more worker processes use more cores."
        )
    if info.kind == "cpu":
        return (
            f"{kind} tasks {measured} — {info.releases_how}, so the threads of one worker work in "
            "parallel, much as separate worker processes do."
        )
    return (
        f"{kind} tasks {measured} — a waiting thread holds no GIL, so every thread or worker lets one "
        "more task wait at the same time."
    )


def layout_sentence(summary: LayoutSummary, base: str) -> str:
    return (
        f"{summary.name} ({summary.layout.describe()}): {format_seconds(summary.seconds)}, "
        f"{times(summary.speedup)} {base}, {summary.cores_busy:.2f} cores busy."
    )


def existing_cluster(run: ClusterRun, summary: LayoutSummary) -> str:
    layout = summary.layout
    parallel = layout.slots if run.settings.info.releases_gil else layout.workers
    reason = (
        "each worker process runs Python on one core at a time"
        if not run.settings.info.releases_gil
        else "its tasks release the GIL, so every thread can run one"
    )
    settings = run.settings
    return (
        f"On the cluster at {run.scheduler} ({layout.describe()}), {settings.tasks} {settings.workload} "
        f"tasks took {format_seconds(summary.seconds)} and kept {summary.cores_busy:.2f} cores busy: "
        f"{reason}, so up to {parallel} could run at once."
    )


def overhead_sentence(summaries: list[LayoutSummary]) -> str:
    costs = [summary.overhead_ms_per_task for summary in summaries]
    low, high = min(costs), max(costs)
    amount = f"{low:.0f} ms" if round(low) == round(high) else f"{low:.0f}–{high:.0f} ms"
    return (
        f"Dask's own cost was about {amount} per task: the time the worker threads spent outside any task "
        "(sending tasks and results, the scheduler's decisions, slots left idle at the end)."
    )


def cores_caveat(run: ClusterRun, summaries: list[LayoutSummary]) -> str | None:
    """A layout with more parallel slots than the machine has cores cannot keep them all busy."""
    if run.scheduler != "local" or run.settings.info.kind != "cpu":
        return None
    cores = run.machine.usable_cores
    over = [s.name for s in summaries if min(s.layout.slots, run.settings.tasks) > cores]
    if not over:
        return None
    return (
        f"This machine has {cores:g} usable cores, so {', '.join(over)} had more threads or processes "
        "than cores to run them: beyond the cores, CPU work only takes turns."
    )


def busy_caveat(run: ClusterRun, summaries: list[LayoutSummary]) -> str | None:
    """CPU work on one thread keeps a core busy; a first layout that did not had its core taken."""
    base = summaries[0]
    if run.settings.info.kind != "cpu" or base.layout.slots != 1 or base.cores_busy >= BUSY_FLOOR:
        return None
    return (
        f"{base.name} kept only {base.cores_busy:.2f} cores busy where one thread of {run.settings.workload} "
        "keeps one: other programs were using this machine's CPU during the run, so read its speedups "
        "with care."
    )


def caveats(summaries: list[LayoutSummary]) -> list[str]:
    lines = []
    for summary in summaries:
        if summary.error:
            lines.append(f"{summary.name}: {summary.error}")
        elif summary.failed:
            lines.append(f"{summary.name}: {summary.failed} task(s) failed.")
    return lines


@noting_steadiness
def takeaway(run: ClusterRun) -> list[str]:
    """Sentences for the page and the CLI, most telling first; only the ending when nothing was measured."""
    summaries = run.summaries()
    lines: list[str] = []
    if summaries and run.scheduler != "local":
        lines.append(existing_cluster(run, summaries[0]))
    elif summaries:
        found = headline(run, summaries)
        if found:
            lines.append(found)
        named = set(shaped(summaries[1:])) if found else set()
        base = summaries[0].name
        lines += [layout_sentence(s, base) for s in summaries[1:] if s not in named]
        lines += [line for line in (cores_caveat(run, summaries), busy_caveat(run, summaries)) if line]
    if summaries:
        lines.append(overhead_sentence(summaries))
    lines += caveats(summaries)
    if run.status != "complete":
        ended = {"cancelled": "was cancelled", "cut_short": "was cut short"}.get(run.status, "crashed")
        lines.append(f"The run {ended}: {run.message or 'no reason given'}.")
    return lines
