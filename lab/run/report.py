"""Results as text for people at a terminal: the table of `python -m lab run`.

Only the standard library, so the CLI answers quickly; the page has its own
Plotly and pandas views of the same `RunResult` methods, and both export the
one tidy CSV of `lab.run.csvio`.
"""

from __future__ import annotations

from lab.core.machine import machine_lines
from lab.core.steadiness import Steadiness
from lab.engine.results import RunResult
from lab.run.takeaway import takeaway
from lab.run.verdict import verdict


def to_table(result: RunResult) -> str:
    settings = result.settings
    what = f"{settings.describe_work}: {settings.tasks} tasks"
    if settings.info.uses_size:
        what += f" of size {settings.size:,}"
    elif settings.info.downloads:
        what += f" from {result.target_url}"
    else:
        what += f" with arguments {settings.args[:60]}"
    lines = [f"GIL Lab · {what} · {settings.repeats} repeat(s) · {result.status}"]
    if result.interpreter is not None:
        lines.append(f"Interpreter {result.interpreter.describe()} · {result.interpreter.path}")
    if settings.switch_interval_ms is not None:
        lines.append(f"Switch interval {settings.switch_interval_ms:g} ms")
    if result.steadiness is not None:
        lines.append(steadiness_line(result.steadiness))
    header = f"{'mode':<18} {'seconds':>9} {'min–max':>15} {'speedup':>8} {'CPU s':>8} {'cores busy':>10} "
    header += f"{'start-up':>9} {'workers':>7} {'ok':>5} {'failed':>6}"
    lines += ["", header, "-" * len(header)]
    for s in result.summaries():
        spread = f"{s.seconds_min:.3f}–{s.seconds_max:.3f}" if s.repeats > 1 else ""
        speedup = f"{s.speedup:.2f}x" if s.speedup is not None else "-"
        lines.append(
            f"{s.mode:<18} {s.seconds:>9.3f} {spread:>15} {speedup:>8} {s.cpu_seconds:>8.3f} "
            f"{s.cores_busy:>10.2f} {s.startup_seconds:>9.3f} {s.workers:>7} {s.ok:>5} {s.failed:>6}"
        )
    if result.baseline_mode:
        lines.append(f"speedup = {result.baseline_mode} seconds / mode seconds; cores busy = CPU s / seconds")
    failures = result.failures()
    if failures:
        lines += ["", f"{len(failures)} task(s) failed:"]
        reasons: dict[tuple[str, str], list[int]] = {}
        for mode, _repeat, span in failures:
            reasons.setdefault((mode, span.error or "unknown error"), []).append(span.index)
        for (mode, reason), indexes in reasons.items():
            lines.append(f"  {mode}: {len(indexes)} task(s): {reason}")
    if result.message:
        lines += ["", result.message]
    if settings.info.checks_across_tasks:
        lines += ["", *verdict_lines(result)]
    if not settings.check:
        lines += ["", "Results were not compared across tasks and modes (--no-check)."]
    lines += ["", "Takeaway:", *(f"  - {line}" for line in takeaway(result))]
    lines += ["", *machine_lines(result.machine)]
    return "\n".join(lines) + "\n"


def steadiness_line(steadiness: Steadiness) -> str:
    """The machine's steadiness in one line: the verdict, then the figures it rests on."""
    figures = [f"speed change {steadiness.speed_change:.0%}"]
    if steadiness.others_busy_cores is not None:
        figures.append(f"other work {steadiness.others_busy_cores:.1f} cores busy")
    if steadiness.steal is not None:
        figures.append(f"steal {steadiness.steal:.0%}")
    verdict = "steady" if steadiness.steady else "NOT steady"
    return f"Machine     {verdict} during the run ({', '.join(figures)})"


def verdict_lines(result: RunResult) -> list[str]:
    found = verdict(result)
    share = ""
    if found.gil_share is not None:
        error = f" ± {found.gil_share_err:.0%}" if found.gil_share_err is not None else ""
        share = f", GIL share {found.gil_share:.0%}{error}"
    lines = [f"Verdict: {found.kind.replace('_', ' ')}{share}", f"  {found.advice}", f"  ({found.basis})"]
    if found.xray_shares:
        shares = found.xray_shares
        lines.append(
            f"  X-ray of the threads: {shares['on_cpu']:.0%} on a CPU, "
            f"{shares['gil_or_lock']:.0%} waiting for the GIL or a lock, "
            f"{shares['waiting']:.0%} waiting on I/O or sleeping"
        )
    return lines
