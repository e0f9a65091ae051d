"""The embedded latency server: answers GET after a delay with N bytes, nothing more.

It stands in for a slow web service so the `http` workload measures waiting,
not the internet. Standard library only (asyncio and a small HTTP/1.1 parser),
so the lab runs offline. Every request waits on its own timer and nothing is
serialised: 1,000 requests at 200 ms finish in about 200 ms, so the server is
never the bottleneck being measured. `EmbeddedServer` runs it in a child
process, away from the GIL under test.
"""

from __future__ import annotations

import asyncio
import functools
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import parse_qsl, urlsplit

from lab.errors import InvalidSettings, LabError, RunFailed
from lab.procs import raise_open_file_limit
from lab.settings import DEFAULT_BODY_BYTES, DEFAULT_LATENCY_MS, MAX_BODY_BYTES, MAX_LATENCY_MS

BLOCK_BYTES = 1024 * 1024  # bodies above this go out as slices of one cached block
LISTEN_BACKLOG = 4096
MAX_HEAD_BYTES = 64 * 1024
MAX_REQUEST_BODY_BYTES = 1024 * 1024
IDLE_TIMEOUT_S = 120.0
STARTUP_TIMEOUT_S = 10.0
REPO_ROOT = Path(__file__).resolve().parent.parent
REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
}


