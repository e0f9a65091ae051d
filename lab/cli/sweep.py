"""`python -m lab sweep`: one workload at several worker counts, with a fitted serial fraction per mode.

Prints a table (or JSON, or the tidy CSV the page imports) and exits like
every subcommand: 0 every point ran all its tasks, 1 something failed or the
sweep ended early, 2 invalid arguments (one line), 130 after Ctrl-C once
every worker is gone.
"""

from __future__ import annotations

import argparse

from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, keep, say, write
from lab.cli.run import add_run_options, settings_from
from lab.core.errors import InvalidSettings
from lab.core.events import Event
from lab.core.interpreters import GIL_SETTINGS
from lab.engine import protocol
from lab.engine.workloads import BUILTIN_WORKLOADS
from lab.hosting.admission import Hosting
from lab.sweep.csvio import to_csv
from lab.sweep.report import sweep_table
from lab.sweep.results import SweepResult
from lab.sweep.runner import Sweep
from lab.sweep.settings import (
    DEFAULT_REPEATS,
    DEFAULT_WORKERS,
    SCALES,
    SWEEP_MODES,
    SweepSettings,
    SweepStep,
)

HELP = (
    "run one workload at several worker counts and fit how each mode scales "
    f"(--repeats defaults to {DEFAULT_REPEATS} here)"
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sweep = commands.add_parser("sweep", help=HELP)
    sweep.add_argument(
        "workload", help=f"one of: {', '.join(BUILTIN_WORKLOADS)}; or MODULE:FUNCTION / PATH.py:FUNCTION"
    )
    sweep.add_argument(
        "--modes",
        metavar="m1,m2,...",
        help=f"any of {','.join(SWEEP_MODES)} (default threads,processes)",
    )
    sweep.add_argument(
        "--workers",
        metavar="N1,N2,...",
        help=f"the worker counts (default {','.join(map(str, DEFAULT_WORKERS))}); 1 is added when missing",
    )
    sweep.add_argument(
        "--scale",
        choices=SCALES,
        default="strong",
        help="strong: the same total work at every count; weak: the same work per worker",
    )
    sweep.add_argument(
        "--tasks-per-worker", metavar="N", help="weak scaling: tasks each worker runs (default 1)"
    )
    sweep.add_argument(
        "--python",
        dest="pythons",
        action="append",
        metavar="NAME[:gil=on|off]",
        help="an interpreter (python -m lab pythons) or a path; repeat it or separate with commas",
    )
    sweep.add_argument(
        "--gil", choices=GIL_SETTINGS, help="on free-threaded builds: run with the GIL on or off"
    )
    add_run_options(sweep)
    add_output(sweep)


def sweep_settings(args: argparse.Namespace) -> SweepSettings:
    """The sweep the arguments describe; the run options go through the one run validation."""
    if args.threads is not None:
        raise InvalidSettings("a sweep sets the thread count to each worker count: leave out --threads")
    base = settings_from(args, tasks=None, size=None, repeats=None, modes=None, workers=None)
    return SweepSettings.create(
        base,
        workers=args.workers,
        modes=args.modes,
        scale=args.scale,
        pythons=args.pythons,
        repeats=args.repeats,
        tasks=args.tasks,
        tasks_per_worker=args.tasks_per_worker,
        size=args.size,
    )


def progress_line(event: Event) -> str | None:
    if event.get("event") != protocol.MODE_FINISHED:
        return None
    run = event["run"]
    failed = sum(1 for span in run["spans"] if not span["ok"])
    note = f", {failed} failed" if failed else ""
    workers = event["workers"]
    return (
        f"  {run['mode']:<13} {event['interpreter']:<14} {workers:>3} worker{'' if workers == 1 else 's'}, "
        f"round {event['round'] + 1}: {run['seconds']:.3f} s{note}"
    )


def render(result: SweepResult, form: str) -> str:
    if form == "json":
        return result.to_json(indent=2) + "\n"
    if form == "csv":
        return to_csv([result])
    return sweep_table(result)


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings: SweepSettings = hosting.admit(sweep_settings(args))
    interpreters = [
        hosting.interpreter_named(choice.name, allow_paths=True) for choice in settings.pythons
    ] or [hosting.interpreter_named(None, allow_paths=True)]
    for python, interpreter in enumerate(interpreters):
        largest = SweepStep(0, settings.workers[-1], python, settings.base.modes)
        hosting.check_runnable(settings.for_step(largest), interpreter)
    if settings.added_one:
        say("  added 1 to the worker counts: every speedup is measured against one worker")
    sweep = Sweep(settings, interpreters, deadline_s=hosting.deadline_s, public=hosting.public)
    follow(hosting.line(sweep), progress_line)
    result = sweep.result()
    write(render(result, args.format), args.output)
    keep(result, args, hosting)
    if result.status != "complete":
        say(f"python -m lab sweep: the sweep {result.status.replace('_', ' ')}: {result.message}")
    return EXIT_OK if result.all_ok else EXIT_FAILED
