"""The Classics run as text for the terminal: per classic, its source, the comparisons and the sentence."""

from __future__ import annotations

from lab.classics.catalogue import CLASSICS
from lab.classics.results import ClassicsResult
from lab.core.machine import machine_lines


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def agreement(value: bool | None) -> str:
    return "—" if value is None else "agrees" if value else "differs"


def to_table(result: ClassicsResult) -> str:
    lines: list[str] = []
    for record in result.records():
        classic = CLASSICS[record.name]
        lines += ["", f"{classic.title} [{record.name}]"]
        lines += [f"  source: {source.cite()}" for source in classic.sources]
        lines.append(f"  scaled: {classic.scaling} This run: × {result.settings.scale:g}.")
        if record.compare:
            width = max(len(row.what) for row in record.compare)
            lines.append(f"  {'':<{width}}  {'published':>10}  {'measured':>10}  agreement")
            for row in record.compare:
                lines.append(
                    f"  {row.what:<{width}}  {number(row.published):>10}  {number(row.measured):>10}  "
                    f"{agreement(row.agrees)}"
                )
        lines.append(f"  {record.why}")
    lines += ["", *machine_lines(result.machine)]
    if result.status != "complete":
        lines.append(f"Run {result.status.replace('_', ' ')}: {result.message}")
    return "\n".join(lines) + "\n"
