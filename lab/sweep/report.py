"""A sweep for people: its table at the terminal, and what its fits say in plain sentences.

Every sentence is built from the sweep's own numbers: a serial fraction is
printed only when its fit is good or rough (a rough one says why), and a poor
fit says why there is no number instead of printing a misleading one.
Standard library only, like `lab.run.report`; the page draws the same
`SweepResult` with Plotly.
"""

from __future__ import annotations

from lab.core.machine import machine_lines
from lab.core.wording import SAME_BAND, STATUS_SENTENCES
from lab.sweep.fit import Fit
from lab.sweep.results import LineFit, SweepPoint, SweepResult

NOUNS: dict[str, tuple[str, str]] = {
    "threads": ("thread", "threads"),
    "processes": ("process", "processes"),
    "interpreters": ("subinterpreter", "subinterpreters"),
}
SPEEDUP_NOTES = {
    "strong": "speedup = 1-worker seconds / n-worker seconds",
    "weak": "scaled speedup = n × 1-worker seconds / n-worker seconds",
}
MODELS = {
    "amdahl": "Amdahl, strong scaling: speedup S(n) = 1 / (s + (1 − s) / p(n))",
    "gustafson": "Gustafson, weak scaling: scaled speedup Y(n) = s + (1 − s) · p(n)",
}


def noun(mode: str, count: float) -> str:
    singular, plural = NOUNS.get(mode, ("worker", "workers"))
    return singular if count == 1 else plural


def describe_sweep(result: SweepResult) -> str:
    """One line: the work, how it was shared, the rounds, the status."""
    settings = result.settings
    base = settings.base
    size = f" of size {base.size:,}" if base.info.uses_size else ""
    if settings.scale == "strong":
        work = f"{base.tasks} tasks{size} shared by every worker count"
    else:
        work = f"{base.tasks} task{'s' if base.tasks != 1 else ''}{size} per worker"
    return (
        f"GIL Lab sweep · {base.describe_work}: {work} · {settings.scale} scaling · "
        f"{settings.rounds} round(s), interleaved · {result.status}"
    )


def counts_line(result: SweepResult) -> str:
    counts = ", ".join(str(count) for count in result.settings.workers)
    added = " (1 added: every speedup is measured against one worker)" if result.settings.added_one else ""
    return f"Worker counts {counts}{added}"


def sweep_table(result: SweepResult) -> str:
    """The sweep as text: every point, every fit, the takeaway and the machine."""
    lines = [describe_sweep(result), counts_line(result), ""]
    header = f"{'mode':<13} {'interpreter':<16} {'workers':>7} {'tasks':>6} {'seconds':>9} {'min–max':>15} "
    header += f"{'speedup':>8} {'efficiency':>10} {'cores busy':>10} {'failed':>6}"
    lines += [header, "-" * len(header)]
    for mode, label in result.lines():
        for point in result.line_points(mode, label):
            lines.append(point_row(result, point))
    lines.append(f"{SPEEDUP_NOTES[result.scale]}; efficiency = speedup / n; cores busy = CPU s / seconds")
    lines += ["", f"Fits ({MODELS[result.model]}, p(n) = min(n, {result.cores:g} usable cores)):"]
    lines += [f"  {fit_row(line)}" for line in result.fits()]
    lines += ["", "Takeaway:", *(f"  - {sentence}" for sentence in sweep_takeaway(result))]
    if result.message:
        lines += ["", result.message]
    lines += ["", *machine_lines(result.machine)]
    return "\n".join(lines) + "\n"


def point_row(result: SweepResult, point: SweepPoint) -> str:
    spread = f"{point.seconds_min:.3f}–{point.seconds_max:.3f}" if point.repeats > 1 else ""
    speedup = result.speedup(point)
    efficiency = result.efficiency(point)
    return (
        f"{point.mode:<13} {point.interpreter:<16} {point.workers:>7} {point.tasks:>6} "
        f"{point.seconds:>9.3f} {spread:>15} {'-' if speedup is None else f'{speedup:.2f}x':>8} "
        f"{'-' if efficiency is None else f'{efficiency:.0%}':>10} {point.cores_busy:>10.2f} "
        f"{point.failed:>6}"
    )


def fit_row(line: LineFit) -> str:
    fit = line.fit
    where = f"{line.mode:<13} {line.interpreter:<16}"
    if fit.quality == "poor" or fit.serial_fraction is None:
        return f"{where} no serial fraction: {fit.reason}"
    reach = f"at most {fit.max_speedup or 1:.2f}×"
    if fit.max_speedup_at > 1:
        reach += f" (from {fit.max_speedup_at} {noun(line.mode, fit.max_speedup_at)} on)"
    return (
        f"{where} serial fraction {fit.serial_fraction:.2f} ± {fit.serial_fraction_err or 0:.2f}, "
        f"{reach} · {fit.quality}: {fit.reason}"
    )


