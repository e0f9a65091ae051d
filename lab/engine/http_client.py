"""The `http` workload's network part: GET a URL and stream the body to a file.

`download` (requests) serves the blocking modes; `download_async` (aiohttp)
serves the native asyncio mode. aiohttp was chosen by measurement
(benchmarks/async_clients.py, figures in the README): at 1,000 concurrent GETs
it used 0.51 CPU seconds where httpx used 20.6. Both raise `DownloadError` with the same
one-line messages, so a failed task reads the same in every mode. Each call
makes a fresh request (no shared requests.Session): tasks run in many threads
and processes. aiohttp loads on first use, so blocking workers never import it.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Iterator
from contextlib import suppress
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from lab.core import config
from lab.core.errors import RefusedURL, TaskFailure
from lab.core.urlclients import guarded_requests_session, guarded_session_options
from lab.core.urlguard import allow_from_env, check_url

if TYPE_CHECKING:
    import aiohttp

CHUNK_BYTES = 64 * 1024


class DownloadError(TaskFailure):
    """A download that failed; str() is one line naming the cause."""


def where(url: str) -> str:
    """host:port of a URL that passed `check_url`: the part of every message that says who failed."""
    try:
        parts = urlsplit(check_url(url))
    except RefusedURL as exc:
        raise DownloadError(str(exc)) from None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parts.port or (443 if parts.scheme.lower() == 'https' else 80)}"


def timed_out(timeout_s: float, target: str) -> str:
    return f"timed out after {timeout_s:g} s waiting for {target}"


def no_answer(target: str) -> str:
    return f"{target} closed the connection without answering"


def body_too_large(max_bytes: int) -> str:
    return f"body larger than {max_bytes:,} bytes"


def http_status(status: int, reason: str | None, url: str) -> str:
    if not reason:
        with suppress(ValueError):
            reason = HTTPStatus(status).phrase
    return f"HTTP {status} {reason or ''}".rstrip() + f" from {url}"


def os_error_message(error: OSError, target: str, timeout_s: float) -> str:
    """The same words for the same socket failure, whichever client saw it."""
    host = target.rsplit(":", 1)[0]
    if isinstance(error, socket.gaierror):
        return f"could not resolve host {host}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {target}"
    if isinstance(error, TimeoutError):
        return timed_out(timeout_s, target)
    if isinstance(error, ConnectionResetError):
        return f"connection reset by {target}"
    return f"connection to {target} failed: {error.strerror or one_line(error)}"


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and everything it wraps: causes, contexts, urllib3's `reason`, nested args."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def requests_message(error: Exception, url: str, target: str, timeout_s: float) -> str:
    """requests' and urllib3's exceptions (the body is read from urllib3 directly) in plain words."""
    chain = list(causes(error))
    for cause in chain:
        if isinstance(cause, (socket.gaierror, ConnectionRefusedError)):
            return os_error_message(cause, target, timeout_s)
    if any(is_timeout(cause) for cause in chain):
        return timed_out(timeout_s, target)
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return f"invalid URL {url[:80]!r}: {error}"
    if any(isinstance(cause, http.client.IncompleteRead) for cause in chain):
        return f"connection to {target} broke off mid-body"
    if any(isinstance(cause, http.client.RemoteDisconnected) for cause in chain):
        return no_answer(target)
    for cause in chain:
        if isinstance(cause, OSError) and not isinstance(cause, requests.RequestException):
            return os_error_message(cause, target, timeout_s)
    return f"request to {target} failed: {one_line(error)}"


def is_timeout(error: BaseException) -> bool:
    """urllib3 files a refused or unresolved connection under ConnectTimeoutError too; that is no timeout."""
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return False
    timeouts = (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    return isinstance(error, timeouts)


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200]


class BodyFile:
    """Where a body goes: counts bytes, enforces the cap, and deletes itself if the download fails.

    Disk errors become DownloadError here, so they are never mistaken for network ones.
    """

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.received = 0
        self._file: IO[bytes] | None = None

    def __enter__(self) -> BodyFile:
        try:
            self._file = self.path.open("wb")
        except OSError as exc:
            raise DownloadError(f"could not write {self.path}: {exc.strerror or exc}") from None
        return self

    def add(self, chunk: bytes) -> None:
        assert self._file is not None
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise DownloadError(body_too_large(self.max_bytes))
        try:
            self._file.write(chunk)
        except OSError as exc:
            raise DownloadError(f"could not write {self.path}: {exc.strerror or exc}") from None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._file is not None
        with suppress(OSError):
            self._file.close()
        if exc_type is not None:
            with suppress(OSError):
                self.path.unlink(missing_ok=True)


def check_length(content_length: int | None, max_bytes: int) -> None:
    if content_length is not None and content_length > max_bytes:
        raise DownloadError(body_too_large(max_bytes))


def download(url: str, path: Path, timeout_s: float, max_bytes: int) -> int:
    """GET `url`, stream the body to `path` and return the bytes received.

    timeout_s bounds the connect, each read, and (checked between reads) the
    whole download. Reads use `read1`, which returns what has arrived: a
    server that trickles bytes cannot hold a read open past the cap, as it
    could with `iter_content`. A failed download removes its partial file.
    """
    target = where(url)
    deadline = time.monotonic() + timeout_s
    try:
        with (
            sync_session() as session,
            session.get(url, stream=True, timeout=(timeout_s, timeout_s)) as response,
        ):
            if response.status_code >= 400:
                raise DownloadError(http_status(response.status_code, response.reason, url))
            length = response.headers.get("Content-Length")
            check_length(int(length) if length and length.isdigit() else None, max_bytes)
            with BodyFile(path, max_bytes) as body:
                while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
                    body.add(chunk)
                    if time.monotonic() > deadline:
                        raise DownloadError(timed_out(timeout_s, target))
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise DownloadError(requests_message(exc, url, target, timeout_s)) from None
    except RefusedURL as exc:
        raise DownloadError(str(exc)) from None
    return body.received


def guarded() -> bool:
    """Whether this worker runs under public mode's URL guard: its runner says so in the environment."""
    return config.flag(os.environ, config.PUBLIC) is True


