"""`python -m lab`: the parser and the dispatch to one module per subcommand.

Each subcommand module has `add_parser(commands)` and `command(args, hosting)`;
this module reads the host's rules once (`lab.hosting.admission.Hosting`),
runs the command and turns the lab's errors into exit statuses and one line
on stderr (see `lab.cli.common`).
"""

from __future__ import annotations

import importlib
import signal
import sys
from types import ModuleType

from lab.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, Parser, raise_interrupt
from lab.core.errors import InvalidSettings, LabError
from lab.core.machine import current_machine
from lab.hosting.admission import Hosting

SUBCOMMANDS = (
    "run",
    "compare",
    "sweep",
    "convoy",
    "cluster",
    "web",
    "classics",
    "runs",
    "serve",
    "pythons",
    "info",
)


def subcommand(name: str) -> ModuleType:
    return importlib.import_module(f"lab.cli.{name}")


def build_parser() -> Parser:
    parser = Parser(prog="python -m lab", description="GIL Lab: see what the GIL does, on your own machine.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in SUBCOMMANDS:
        subcommand(name).add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)  # `kill` ends the run's workers too
    prog = f"python -m lab {args.command}"
    try:
        hosting = Hosting.from_env(current_machine().usable_cores)
        code: int = subcommand(args.command).command(args, hosting)
        return code
    except InvalidSettings as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except LabError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted: every worker has been stopped", file=sys.stderr)
        return EXIT_INTERRUPTED
