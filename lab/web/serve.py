"""The server child: uvicorn serving `lab.web.app` on a socket the runner bound and passed in.

The runner binds and listens on a free loopback port before starting this
process and hands over the descriptor, so the port is known at once, no other
program can take it, and connections made while the app is still importing
wait in the backlog instead of being refused. With `--workers N` uvicorn's
supervisor spawns N processes that share that one listening socket; each
imports the app by its import string and reads its settings from the
environment.

    python -m lab.web.serve --fd 5 --workers 2 --threadpool 40 --ready-dir /tmp/x
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

from lab.core.procs import raise_open_file_limit, tie_to_parent
from lab.web.app import ENV_PARENT_PID, ENV_READY_DIR, ENV_THREADPOOL
from lab.web.settings import LISTEN_BACKLOG

APP_IMPORT_STRING = "lab.web.app:create_app"


def config(workers: int) -> uvicorn.Config:
    return uvicorn.Config(
        APP_IMPORT_STRING,
        factory=True,
        workers=workers,
        backlog=LISTEN_BACKLOG,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=0,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.web.serve")
    parser.add_argument("--fd", type=int, required=True, help="a listening TCP socket to serve")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threadpool", type=int, required=True)
    parser.add_argument("--ready-dir", required=True, help="each worker touches a file here once started")
    parser.add_argument("--parent-pid", type=int, required=True, help="the runner: die with it")
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    raise_open_file_limit()
    os.environ[ENV_THREADPOOL] = str(args.threadpool)
    os.environ[ENV_READY_DIR] = args.ready_dir
    # The app's process dies with its parent: uvicorn's supervisor, or the runner when there is none.
    os.environ[ENV_PARENT_PID] = str(os.getpid() if args.workers > 1 else args.parent_pid)
    listener = socket.socket(fileno=args.fd)
    served = config(args.workers)
    if args.workers > 1:
        Multiprocess(served, sockets=[listener]).run()
    else:
        uvicorn.Server(served).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
