"""`python -m lab convoy`: how long a thread that waits briefly for I/O queues for the GIL behind CPU threads.

Exit status: 0 every point measured and answered; 1 the run completed
without some point, or crashed (the message says why); 2 invalid arguments
(one line, no traceback); 130 after Ctrl-C, once the probe, the client and
the X-ray are gone.
"""

from __future__ import annotations

import argparse

from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, keep, say, write
from lab.convoy import protocol as convoy_protocol
from lab.convoy.csvio import to_csv
from lab.convoy.report import number, to_table
from lab.convoy.results import PointSummary, cpu_threads_text
from lab.convoy.runner import Convoy
from lab.convoy.settings import (
    DEFAULT_CPU_THREADS,
    DEFAULT_SECONDS,
    DEFAULT_SWITCH_INTERVALS_MS,
    MAX_CPU_THREADS,
    MAX_SECONDS,
    MAX_SWITCH_INTERVAL_MS,
    MIN_SECONDS,
    MIN_SWITCH_INTERVAL_MS,
    ConvoySettings,
    estimate_seconds,
)
from lab.core.events import Event
from lab.core.interpreters import GIL_SETTINGS, gil_environment
from lab.hosting.admission import Hosting

PROG = "python -m lab convoy"
HELP = "the convoy effect: an I/O thread's wait for the GIL behind CPU-bound threads"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("convoy", help=HELP, description=HELP)
    parser.add_argument(
        "--cpu-threads",
        metavar="K1,K2,...",
        help=f"CPU-bound threads beside the probe, 0 to {MAX_CPU_THREADS} "
        f"(default {','.join(map(str, DEFAULT_CPU_THREADS))})",
    )
    parser.add_argument(
        "--switch-interval-ms",
        metavar="MS1,MS2,...",
        help=f"sys.setswitchinterval values, {MIN_SWITCH_INTERVAL_MS:g} to {MAX_SWITCH_INTERVAL_MS:g} ms "
        f"(default {','.join(f'{value:g}' for value in DEFAULT_SWITCH_INTERVALS_MS)})",
    )
    parser.add_argument(
        "--seconds",
        metavar="S",
        help=f"pinging time per point, {MIN_SECONDS:g} to {MAX_SECONDS:g} (default {DEFAULT_SECONDS:g})",
    )
    parser.add_argument(
        "--python", metavar="SPEC", help="an interpreter's name (python -m lab pythons) or path"
    )
    parser.add_argument("--gil", choices=GIL_SETTINGS, help="on a free-threaded build: the GIL on or off")
    add_output(parser)


def settings_from(args: argparse.Namespace) -> ConvoySettings:
    return ConvoySettings.create(
        cpu_threads=args.cpu_threads,
        switch_intervals_ms=args.switch_interval_ms,
        seconds=args.seconds,
        python=args.python,
        gil=args.gil,
    )


def progress_line(event: Event) -> str | None:
    if event.get("event") != convoy_protocol.POINT_FINISHED:
        return None
    point = PointSummary(**event["point"])
    return (
        f"  {cpu_threads_text(point.cpu_threads):<14} {point.switch_interval_ms:>5g} ms: "
        f"{point.pings:>5,} pings, p50 {number(point.p50_ms, 2)} ms, p99 {number(point.p99_ms, 2)} ms"
    )


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings = hosting.admit(settings_from(args))
    interpreter = hosting.interpreter_named(settings.python, allow_paths=True)
    gil_environment(interpreter, settings.gil)  # a GIL switch the build lacks is refused before anything runs
    say(f"{PROG}: {settings.describe()} under {interpreter.name}: about {estimate_seconds(settings):.0f} s")
    convoy = Convoy(settings, interpreter=interpreter, deadline_s=hosting.deadline_s)
    follow(hosting.line(convoy), progress_line)
    result = convoy.result()
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv([result])
    else:
        text = to_table(result)
    write(text, args.output)
    keep(result, args, hosting)
    if result.status != "complete":
        say(f"{PROG}: the run {result.status.replace('_', ' ')}: {result.message}")
    return EXIT_OK if result.all_ok else EXIT_FAILED