def sweep_takeaway(result: SweepResult) -> list[str]:
    """What the sweep showed, most important first: one sentence per line's fit, then the caveats."""
    sentences = []
    if result.status in STATUS_SENTENCES:
        sentences.append(STATUS_SENTENCES[result.status].replace("run", "sweep", 1))
    several = len(result.interpreters) > 1
    for line in result.fits():
        sentences.append(fit_sentence(result, line, several))
    sentences += failure_sentences(result) + gil_sentences(result) + steadiness_sentences(result)
    top = result.settings.workers[-1]
    if top > result.cores:
        sentences.append(
            f"Past {result.cores:g} usable cores more workers only share them: no mode can go faster there, "
            "the shaded part of the chart."
        )
    if result.settings.added_one:
        sentences.append("1 worker was added to the counts: every speedup is measured against it.")
    return sentences


def steadiness_sentences(result: SweepResult) -> list[str]:
    """How many points ran on an unsteady machine, said beside the fits they moved.

    A sweep is many runs, each metered (lab.core.steadiness), so its figure is the count of points
    whose rounds did not all run steady; the chart draws those hollow and the fit weighs them less.
    """
    unsteady = sum(1 for point in result.points if point.steady is False)
    if not unsteady:
        return []
    total = len(result.points)
    if unsteady == total:
        which = f"All {total} points were"
    else:
        which = f"{unsteady} of {total} points {'was' if unsteady == 1 else 'were'}"
    return [
        f"{which} measured while the machine was not steady (its speed changed, or other work took "
        "cores): they are drawn hollow and weigh less in the fit; compare their speedups with care, or "
        "run again."
    ]


def fit_sentence(result: SweepResult, line: LineFit, several: bool) -> str:
    """'threads on squares have a serial fraction of 0.97 ± 0.02: no thread count gets past 1.03× here'."""
    fit = line.fit
    where = f" under {line.interpreter}" if several else ""
    subject = f"{line.mode.capitalize()} on {result.settings.base.describe_work}{where}"
    if fit.quality == "poor" or fit.serial_fraction is None or fit.max_speedup is None:
        return f"{subject}: no serial fraction to report — {fit.reason}."
    fraction = f"{fit.serial_fraction:.2f} ± {fit.serial_fraction_err or 0:.2f}"
    if result.scale == "strong":
        sentence = f"{subject} have a serial fraction of {fraction}: " + reach(result, line.mode, fit)
    else:
        sentence = f"{subject}: {weak_pace(result, line)}a Gustafson serial fraction of {fraction}, so " + (
            f"n {noun(line.mode, 2)} do the work of at most {fit.max_speedup:.2f} single ones here."
        )
    if fit.quality == "rough":
        sentence += f" A rough fit: {fit.reason}."
    return sentence


def reach(result: SweepResult, mode: str, fit: Fit) -> str:
    top = fit.max_speedup or 1.0
    if top <= 1 + SAME_BAND:
        return f"no {noun(mode, 1)} count gets past {top:.2f}× here."
    return (
        f"up to {top:.2f}× on {result.cores:g} cores, reached from {fit.max_speedup_at} "
        f"{noun(mode, fit.max_speedup_at)} on."
    )


def weak_pace(result: SweepResult, line: LineFit) -> str:
    """'at 4 workers each kept 52 % of the one-worker pace; ' from the line's largest clean count."""
    points = [p for p in result.line_points(line.mode, line.interpreter) if result.efficiency(p) is not None]
    if len(points) < 2:
        return ""
    last = points[-1]
    return (
        f"at {last.workers} {noun(line.mode, last.workers)} each kept {result.efficiency(last) or 0:.0%} "
        "of the one-worker pace; "
    )


def failure_sentences(result: SweepResult) -> list[str]:
    sentences = []
    for point in result.points:
        if point.clean:
            continue
        why = f" ({point.error[:90]})" if point.error else ""
        sentences.append(
            f"{point.mode} on {point.interpreter} lost {point.failed} task(s) at {point.workers} "
            f"workers{why}: that point has no speedup and is left out of the fit."
        )
    return sentences


def gil_sentences(result: SweepResult) -> list[str]:
    """A free-threaded build asked to run without the GIL that had it on again at the end of a round."""
    relit = dict.fromkeys(
        point.interpreter
        for point in result.points
        if point.gil_enabled and point.interpreter.endswith("gil=off")
    )
    return [
        f"{label} was asked to run without the GIL, but it was on at the end: an imported C extension "
        "turned it back on, so its threads measured the GIL, not free threading."
        for label in relit
    ]
