"""`python -m lab compare`: the same run under several Pythons, interleaved round by round."""

from __future__ import annotations

import argparse

from lab.cli.common import EXIT_FAILED, EXIT_OK, add_output, check_output, follow, keep, write
from lab.cli.run import add_run_options, progress_line, settings_from
from lab.compare.report import compare_table
from lab.compare.runner import Comparison
from lab.compare.settings import CompareSettings, parse_pythons
from lab.engine.workloads import BUILTIN_WORKLOADS
from lab.hosting.admission import Hosting
from lab.run.csvio import to_csv

HELP = "run the same workload under several Pythons (GIL builds, free-threaded with the GIL on/off)"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    compare = commands.add_parser("compare", help=HELP)
    compare.add_argument(
        "workload", help=f"one of: {', '.join(BUILTIN_WORKLOADS)}; or MODULE:FUNCTION / PATH.py:FUNCTION"
    )
    compare.add_argument(
        "--pythons",
        required=True,
        metavar="NAME[:gil=on|off],...",
        help="interpreters by name (python -m lab pythons), e.g. 3.11,3.13,3.13t:gil=off,3.13t:gil=on",
    )
    compare.add_argument("--modes", metavar="m1,m2,...")
    compare.add_argument("--workers", metavar="N")
    add_run_options(compare)
    add_output(compare)


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    check_output(args.output)
    settings = hosting.admit(CompareSettings(settings_from(args), parse_pythons(args.pythons)))
    interpreters = [hosting.interpreter_named(choice.name, allow_paths=False) for choice in settings.pythons]
    for choice, interpreter in zip(settings.pythons, interpreters, strict=True):
        hosting.check_runnable(settings.for_choice(choice), interpreter)
    comparison = Comparison(settings, interpreters, deadline_s=hosting.deadline_s, public=hosting.public)
    follow(hosting.line(comparison), progress_line)
    result = comparison.result()
    if args.format == "json":
        text = result.to_json(indent=2) + "\n"
    elif args.format == "csv":
        text = to_csv(list(result.runs))
    else:
        text = compare_table(result)
    write(text, args.output)
    keep(result, args, hosting)
    return EXIT_OK if result.all_ok else EXIT_FAILED
