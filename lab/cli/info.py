"""`python -m lab info`: the machine as the lab sees it (the cores it may really use)."""

from __future__ import annotations

import argparse
import json

from lab.cli.common import EXIT_OK, write
from lab.core.machine import current_machine, machine_lines
from lab.hosting.admission import Hosting

HELP = "describe this machine as the lab sees it"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    info = commands.add_parser("info", help=HELP)
    info.add_argument("--format", choices=("table", "json"), default="table")


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    machine = current_machine()
    if args.format == "json":
        write(json.dumps(machine.to_dict(), indent=2) + "\n", None)
    else:
        write("\n".join(machine_lines(machine)) + "\n", None)
    return EXIT_OK
