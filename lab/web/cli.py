"""`python -m lab web`: FastAPI's `def` vs `async def` under many concurrent clients, measured.

`lab.cli` adds these arguments to its `web` subcommand and calls `main`;
`python -m lab.web` does the same on its own. Exit status: 0 every request
answered; 1 the run completed with failures or crashed (the message says
why); 2 invalid arguments (one line, no traceback); 130 after Ctrl-C, once
the server, the clients and every worker are gone. Light to import: the
server and client libraries load only when a run starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lab.errors import InvalidSettings
from lab.web.settings import ENDPOINTS, REQUEST_MODE_LIMIT_S, WebSettings

if TYPE_CHECKING:
    from lab.web.history import WebRun

FORMATS = ("table", "json", "csv")
PROG = "python -m lab web"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoints", metavar="e1,e2,...", help=f"any of {','.join(ENDPOINTS)} (default: all)"
    )
    parser.add_argument("--clients", metavar="N", help="concurrent clients (default 100)")
    parser.add_argument(
        "--requests",
        metavar="N",
        help=f"requests per endpoint, instead of --duration (cut off after {REQUEST_MODE_LIMIT_S:g} s)",
    )
    parser.add_argument("--duration", metavar="SECONDS", help="load each endpoint this long (default 3)")
    parser.add_argument("--latency-ms", metavar="N", help="how long the *_wait endpoints wait (default 200)")
    parser.add_argument(
        "--size", metavar="N", help="squares loop iterations per *_cpu request (default 1,000,000)"
    )
    parser.add_argument(
        "--threadpool", metavar="N", help="AnyIO thread pool size for def endpoints (default 40)"
    )
    parser.add_argument("--server-workers", metavar="N", help="uvicorn worker processes (default 1)")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--output", metavar="PATH", type=Path)


def settings_from(args: argparse.Namespace) -> WebSettings:
    return WebSettings.create(
        endpoints=args.endpoints,
        clients=args.clients,
        requests=args.requests,
        duration=args.duration,
        latency_ms=args.latency_ms,
        size=args.size,
        threadpool=args.threadpool,
        server_workers=args.server_workers,
    )


def progress_line(event: dict) -> str | None:
    if event.get("event") != "endpoint_finished":
        return None
    summary = event["result"]
    ceiling = f" (ceiling {summary['ceiling']:,.1f})" if summary["ceiling"] is not None else ""
    return (
        f"  {summary['endpoint']:<15} {summary['throughput']:>9,.1f} req/s{ceiling}, {summary['cut']:,} cut"
    )


def number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def to_table(result: WebRun) -> str:
    """The run as text for people: settings, machine, one line per endpoint, then the takeaway."""
    from lab.web.takeaway import takeaway

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


def main(args: argparse.Namespace) -> int:
    from lab.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, write
    from lab.hosting import Hosting
    from lab.machine import current_machine

    hosting = Hosting.from_env(current_machine().usable_cores)
    try:
        settings = hosting.admit_web(settings_from(args))
        if args.output is not None and not args.output.parent.is_dir():
            raise InvalidSettings(f"cannot write {args.output}: no such folder {args.output.parent}")
    except InvalidSettings as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from lab.web.experiment import run_web
    from lab.web.history import to_csv

    def show(event: dict) -> None:
        line = progress_line(event)
        if line:
            print(line, file=sys.stderr, flush=True)

    def waiting(ahead: int) -> None:
        print(f"  waiting for the host: {ahead} run(s) ahead", file=sys.stderr, flush=True)

    try:
        with hosting.queue().wait(on_place=waiting):
            result = run_web(settings, show)
    except KeyboardInterrupt:
        print("interrupted: the server, the clients and every worker have been stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv([result])
    else:
        text = to_table(result)
    try:
        write(text, args.output)
    except InvalidSettings as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if result.status != "complete":
        print(f"{PROG}: the run {result.status}: {result.message}", file=sys.stderr)
    return EXIT_OK if result.all_ok else EXIT_FAILED
