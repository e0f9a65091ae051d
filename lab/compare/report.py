"""A comparison as the CLI prints it: one table per interpreter, then the takeaway."""

from __future__ import annotations

from lab.compare.results import CompareResult, label_of
from lab.compare.takeaway import compare_takeaway
from lab.core.machine import machine_lines


def compare_table(result: CompareResult) -> str:
    """A comparison as one table: seconds, speedup and cores busy per interpreter and mode."""
    base = result.settings.base
    lines = [
        f"GIL Lab compare · {base.describe_work}: {base.tasks} tasks · {result.settings.rounds} round(s), "
        f"interleaved · {result.status}",
        "",
    ]
    header = f"{'interpreter':<16} {'GIL':<4} {'mode':<14} {'seconds':>9} {'speedup':>8} "
    header += f"{'cores busy':>10} {'failed':>6}"
    lines += [header, "-" * len(header)]
    for run in result.runs:
        gil = "-" if run.interpreter is None else ("on" if run.interpreter.gil_enabled else "off")
        for summary in run.summaries():
            speedup = f"{summary.speedup:.2f}x" if summary.speedup is not None else "-"
            lines.append(
                f"{label_of(run):<16} {gil:<4} {summary.mode:<14} {summary.seconds:>9.3f} {speedup:>8} "
                f"{summary.cores_busy:>10.2f} {summary.failed:>6}"
            )
    costs = [(label, ratio) for label, ratio in result.single_thread_cost()[1:] if ratio is not None]
    if costs:
        first = label_of(result.runs[0])
        lines += ["", f"Single-thread cost (batch seconds ÷ {first}'s):"]
        lines += [f"  {label:<16} {ratio:.2f}" for label, ratio in costs]
    lines += ["", "Takeaway:", *(f"  - {line}" for line in compare_takeaway(result))]
    if result.message:
        lines += ["", result.message]
    if result.machine is not None:
        lines += ["", *machine_lines(result.machine)]
    return "\n".join(lines) + "\n"
