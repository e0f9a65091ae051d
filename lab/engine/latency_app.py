"""The embedded latency server: answers GET after a delay with N bytes of zeros, nothing more.

It stands in for a slow web service so the `http` workload measures waiting,
not the internet. Built on `aiohttp.web`'s low-level server (no router, no
access log): the handler awaits its own timer, so 1,000 requests at 200 ms
finish in well under a second and the server is never the bottleneck being
measured. It always runs in a process of its own (`EmbeddedServer` in
`lab.engine.latency_server` starts it), never in the process whose GIL is
under test.

Run it by hand with `python -m lab.engine.latency_app --port 0 --latency-ms 200 --bytes 65536`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import sys
from contextlib import suppress

from aiohttp import web

from lab.core.errors import LabError
from lab.core.procs import raise_open_file_limit
from lab.engine.latency_server import check_range
from lab.engine.settings import DEFAULT_BODY_BYTES, DEFAULT_LATENCY_MS, MAX_BODY_BYTES, MAX_LATENCY_MS

BLOCK_BYTES = 1024 * 1024  # bodies above this go out as slices of one cached block
LISTEN_BACKLOG = 4096  # 1,000+ clients connect at once; a short queue would refuse some
# On SIGTERM, cancel requests still waiting out their latency after this long. aiohttp's default
# is 60 s, and it reads 0 as "wait forever", hence a short positive grace.
SHUTDOWN_GRACE_S = 0.1
ALLOWED_METHODS = "GET, HEAD"


@functools.lru_cache(maxsize=64)
def zero_body(nbytes: int) -> bytes:
    """The body for `nbytes` (at most BLOCK_BYTES), built once per size: each request reuses it."""
    return bytes(nbytes)


def query_number(request: web.BaseRequest, name: str, default: int, high: int) -> int:
    """A per-request override: ASCII digits only, within [0, high]; anything else is a 400."""
    text = request.query.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) > high:
        raise ValueError(f"{name} must be a whole number from 0 to {high}, got {text[:40]!r}")
    return int(text)


def plain(status: int, message: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=message, content_type="text/plain", headers=headers)


class LatencyHandler:
    """Answers every request; holds the defaults the server was started with."""

    def __init__(self, latency_ms: int, nbytes: int) -> None:
        self.latency_ms = check_range("latency_ms", latency_ms, MAX_LATENCY_MS)
        self.nbytes = check_range("bytes", nbytes, MAX_BODY_BYTES)

    async def __call__(self, request: web.BaseRequest) -> web.StreamResponse:
        response = await self.answer(request)
        if not response.prepared:  # a streamed body said it before its head went out
            say_connection(request, response)
        return response

    async def answer(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            return plain(405, "method not allowed", Allow=ALLOWED_METHODS)
        if request.path == "/health":
            return plain(200, "ok")
        if request.path != "/":
            return plain(404, "not found")
        try:
            latency_ms = query_number(request, "latency_ms", self.latency_ms, MAX_LATENCY_MS)
            nbytes = query_number(request, "bytes", self.nbytes, MAX_BODY_BYTES)
        except ValueError as exc:
            return plain(400, str(exc))
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        if nbytes <= BLOCK_BYTES and request.method == "GET":
            # A whole Response goes out as head and body in one write.
            return web.Response(body=zero_body(nbytes), content_type="application/octet-stream")
        return await stream_zeros(request, nbytes)


async def stream_zeros(request: web.BaseRequest, nbytes: int) -> web.StreamResponse:
    """A big body block by block; each write waits for the client to keep up, so memory stays flat.

    HEAD comes here too, whatever the size: it gets the Content-Length (even 0) and no body.
    """
    response = web.StreamResponse()
    response.content_type = "application/octet-stream"
    response.content_length = nbytes
    say_connection(request, response)
    await response.prepare(request)
    if request.method != "HEAD":
        block = memoryview(zero_body(BLOCK_BYTES))
        for start in range(0, nbytes, BLOCK_BYTES):
            await response.write(block[: min(BLOCK_BYTES, nbytes - start)])
    await response.write_eof()
    return response


def say_connection(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Always send a Connection header, as the hand-written server did.

    aiohttp writes one only when it differs from the HTTP version's default;
    saying it every time shows the connection policy on the wire.
    """
    response.headers["Connection"] = "keep-alive" if request.keep_alive else "close"


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(host: str, port: int, latency_ms: int, nbytes: int, watch_stdin: bool) -> int:
    server = web.Server(LatencyHandler(latency_ms, nbytes), handler_cancellation=True, access_log=None)
    # handler_cancellation: a client that gives up (a workload's timeout) frees its timer at once.
    runner = web.ServerRunner(server, handle_signals=False, shutdown_timeout=SHUTDOWN_GRACE_S)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
        try:
            await site.start()
        except OSError as exc:
            raise LabError(f"could not listen on {url_host(host)}:{port}: {exc.strerror or exc}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        if watch_stdin:
            watch_for_eof(loop, stop)
        real_port = runner.addresses[0][1]
        print(f"listening on http://{url_host(host)}:{real_port}", flush=True)
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


def watch_for_eof(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when stdin closes: EmbeddedServer holds its write end, so the server dies with its parent."""
    fd = sys.stdin.fileno()

    def on_readable() -> None:
        if not os.read(fd, 4096):
            loop.remove_reader(fd)
            stop.set()

    loop.add_reader(fd, on_readable)


def main(
    host: str = "127.0.0.1",
    port: int = 0,
    latency_ms: int = DEFAULT_LATENCY_MS,
    nbytes: int = DEFAULT_BODY_BYTES,
    *,
    watch_stdin: bool = False,
) -> int:
    """Serve until SIGTERM, SIGINT or (with watch_stdin) EOF on stdin; exit status 0.

    Prints one line, 'listening on http://HOST:PORT', once it listens (port 0
    picks a free port): that line is the handshake `EmbeddedServer` waits for.
    Raises InvalidSettings for out-of-range numbers and LabError if it cannot listen.
    """
    check_range("port", port, 65535)
    raise_open_file_limit()
    try:
        return asyncio.run(serve(host, port, latency_ms, nbytes, watch_stdin))
    except KeyboardInterrupt:
        return 0


def command_line(argv: list[str] | None = None) -> int:
    """The `__main__` entry: errors become one line on stderr (EmbeddedServer reports the last one)."""
    parser = argparse.ArgumentParser(prog="python -m lab.engine.latency_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--bytes", type=int, default=DEFAULT_BODY_BYTES)
    parser.add_argument("--watch-stdin", action="store_true", help="stop when stdin reaches EOF")
    args = parser.parse_args(argv)
    try:
        return main(args.host, args.port, args.latency_ms, args.bytes, watch_stdin=args.watch_stdin)
    except LabError as exc:
        print(exc, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(command_line())