def sync_session() -> requests.Session:
    """A fresh session per download; in public mode one that connects only to checked addresses."""
    if guarded():
        return guarded_requests_session(allow_from_env())
    return requests.Session()


def open_async_session() -> aiohttp.ClientSession:
    """A session with no connection cap (aiohttp's default of 100 would quietly limit concurrency).

    Use it as `async with open_async_session() as session:` inside a running event loop.
    """
    import aiohttp

    if guarded():
        return aiohttp.ClientSession(**guarded_session_options(allow_from_env(), limit=0, limit_per_host=0))
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, limit_per_host=0))


async def download_async(
    session: aiohttp.ClientSession, url: str, path: Path, timeout_s: float, max_bytes: int
) -> int:
    """The asyncio twin of `download`: same checks, same messages; timeout_s bounds the whole download."""
    import aiohttp

    target = where(url)
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=timeout_s, sock_read=timeout_s)
    try:
        async with session.get(url, timeout=timeout) as response:
            if response.status >= 400:
                raise DownloadError(http_status(response.status, response.reason, url))
            check_length(response.content_length, max_bytes)
            with BodyFile(path, max_bytes) as body:
                async for chunk in response.content.iter_chunked(CHUNK_BYTES):
                    body.add(chunk)
    except (aiohttp.ClientError, OSError) as exc:
        raise DownloadError(aiohttp_message(exc, url, target, timeout_s)) from None
    except RefusedURL as exc:
        raise DownloadError(str(exc)) from None
    return body.received


def aiohttp_message(error: Exception, url: str, target: str, timeout_s: float) -> str:
    import aiohttp

    if isinstance(error, TimeoutError):
        return timed_out(timeout_s, target)
    if isinstance(error, aiohttp.ClientConnectorError):
        return os_error_message(error.os_error, target, timeout_s)
    if isinstance(error, aiohttp.InvalidURL):
        return f"invalid URL {url[:80]!r}: {error}"
    if isinstance(error, aiohttp.ClientPayloadError):
        return f"connection to {target} broke off mid-body"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return no_answer(target)
    if isinstance(error, OSError) and error.errno is not None:
        return os_error_message(error, target, timeout_s)
    return f"request to {target} failed: {one_line(error)}"
