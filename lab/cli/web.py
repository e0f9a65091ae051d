"""`python -m lab web`: FastAPI's `def` vs `async def` under many concurrent clients, measured.

Exit status: 0 every request answered; 1 the run completed with failures or
crashed (the message says why); 2 invalid arguments (one line, no
traceback); 130 after Ctrl-C, once the server, the clients and every worker
are gone. Light to import: the server and client libraries load only when a
run starts (in their own processes).
"""

from __future__ import annotations

import argparse

from lab.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    add_output,
    check_output,
    follow,
    keep,
    say,
    write,
)
from lab.core.events import Event
from lab.hosting.admission import Hosting
from lab.web.csvio import to_csv
from lab.web.report import to_table
from lab.web.settings import ENDPOINTS, REQUEST_MODE_LIMIT_S, WebSettings

PROG = "python -m lab web"
HELP = "FastAPI def vs async def under concurrent clients"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add_arguments(commands.add_parser("web", help=HELP))


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
    add_output(parser)


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


def progress_line(event: Event) -> str | None:
    if event.get("event") != "endpoint_finished":
        return None
    summary = event["result"]
    ceiling = f" (ceiling {summary['ceiling']:,.1f})" if summary["ceiling"] is not None else ""
    return (
        f"  {summary['endpoint']:<15} {summary['throughput']:>9,.1f} req/s{ceiling}, {summary['cut']:,} cut"
    )


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings = hosting.admit(settings_from(args))
    from lab.web.runner import WebExperiment

    experiment = WebExperiment(settings)
    try:
        follow(hosting.line(experiment), progress_line)
    except KeyboardInterrupt:
        say("interrupted: the server, the clients and every worker have been stopped")
        return EXIT_INTERRUPTED
    result = experiment.result()
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv([result])
    else:
        text = to_table(result)
    write(text, args.output)
    keep(result, args, hosting)
    if result.status != "complete":
        say(f"{PROG}: the run {result.status}: {result.message}")
    return EXIT_OK if result.all_ok else EXIT_FAILED
