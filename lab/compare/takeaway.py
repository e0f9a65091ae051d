"""A comparison's takeaway: what the interpreters' numbers say, in plain words."""

from __future__ import annotations

from lab.compare.results import CompareResult, label_of
from lab.core.wording import cores, count, format_seconds, noting_steadiness, times

SAME_BINARY_BAND = 1.1  # one binary's two batch runs differing more than this: noise


def same_binary_sentences(result: CompareResult) -> list[str]:
    """One binary run twice (a free-threaded build with the GIL off and on) measures the noise.

    Batch runs one thread, so the GIL switch cannot change its time much: a
    larger gap between the two batch runs is what this machine's other work did
    in between, and every difference in the comparison smaller than it is noise.
    """
    batches: dict[str, list[tuple[str, float]]] = {}
    for run in result.runs:
        if run.interpreter is not None and "batch" in run.modes:
            batches.setdefault(run.interpreter.path, []).append((label_of(run), run.summary("batch").seconds))
    sentences = []
    for same in batches.values():
        if len(same) < 2:
            continue
        (fast_label, fast), (slow_label, slow) = min(same, key=lambda b: b[1]), max(same, key=lambda b: b[1])
        if slow > SAME_BINARY_BAND * fast:
            rounds = count(result.settings.rounds, "round")
            sentences.append(
                f"{fast_label} and {slow_label} are the same binary and batch runs one thread, yet their "
                f"batch runs took {format_seconds(fast)} and {format_seconds(slow)}: a gap of "
                f"{slow / fast - 1:.0%} is this machine's noise, not the GIL switch. Read any difference "
                f"that small as noise ({rounds} here: more rounds shrink it)."
            )
    return sentences


@noting_steadiness
def compare_takeaway(result: CompareResult) -> list[str]:
    """What the interpreters did with the same work: threads' speedup and cores busy each, and the cost."""
    sentences = []
    for run in result.runs:
        label = label_of(run)
        interpreter = run.interpreter
        gil = ""
        if interpreter is not None and interpreter.free_threaded:
            gil = " with the GIL off" if not interpreter.gil_enabled else " with the GIL on"
        parts = []
        for mode in ("threads", "interpreters", "processes"):
            if mode in run.modes:
                summary = run.summary(mode)
                if summary.speedup is not None and not summary.failed:
                    parts.append(f"{mode} {times(summary.speedup)} at {cores(summary.cores_busy)} cores busy")
        if parts:
            sentences.append(f"On {label}{gil}: " + "; ".join(parts) + ".")
        if interpreter is not None and interpreter.gil_reenabled:
            sentences.append(
                f"{label} is free-threaded, but the GIL was on at the end: an imported C extension "
                "turned it back on."
            )
    first = label_of(result.runs[0]) if result.runs else ""
    for label, ratio in result.single_thread_cost()[1:]:
        if ratio is None:
            continue
        if abs(ratio - 1) <= 0.03:
            sentences.append(f"Batch took the same time on {label} as on {first}.")
        else:
            change = "slower" if ratio > 1 else "faster"
            sentences.append(
                f"Batch on {label} was {abs(ratio - 1):.0%} {change} than on {first}: the single-thread cost."
            )
    sentences.extend(same_binary_sentences(result))
    if result.status != "complete":
        sentences.append(
            f"The comparison {result.status.replace('_', ' ')}: {result.message or 'no reason given'}."
        )
    return sentences
