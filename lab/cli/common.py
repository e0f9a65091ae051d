"""What every subcommand of `python -m lab` shares: the parser, exit codes, output, following a run.

Exit status, for every subcommand: 0 every task succeeded; 1 the run
completed but something failed (the output says which and why); 2 invalid
arguments (one line, no traceback); 130 after Ctrl-C, once every worker is gone.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from lab.core.errors import InvalidSettings, LabError
from lab.core.events import Event
from lab.hosting.admission import Hosting
from lab.hosting.line import QUEUED, Runnable
from lab.store.store import RunStore, StoreLimits

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMATS = ("table", "json", "csv")
POLL_S = 0.2


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def add_output(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    """The output options of every lab's subcommand (and whether its run is stored)."""
    parser.add_argument("--format", choices=formats, default="table")
    parser.add_argument("--output", metavar="PATH", type=Path)
    parser.add_argument(
        "--no-save", action="store_true", help="do not keep this run in the run store (python -m lab runs)"
    )


def check_output(path: Path | None) -> None:
    """Refuse an output file in a folder that does not exist before running, not after."""
    if path is not None and not path.parent.is_dir():
        raise InvalidSettings(f"cannot write {path}: no such folder {path.parent}")


def write(text: str, path: Path | None) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidSettings(f"cannot write {path}: {exc.strerror or exc}") from None


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def follow(run: Runnable, describe: Callable[[Event], str | None]) -> None:
    """Start `run`, poll it to the end and print a progress line for each event `describe` names.

    Every way out (done, Ctrl-C, SIGTERM, an error) ends the run's processes:
    `close()` runs in `finally`.
    """
    shown: list[str] = []
    try:
        run.start()
        while not run.done:
            for event in run.poll(POLL_S):
                line = waiting_line(event) or describe(event)
                if line and line not in shown[-1:]:
                    say(line)
                    shown.append(line)
    finally:
        run.close()


def keep(result: Any, args: argparse.Namespace, hosting: Hosting) -> str | None:
    """Store a finished run (unless --no-save) and say its id and link on stderr; returns the id.

    A store that cannot take the run (unreachable, full, misconfigured) costs
    one line on stderr, never the run: its output is already written.
    """
    if getattr(args, "no_save", True):
        return None
    try:
        with RunStore.open(limits=StoreLimits.from_env(os.environ, hosting.public)) as store:
            stored = store.save(result)
    except LabError as exc:
        say(f"not stored: {exc}")
        return None
    say(f"stored as run {stored}: python -m lab runs show {stored}; on the page: ?run={stored}")
    return stored


def waiting_line(event: Event) -> str | None:
    if event.get("event") == QUEUED:
        return f"  waiting for the host: {event['ahead']} run(s) ahead"
    return None


def raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
