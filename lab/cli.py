"""`python -m lab`: run an experiment, serve the latency server, describe the machine.

Exit status: 0 every task succeeded; 1 the run completed but something failed
(the output says which and why); 2 invalid arguments (one line, no traceback);
130 after Ctrl-C, once every worker is gone.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path
from typing import NoReturn

from lab.errors import InvalidSettings, LabError
from lab.history import to_csv
from lab.machine import current_machine
from lab.report import machine_lines, to_table
from lab.settings import START_METHODS, RunSettings
from lab.workloads import WORKLOADS

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMATS = ("table", "json", "csv")


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> Parser:
    parser = Parser(prog="python -m lab", description="GIL Lab: see what the GIL does, on your own machine.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = commands.add_parser("run", help="run one workload in several execution modes")
    run.add_argument("workload", help=f"one of: {', '.join(WORKLOADS)}")
    for name in ("tasks", "size", "workers", "threads", "latency-ms", "bytes", "repeats"):
        run.add_argument(f"--{name}", metavar="N")
    run.add_argument("--modes", metavar="m1,m2,...")
    run.add_argument("--url", metavar="URL")
    run.add_argument("--start-method", choices=START_METHODS)
    run.add_argument("--timeout", metavar="SECONDS", help="per-request timeout for http (default 10)")
    run.add_argument("--format", choices=FORMATS, default="table")
    run.add_argument("--output", metavar="PATH", type=Path)

    serve = commands.add_parser("serve", help="serve HTTP with a set latency and body size")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", default="8765", metavar="N")
    serve.add_argument("--latency-ms", default="200", metavar="N")
    serve.add_argument("--bytes", default="65536", metavar="N")

    info = commands.add_parser("info", help="describe this machine as the lab sees it")
    info.add_argument("--format", choices=("table", "json"), default="table")

    try:
        from lab.web import cli as web_cli
    except ImportError:
        return parser
    web_cli.add_arguments(
        commands.add_parser("web", help="FastAPI def vs async def under concurrent clients")
    )
    return parser


def settings_from(args: argparse.Namespace) -> RunSettings:
    return RunSettings.create(
        args.workload,
        tasks=args.tasks,
        size=args.size,
        modes=args.modes,
        workers=args.workers,
        threads=args.threads,
        url=args.url,
        latency_ms=args.latency_ms,
        bytes=args.bytes,
        repeats=args.repeats,
        start_method=args.start_method,
        timeout_s=args.timeout,
    )


def progress_line(event: dict) -> str | None:
    if event.get("event") == "queued":
        return f"  waiting for the host: {event['ahead']} run(s) ahead"
    if event.get("event") != "mode_finished":
        return None
    run = event["run"]
    failed = sum(1 for span in run["spans"] if not span["ok"])
    note = f", {failed} failed" if failed else ""
    return f"  {run['mode']:<18} repeat {run['repeat'] + 1}: {run['seconds']:.3f} s{note}"


def command_run(args: argparse.Namespace) -> int:
    from lab.hosting import Hosting
    from lab.runner import run_experiment

    hosting = Hosting.from_env(current_machine().usable_cores)
    settings = hosting.admit(settings_from(args))

    shown: list[str] = []

    def show(event: dict) -> None:
        line = progress_line(event)
        if line and line not in shown[-1:]:
            print(line, file=sys.stderr, flush=True)
            shown.append(line)

    result = run_experiment(
        settings, show, deadline_s=hosting.deadline_s, queue=hosting.queue(), public=hosting.public
    )
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv([result])
    else:
        text = to_table(result)
    write(text, args.output)
    return EXIT_OK if result.all_ok else EXIT_FAILED


def command_serve(args: argparse.Namespace) -> int:
    from lab.server import main as serve_main
    from lab.settings import MAX_BODY_BYTES, MAX_LATENCY_MS, whole

    port = whole("port", args.port, 8765, 0, 65535)
    latency = whole("latency-ms", args.latency_ms, 200, 0, MAX_LATENCY_MS)
    nbytes = whole("bytes", args.bytes, 65536, 0, MAX_BODY_BYTES)
    return serve_main(host=args.host, port=port, latency_ms=latency, nbytes=nbytes)


def command_info(args: argparse.Namespace) -> int:
    machine = current_machine()
    text = (
        json.dumps(machine.to_dict(), indent=2) + "\n"
        if args.format == "json"
        else "\n".join(machine_lines(machine)) + "\n"
    )
    write(text, None)
    return EXIT_OK


def write(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidSettings(f"cannot write {path}: {exc.strerror or exc}") from None


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)  # `kill` ends the run's workers too
    handlers = {"run": command_run, "serve": command_serve, "info": command_info}
    try:
        if args.command == "web":
            from lab.web import cli as web_cli

            return web_cli.main(args)
        return handlers[args.command](args)
    except InvalidSettings as exc:
        print(f"python -m lab {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabError as exc:
        print(f"python -m lab {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: every worker has been stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
