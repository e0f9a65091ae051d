"""Downloads: exact bytes on disk, and one clear line for every way a download fails, in both clients."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from lab.engine.http_client import DownloadError, download, download_async, open_async_session
from lab.engine.latency_server import EmbeddedServer

Respond = Callable[[socket.socket], None]


def fetch(client: str, url: str, path: Path, timeout_s: float = 5.0, max_bytes: int = 1 << 20) -> int:
    """The blocking client, or the async one in a fresh event loop as the asyncio mode runs it."""
    if client == "requests":
        return download(url, path, timeout_s, max_bytes)

    async def run() -> int:
        async with open_async_session() as session:
            return await download_async(session, url, path, timeout_s, max_bytes)

    return asyncio.run(run())


@pytest.fixture(params=["requests", "aiohttp"])
def client(request: pytest.FixtureRequest) -> str:
    return request.param


def failure(client: str, url: str, path: Path, timeout_s: float = 5.0, max_bytes: int = 1 << 20) -> str:
    """The message of the DownloadError the download must raise; it must leave no partial file."""
    with pytest.raises(DownloadError) as caught:
        fetch(client, url, path, timeout_s, max_bytes)
    message = str(caught.value)
    assert message and "\n" not in message
    assert not path.exists()
    return message


@pytest.fixture
def raw_server() -> Iterator[Callable[[Respond], str]]:
    """A server that reads each request head, then lets the test misbehave; it serves until teardown.

    It keeps accepting because aiohttp retries an idempotent GET once when the server hangs up.
    """
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(respond: Respond) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)

        def serve() -> None:
            with listener:
                while not stop.is_set():
                    with suppress(TimeoutError):
                        connection, _ = listener.accept()
                        with connection, suppress(OSError):
                            read_head(connection)
                            respond(connection)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        threads.append(thread)
        return f"http://127.0.0.1:{listener.getsockname()[1]}/"

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def read_head(connection: socket.socket) -> None:
    connection.settimeout(10)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = connection.recv(4096)
        if not chunk:
            raise ConnectionResetError("client left before sending a request")
        head += chunk


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("nbytes", [0, 12_345, 3 * 1024 * 1024 + 17])
def test_download_writes_exactly_the_body(
    client: str, latency_server: EmbeddedServer, tmp_path: Path, nbytes: int
) -> None:
    path = tmp_path / "body.bin"
    assert fetch(client, latency_server.url(0, nbytes), path, max_bytes=8 << 20) == nbytes
    assert path.read_bytes() == bytes(nbytes)


def test_download_overwrites_an_existing_file(
    client: str, latency_server: EmbeddedServer, tmp_path: Path
) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(b"x" * 100_000)
    assert fetch(client, latency_server.url(0, 10), path) == 10
    assert path.read_bytes() == bytes(10)


def test_a_failure_before_the_body_leaves_an_existing_file_alone(
    client: str, latency_server: EmbeddedServer, tmp_path: Path
) -> None:
    path = tmp_path / "earlier.bin"
    path.write_bytes(b"earlier")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch(client, f"{latency_server.base_url}/missing", path)
    assert path.read_bytes() == b"earlier"


def test_refused_connection(client: str, closed_port: int, tmp_path: Path) -> None:
    message = failure(client, f"http://127.0.0.1:{closed_port}/", tmp_path / "f")
    assert message == f"connection refused by 127.0.0.1:{closed_port}"


def test_unresolvable_host(client: str, tmp_path: Path) -> None:
    assert (
        failure(client, "http://nosuch.invalid/", tmp_path / "f") == "could not resolve host nosuch.invalid"
    )


def test_timeout_waiting_for_the_response(
    client: str, latency_server: EmbeddedServer, tmp_path: Path
) -> None:
    start = time.monotonic()
    message = failure(client, latency_server.url(3000, 10), tmp_path / "f", timeout_s=0.3)
    assert message == f"timed out after 0.3 s waiting for 127.0.0.1:{latency_server.port}"
    assert time.monotonic() - start < 2.5


def test_a_trickling_body_is_cut_off_at_the_total_time_cap(
    client: str, raw_server: Callable[[Respond], str], tmp_path: Path
) -> None:
    def trickle(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        for _ in range(100):
            connection.sendall(b"x" * 100)
            time.sleep(0.05)

    url = raw_server(trickle)
    start = time.monotonic()
    message = failure(client, url, tmp_path / "f", timeout_s=0.5)
    assert message == f"timed out after 0.5 s waiting for {url[7:-1]}"
    assert time.monotonic() - start < 2.5


def test_http_error_status(client: str, latency_server: EmbeddedServer, tmp_path: Path) -> None:
    url = f"{latency_server.base_url}/missing"
    assert failure(client, url, tmp_path / "f") == f"HTTP 404 Not Found from {url}"


def test_body_over_the_cap_announced_by_content_length(
    client: str, latency_server: EmbeddedServer, tmp_path: Path
) -> None:
    message = failure(client, latency_server.url(0, 2048), tmp_path / "f", max_bytes=1024)
    assert message == "body larger than 1,024 bytes"


def test_body_over_the_cap_without_content_length(
    client: str, raw_server: Callable[[Respond], str], tmp_path: Path
) -> None:
    def unannounced(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n" + bytes(300_000))

    message = failure(client, raw_server(unannounced), tmp_path / "f", max_bytes=100_000)
    assert message == "body larger than 100,000 bytes"


def test_a_body_cut_short_is_an_error(
    client: str, raw_server: Callable[[Respond], str], tmp_path: Path
) -> None:
    def cut_short(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + bytes(100))

    url = raw_server(cut_short)
    assert failure(client, url, tmp_path / "f") == f"connection to {url[7:-1]} broke off mid-body"


def test_a_server_that_hangs_up_without_answering(
    client: str, raw_server: Callable[[Respond], str], tmp_path: Path
) -> None:
    url = raw_server(lambda connection: None)
    assert failure(client, url, tmp_path / "f") == f"{url[7:-1]} closed the connection without answering"


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/", "unsupported URL scheme 'ftp': only http and https are fetched"),
        ("http://", "URL 'http://' has no host"),
        ("not a url", "unsupported URL scheme 'none': only http and https are fetched"),
        ("http://[::1/", "malformed URL 'http://[::1/': Invalid IPv6 URL"),
    ],
)
def test_invalid_url_is_refused_with_the_same_words_as_the_settings_check(
    client: str, tmp_path: Path, url: str, message: str
) -> None:
    assert failure(client, url, tmp_path / "f") == message


def test_an_unwritable_path_is_reported(client: str, latency_server: EmbeddedServer, tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "f"
    message = failure(client, latency_server.url(0, 10), path)
    assert message == f"could not write {path}: No such file or directory"


def test_the_async_session_has_no_connection_cap() -> None:
    async def limits() -> tuple[int, int]:
        async with open_async_session() as session:
            return session.connector.limit, session.connector.limit_per_host  # type: ignore[union-attr]

    assert asyncio.run(limits()) == (0, 0)