class HTTPProblem(Exception):
    """A request answered with an error status; the message is the one-line body."""

    def __init__(self, status: int, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    version: str
    headers: dict[str, str]

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only if asked."""
        tokens = {token.strip().lower() for token in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclass(frozen=True)
class Reply:
    """A status and a body: `text`, or `length` zero bytes when text is None."""

    status: int
    length: int
    text: bytes | None = None
    allow: str | None = None

    @classmethod
    def plain(cls, status: int, message: str, allow: str | None = None) -> Reply:
        text = message.encode()
        return cls(status, len(text), text, allow)


@functools.lru_cache(maxsize=64)
def zero_body(nbytes: int) -> bytes:
    """The body for `nbytes` (at most BLOCK_BYTES), built once per size."""
    return bytes(nbytes)


def check_range(name: str, value: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise InvalidSettings(f"{name} must be a whole number from 0 to {high:,}, got {value!r}")
    return value


def query_number(query: dict[str, str], name: str, default: int, high: int) -> int:
    """A per-request override: digits only, within [0, high], else a 400."""
    text = query.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or int(text) > high:
        raise HTTPProblem(400, f"{name} must be a whole number from 0 to {high}, got {text[:40]!r}")
    return int(text)


def parse_head(head: bytes) -> Request:
    """Request line and headers, up to and including the blank line."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HTTPProblem(400, "malformed request line", close=True)
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HTTPProblem(400, "malformed header line", close=True)
        headers[name.lower()] = value.strip()
    split = urlsplit(target)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    return Request(method, split.path or "/", query, version, headers)


async def discard_body(reader: asyncio.StreamReader, request: Request) -> None:
    """Read past a request body so the next request on the connection starts clean."""
    if "transfer-encoding" in request.headers:
        raise HTTPProblem(400, "chunked request bodies are not supported", close=True)
    length_text = request.headers.get("content-length", "0")
    if not length_text.isdigit():
        raise HTTPProblem(400, "malformed Content-Length", close=True)
    length = int(length_text)
    if length > MAX_REQUEST_BODY_BYTES:
        raise HTTPProblem(413, f"request body over {MAX_REQUEST_BODY_BYTES} bytes", close=True)
    if length:
        await reader.readexactly(length)


class LatencyServer:
    """The request handler, with the defaults set at start and the live connections."""

    def __init__(self, latency_ms: int, nbytes: int) -> None:
        self.latency_ms = check_range("latency_ms", latency_ms, MAX_LATENCY_MS)
        self.nbytes = check_range("bytes", nbytes, MAX_BODY_BYTES)
        self.connections: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections.add(task)
        try:
            while await self.answer_one(reader, writer):
                pass
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if task is not None:
                self.connections.discard(task)
            writer.close()

    async def answer_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; True when the connection stays open for another."""
        try:
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError:
            await send(writer, Reply.plain(431, "request head too large"), keep_alive=False, head_only=False)
            return False
        except asyncio.IncompleteReadError:
            return False
        try:
            request = parse_head(head)
        except HTTPProblem as problem:
            await send(writer, Reply.plain(problem.status, problem.message), False, head_only=False)
            return False
        try:
            await discard_body(reader, request)
            reply = await self.reply_to(request)
            keep_alive = request.keep_alive
        except HTTPProblem as problem:
            reply = Reply.plain(problem.status, problem.message)
            keep_alive = request.keep_alive and not problem.close
        await send(writer, reply, keep_alive, head_only=request.method == "HEAD")
        return keep_alive

    async def reply_to(self, request: Request) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return Reply.plain(405, "method not allowed", allow="GET, HEAD")
        if request.path == "/health":
            return Reply.plain(200, "ok")
        if request.path != "/":
            return Reply.plain(404, "not found")
        latency_ms = query_number(request.query, "latency_ms", self.latency_ms, MAX_LATENCY_MS)
        nbytes = query_number(request.query, "bytes", self.nbytes, MAX_BODY_BYTES)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)
        return Reply(200, nbytes)

    async def close_connections(self) -> None:
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)


async def send(writer: asyncio.StreamWriter, reply: Reply, keep_alive: bool, head_only: bool) -> None:
    """Head and body in one write (one send call) unless the body is big enough to stream."""
    content_type = "application/octet-stream" if reply.text is None else "text/plain; charset=utf-8"
    lines = [
        f"HTTP/1.1 {reply.status} {REASONS[reply.status]}",
        f"Content-Type: {content_type}",
        f"Content-Length: {reply.length}",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    if reply.allow:
        lines.append(f"Allow: {reply.allow}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if head_only:
        writer.write(head)
    elif reply.text is not None:
        writer.write(head + reply.text)
    elif reply.length <= BLOCK_BYTES:
        writer.write(head + zero_body(reply.length))
    else:
        writer.write(head)
        await stream_zeros(writer, reply.length)
    await writer.drain()


async def stream_zeros(writer: asyncio.StreamWriter, nbytes: int) -> None:
    """A big body block by block, waiting for the client to keep up, so memory stays flat."""
    block = memoryview(zero_body(BLOCK_BYTES))
    remaining = nbytes
    while remaining > 0:
        step = min(remaining, BLOCK_BYTES)
        writer.write(block[:step])
        await writer.drain()
        remaining -= step


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def serve(host: str, port: int, latency_ms: int, nbytes: int, watch_stdin: bool) -> int:
    handler = LatencyServer(latency_ms, nbytes)
    try:
        server = await asyncio.start_server(
            handler.handle, host, port, backlog=LISTEN_BACKLOG, limit=MAX_HEAD_BYTES
        )
    except OSError as exc:
        raise LabError(f"could not listen on {url_host(host)}:{port}: {exc.strerror or exc}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if watch_stdin:
        watch_for_eof(loop, stop)
    real_port = server.sockets[0].getsockname()[1]
    print(f"listening on http://{url_host(host)}:{real_port}", flush=True)
    await stop.wait()
    server.close()
    await handler.close_connections()
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
    """Serve until SIGTERM or SIGINT; prints one 'listening on http://HOST:PORT' line first."""
    raise_open_file_limit()
    try:
        return asyncio.run(serve(host, port, latency_ms, nbytes, watch_stdin))
    except KeyboardInterrupt:
        return 0


class EmbeddedServer:
    """The latency server in a child process of its own, on 127.0.0.1 and a free port.

    A child process keeps the server's event loop out of the GIL being
    measured. It runs in its own session so `stop` can kill its whole process
    group, and it exits by itself when this process dies (its stdin closes).
    `start` and `stop` hold a lock: one server may be shared by the threads of
    a web app.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        latency_ms: int = DEFAULT_LATENCY_MS,
        nbytes: int = DEFAULT_BODY_BYTES,
        python: str = sys.executable,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        self.latency_ms = check_range("latency_ms", latency_ms, MAX_LATENCY_MS)
        self.nbytes = check_range("bytes", nbytes, MAX_BODY_BYTES)
        self.python = python
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._lock = threading.RLock()

    def start(self) -> EmbeddedServer:
        """Start the child and wait until it listens; a no-op while it is alive."""
        with self._lock:
            if not self.alive:
                self.stop()
                self._spawn()
        return self

    def _spawn(self) -> None:
        code = (
            "import sys; from lab.server import main; "
            f"sys.exit(main(port=0, latency_ms={self.latency_ms}, nbytes={self.nbytes}, watch_stdin=True))"
        )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        with tempfile.TemporaryFile() as errors:
            try:
                self._process = subprocess.Popen(
                    [self.python, "-c", code],
                    cwd=REPO_ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=errors,
                    start_new_session=True,
                )
            except OSError as exc:
                reason = exc.strerror or exc
                raise RunFailed(f"could not start the embedded server with {self.python}: {reason}") from None
            try:
                self._port = self._read_port(errors)
            except RunFailed:
                self.stop()
                raise

    def _read_port(self, errors: IO[bytes]) -> int:
        assert self._process is not None and self._process.stdout is not None
        line = read_line(self._process.stdout, self.startup_timeout_s)
        if line is None:
            raise RunFailed(f"the embedded server did not start within {self.startup_timeout_s:g} s")
        prefix = f"listening on http://{self.host}:"
        if line.startswith(prefix) and line[len(prefix) :].isdigit():
            return int(line[len(prefix) :])
        if line:
            raise RunFailed(f"the embedded server printed {line[:80]!r} instead of its address")
        with suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=self.startup_timeout_s)
        errors.seek(0)
        lines = errors.read().decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else "no output"
        raise RunFailed(f"the embedded server exited with status {self._process.returncode}: {reason}")

    @property
    def port(self) -> int:
        if self._port is None:
            raise RunFailed("the embedded server is not running")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def url(self, latency_ms: int, nbytes: int) -> str:
        return f"{self.base_url}/?latency_ms={latency_ms}&bytes={nbytes}"

    @property
    def alive(self) -> bool:
        """True while the child runs; one non-blocking waitpid, cheap enough to call per page view."""
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """Kill the child's process group and reap it; never raises, safe to repeat."""
        with self._lock:
            process, self._process, self._port = self._process, None, None
        if process is None:
            return
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                with suppress(OSError):
                    process.kill()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                with suppress(OSError):
                    pipe.close()

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def read_line(pipe: IO[bytes], timeout_s: float) -> str | None:
    """The child's first line (or all it wrote before closing); None after the timeout."""
    deadline = time.monotonic() + timeout_s
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(pipe, selectors.EVENT_READ)
        while b"\n" not in data:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                return None
            chunk = os.read(pipe.fileno(), 4096)
            if not chunk:
                break
            data += chunk
    return data.decode(errors="replace").split("\n", 1)[0].strip()
