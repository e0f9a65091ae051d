"""The web lab's results as text for people at a terminal: the table of `python -m lab web`."""

from __future__ import annotations

from lab.web.csvio import WebRun
from lab.web.takeaway import takeaway


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def to_table(result: WebRun) -> str:
    """The run as text for people: settings, machine, one line per endpoint, then the takeaway."""
    lines = [
        f"GIL Lab web: {result.settings.describe_load()}",
        f"Machine: {result.machine.describe()}",
        "",
        f"{'endpoint':<15} {'requests':>8} {'ok':>7} {'failed':>6} {'cut':>5} {'seconds':>7} {'req/s':>8} "
        f"{'ceiling':>8} {'of ceil':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'ping p50':>8} {'ping max':>8} {'srv cores':>9}",
    ]
    for s in result.summaries():
        share = f"{s.share_of_ceiling:.0%}" if s.share_of_ceiling is not None else "-"
        lines.append(
            f"{s.endpoint:<15} {s.requests:>8,} {s.ok:>7,} {s.failed:>6,} {s.cut:>5,} {s.seconds:>7.2f} "
            f"{s.throughput:>8,.1f} {number(s.ceiling):>8} {share:>7} {number(s.p50_ms):>8} "
            f"{number(s.p95_ms):>8} {number(s.p99_ms):>8} {number(s.max_ms):>8} "
            f"{number(s.ping_p50_ms):>8} {number(s.ping_max_ms):>8} {number(s.server_cores_busy, 2):>9}"
        )
    lines += ["", "Takeaway:"] + [f"  - {line}" for line in takeaway(result)]
    return "\n".join(lines) + "\n"
