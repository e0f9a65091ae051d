"""`python -m lab serve`: the embedded latency server on its own, for your own experiments."""

from __future__ import annotations

import argparse

from lab.core.validate import whole
from lab.engine.settings import MAX_BODY_BYTES, MAX_LATENCY_MS
from lab.hosting.admission import Hosting

HELP = "serve HTTP with a set latency and body size"


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help=HELP)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", default="8765", metavar="N")
    serve.add_argument("--latency-ms", default="200", metavar="N")
    serve.add_argument("--bytes", default="65536", metavar="N")


def command(args: argparse.Namespace, hosting: Hosting) -> int:
    from lab.engine.latency_app import main as serve_main

    port = whole("port", args.port, 8765, 0, 65535)
    latency = whole("latency-ms", args.latency_ms, 200, 0, MAX_LATENCY_MS)
    nbytes = whole("bytes", args.bytes, 65536, 0, MAX_BODY_BYTES)
    return serve_main(host=args.host, port=port, latency_ms=latency, nbytes=nbytes)
