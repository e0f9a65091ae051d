"""`python -m lab.web`: the web lab's command line on its own, the same as `python -m lab web`."""

from __future__ import annotations

import signal
import sys

from lab.cli import Parser, raise_interrupt
from lab.web.cli import add_arguments, main


def run(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m lab.web", description="FastAPI def vs async def under concurrent clients."
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)  # `kill` ends the server and clients too
    return main(args)


if __name__ == "__main__":
    sys.exit(run())
