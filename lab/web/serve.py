"""The server child: uvicorn serving `lab.web.app` on sockets the runner bound and passed in.

The runner binds and listens on a free loopback port before starting this
process and hands over the descriptors, so the port is known at once, no other
program can take it, and connections made while the app is still importing
wait in the backlog instead of being refused.

Several server processes get one socket each, all bound to the same port with
SO_REUSEPORT: the kernel then spreads new connections over them by their
address. With one socket shared by all (uvicorn's own `--workers`), every
worker accepts whatever waits on it when it wakes, so a burst of kept-alive
connections could land on one worker and "2 server processes" would run on
one core (measured here: one run in eight). This process then supervises one
single-socket server per descriptor, in its own process group (so the runner
ends them all at once), and ends with the first of them to end, saying which.
Where SO_REUSEPORT does not balance (not Linux), the runner passes one socket
and uvicorn's supervisor shares it.

    python -m lab.web.serve --fd 5 --fd 6 --workers 2 --threadpool 40 --ready-dir /tmp/x
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from lab.core.procs import describe_exit, raise_open_file_limit, tie_to_parent
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


def serve_each(args: argparse.Namespace) -> int:
    """One single-socket server process per descriptor; end with the first to end, and end the rest."""
    common = ["--workers", "1", "--threadpool", str(args.threadpool), "--ready-dir", args.ready_dir]
    common += ["--parent-pid", str(os.getpid())]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "lab.web.serve", "--fd", str(fd), *common],
            pass_fds=(fd,),
            stdin=subprocess.DEVNULL,
        )
        for fd in args.fd
    ]
    for fd in args.fd:
        os.close(fd)
    try:
        pid, status = os.wait()
    finally:
        for server in servers:
            if server.poll() is None:
                server.kill()
        for server in servers:
            server.wait()
    # The runner reports the last line of this process's stderr as the reason the server stopped.
    print(f"server process {pid} ended ({describe_exit(os.waitstatus_to_exitcode(status))})", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.web.serve")
    parser.add_argument("--fd", type=int, action="append", required=True, help="listening socket")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threadpool", type=int, required=True)
    parser.add_argument("--ready-dir", required=True, help="each worker touches a file here once started")
    parser.add_argument("--parent-pid", type=int, required=True, help="the runner: die with it")
    args = parser.parse_args(argv)
    tie_to_parent(args.parent_pid)
    raise_open_file_limit()
    if len(args.fd) > 1:
        return serve_each(args)
    os.environ[ENV_THREADPOOL] = str(args.threadpool)
    os.environ[ENV_READY_DIR] = args.ready_dir
    # The app's process dies with its parent: uvicorn's supervisor, or whoever started this one.
    os.environ[ENV_PARENT_PID] = str(os.getpid() if args.workers > 1 else args.parent_pid)
    (fd,) = args.fd
    listener = socket.socket(fileno=fd)
    served = config(args.workers)
    if args.workers > 1:
        Multiprocess(served, sockets=[listener]).run()
    else:
        uvicorn.Server(served).run(sockets=[listener])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
