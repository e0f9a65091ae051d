"""`python -m lab classics`: the famous GIL experiments, their published figures beside the same runs here.

Exit status: 0 every step measured; 1 the run completed but a step failed or
a classic could not run (the output says which and why), or the run was cut
short; 2 invalid arguments (one line, no traceback); 130 after Ctrl-C, once
every child process is gone.
"""

from __future__ import annotations

import argparse

from lab.classics.catalogue import CLASSIC_NAMES
from lab.classics.csvio import to_csv
from lab.classics.plan import estimate_seconds
from lab.classics.report import to_table
from lab.classics.runner import STEP_FINISHED, ClassicsRun
from lab.classics.settings import MAX_SCALE, MIN_SCALE, ClassicsSettings
from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, say, write
from lab.core.events import Event
from lab.hosting.admission import Hosting, discovered

PROG = "python -m lab classics"
HELP = "the classic GIL experiments (Beazley, Skvortsov, Stinner, ccbench, PEP 703, FastAPI) re-run here"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("classics", help=HELP, description=HELP)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"classics to run (default all): {', '.join(CLASSIC_NAMES)}"
    )
    parser.add_argument(
        "--python",
        nargs="+",
        metavar="NAME",
        help="interpreters (python -m lab pythons); default: every one found here",
    )
    parser.add_argument(
        "--scale",
        metavar="X",
        help=f"multiply every classic's work, {MIN_SCALE:g} to {MAX_SCALE:g} (default 1)",
    )
    add_output(parser, ("table", "json", "csv"))


def progress_line(event: Event) -> str | None:
    if event.get("event") != STEP_FINISHED:
        return None
    status = "" if event["status"] == "complete" else f" — {event['status']}: {event.get('message')}"
    return f"  {event['classic']:<14} {event['step']:<9} {event['interpreter']}{status}"


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    pythons = args.python
    if pythons is None:
        pythons = [found.name for found in hosting.offered_interpreters(discovered())]
    raw = ClassicsSettings.create(classics=args.names or None, pythons=pythons, scale=args.scale)
    settings = hosting.admit(raw)
    if settings.scale != raw.scale:
        say(f"{PROG}: the work is scaled × {settings.scale:g} (not {raw.scale:g}) to fit this host's budget")
    interpreters = [hosting.interpreter_named(name, allow_paths=True) for name in settings.pythons]
    seconds = estimate_seconds(
        settings, hosting.usable_cores, interpreters, interpreters[0] if interpreters else None
    )
    say(f"{PROG}: {settings.describe()}: about {seconds:.0f} s")
    run = ClassicsRun(settings, interpreters, deadline_s=hosting.deadline_s, public=hosting.public)
    follow(hosting.line(run), progress_line)
    result = run.result()
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv([result])
    else:
        text = to_table(result)
    write(text, args.output)
    if result.status != "complete":
        say(f"{PROG}: the run {result.status.replace('_', ' ')}: {result.message}")
    return EXIT_OK if result.all_ok and not result.missing else EXIT_FAILED
