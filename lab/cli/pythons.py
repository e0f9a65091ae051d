"""`python -m lab pythons`: the Pythons on this machine the lab can run, and those it cannot (and why)."""

from __future__ import annotations

import argparse
import json

from lab.cli.common import EXIT_OK, write
from lab.hosting.admission import Hosting, discovered

HELP = "list the Pythons on this machine: GIL and free-threaded builds, subinterpreters"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pythons = commands.add_parser("pythons", help=HELP)
    pythons.add_argument("--format", choices=("table", "json"), default="table")


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    found = list(discovered())
    offered = {interpreter.path for interpreter in hosting.offered_interpreters(found)}
    if args.format == "json":
        data = [{**interpreter.to_dict(), "offered": interpreter.path in offered} for interpreter in found]
        write(json.dumps(data, indent=2) + "\n", None)
        return EXIT_OK
    header = f"{'name':<10} {'version':<10} {'build':<14} {'subinterpreters':<18} {'start':<11} path"
    lines = [header, "-" * len(header)]
    for interpreter in found:
        if not interpreter.usable:
            continue
        build = "free-threaded" if interpreter.free_threaded else "GIL"
        lines.append(
            f"{interpreter.name:<10} {interpreter.version:<10} {build:<14} "
            f"{interpreter.subinterpreters or '-':<18} {interpreter.start_method:<11} {interpreter.path}"
        )
    unusable = [interpreter for interpreter in found if not interpreter.usable]
    if unusable:
        lines += ["", "Not usable:"]
        lines += [f"  {interpreter.path}: {interpreter.problem}" for interpreter in unusable]
    if hosting.public:
        lines += ["", "Public mode: visitors may choose only " + (", ".join(sorted(offered)) or "none")]
    write("\n".join(lines) + "\n", None)
    return EXIT_OK
