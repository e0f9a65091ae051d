"""The public-mode URL guard: refused forms, resolution, rebinding, redirects, both HTTP clients.

No test needs DNS: names other than localhost resolve through a fake
`socket.getaddrinfo`, and every server is a local one on 127.0.0.x.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import shutil
import socket
import ssl
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.core.errors import InvalidSettings, RefusedURL
from lab.core.urlclients import GuardedResolver, guarded_requests_session, guarded_session_options
from lab.core.urlguard import (
    ALLOW_ENV,
    allow_env,
    allow_for,
    allow_from_env,
    check_public_url,
    resolve_checked,
)

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"
REAL_GETADDRINFO = socket.getaddrinfo
Answer = Callable[[BaseHTTPRequestHandler], tuple[int, dict[str, str], bytes]]


def addrinfo(address: str, port: Any) -> tuple[Any, ...]:
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))
    return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port or 0), 0, 0))


class FakeDNS:
    """Names resolve from a table; each name's answers are used in turn, the last one repeating."""

    def __init__(self) -> None:
        self.table: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []

    def add(self, name: str, *answers: list[str]) -> None:
        self.table[name] = list(answers)

    def __call__(self, host: Any, port: Any, family: int = 0, kind: int = 0, proto: int = 0, flags: int = 0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in self.table:
            self.asked.append(name)
            answers = self.table[name]
            current = answers.pop(0) if len(answers) > 1 else answers[0]
            return [addrinfo(address, port) for address in current]
        if name == "localhost":
            return REAL_GETADDRINFO(host, port, family, kind, proto, flags)
        return REAL_GETADDRINFO(host, port, family, kind, proto, flags | socket.AI_NUMERICHOST)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def ok(handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
    return 200, {}, b"hello"


def redirect_to(location: str) -> Answer:
    return lambda handler: (302, {"Location": location}, b"")


class Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Host")))  # type: ignore[attr-defined]
        status, headers, body = self.server.answer(self)  # type: ignore[attr-defined]
        self.send_response(status)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def serving(
    answer: Answer = ok, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
) -> Iterator[Any]:
    """A local HTTP server in a thread that records (path, Host) of every request it gets."""
    server = ThreadingHTTPServer((host, port), Recorder)
    server.seen = []  # type: ignore[attr-defined]
    server.answer = answer  # type: ignore[attr-defined]
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def port_of(server: Any) -> int:
    return server.server_address[1]


def allow_of(*servers: Any) -> frozenset[tuple[str, int]]:
    return frozenset((server.server_address[0], port_of(server)) for server in servers)


REFUSED_LITERALS = [
    ("http://127.0.0.1/", "127.0.0.1 is a loopback address: public mode only fetches public hosts"),
    ("http://127.0.0.2:8080/x", "loopback"),
    ("http://localhost/", "localhost resolves to 127.0.0.1, which is a loopback address"),
    ("http://2130706433/", "not a standard dotted-quad"),
    ("http://0x7f000001/", "not a standard dotted-quad"),
    ("http://0x7F.0.0.1/", "not a standard dotted-quad"),
    ("http://017700000001/", "not a standard dotted-quad"),
    ("http://0177.0.0.1/", "not a standard dotted-quad"),
    ("http://127.1/", "not a standard dotted-quad"),
    ("http://127.0.0.01/", "not a standard dotted-quad"),
    ("http://127.0.0.1./", "not a standard dotted-quad"),
    ("http://[::1]/", "::1 is a loopback address"),
    ("http://[::]/", "unspecified"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("http://[::ffff:a9fe:a9fe]/", "IPv4-mapped form of 169.254.169.254, a link-local address"),
    ("http://[::127.0.0.1]/", "IPv4-compatible form of 127.0.0.1"),
    ("http://[2002:7f00:1::1]/", "6to4 form of 127.0.0.1"),
    ("http://[2002:c0a8:101::1]/", "6to4 form of 192.168.1.1, a private address"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[64:ff9b::a00:1]/", "NAT64 form of 10.0.0.1"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "scoped IPv6"),
    ("http://[fec0::1]/", "site-local"),
    ("http://[fc00::1]/", "private"),
    ("http://[ff02::1]/", "multicast"),
    ("http://evil@127.0.0.1/", "user name or password"),
    ("http://user:pass@93.184.216.34/", "user name or password"),
    ("http://93.184.216.34@127.0.0.1/", "user name or password"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
    ("http://10.0.0.1/", "10.0.0.1 is a private address"),
    ("http://172.16.5.4/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "shared address space 100.64.0.0/10"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0.1.2.3/", "private"),
    ("http://224.0.0.1/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://192.0.2.1/", "private"),
    ("ftp://93.184.216.34/", "unsupported URL scheme 'ftp'"),
    ("file:///etc/passwd", "unsupported URL scheme 'file'"),
    ("gopher://93.184.216.34:70/", "unsupported URL scheme"),
    ("93.184.216.34", "unsupported URL scheme"),
    ("http:///path", "has no host"),
    ("http://93.184.216.34:0/", "port 0"),
    ("http://93.184.216.34:99999/", "malformed URL"),
    ("http://[127.0.0.1]/", "malformed URL"),
    ("http://exa mple.com/", "spaces, control characters or backslashes"),
    ("http://example.com\\@127.0.0.1/", "spaces, control characters or backslashes"),
    ("http://127.0.0.1\t/", "spaces, control characters or backslashes"),
    ("http://a..b/", "not a valid host name"),
    ("http://a!b.com/", "not a valid host name"),
    ("http://" + "a" * 2100 + ".com/", "longer than 2048"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED_LITERALS)
def test_refused_url_forms(url: str, reason: str, dns: FakeDNS) -> None:
    with pytest.raises(RefusedURL) as caught:
        check_public_url(url)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1"])
def test_numeric_forms_are_refused_after_getaddrinfo_normalises_them_too(host: str, dns: FakeDNS) -> None:
    with pytest.raises(RefusedURL, match=re.escape("127.0.0.1, which is a loopback address")):
        resolve_checked(host, 80, frozenset())


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        (["127.0.0.1"], "resolves to 127.0.0.1, which is a loopback address"),
        (["169.254.169.254"], "link-local"),
        (["10.1.2.3"], "private"),
        (["::1"], "loopback"),
        (["::ffff:127.0.0.1"], "IPv4-mapped form of 127.0.0.1"),
        (["fe80::1"], "link-local"),
        ([PUBLIC_V4, "192.168.0.10"], "resolves to 192.168.0.10"),
        ([PUBLIC_V6, "fd00::1"], "resolves to fd00::1"),
    ],
)
def test_names_are_refused_if_any_address_is_not_public(
    answers: list[str], reason: str, dns: FakeDNS
) -> None:
    dns.add("inside.test", answers)
    with pytest.raises(RefusedURL, match=reason):
        check_public_url("https://inside.test/page")


def test_public_addresses_are_allowed(dns: FakeDNS) -> None:
    dns.add("example.test", [PUBLIC_V4])
    dns.add("v6.test", [PUBLIC_V6, PUBLIC_V4])
    assert check_public_url(" http://example.test/a?b=1 ") == "http://example.test/a?b=1"
    assert check_public_url("https://v6.test:8443/") == "https://v6.test:8443/"
    assert check_public_url(f"http://{PUBLIC_V4}/") == f"http://{PUBLIC_V4}/"
    assert check_public_url(f"http://[{PUBLIC_V6}]/") == f"http://[{PUBLIC_V6}]/"
    assert check_public_url("HTTPS://EXAMPLE.TEST/") == "HTTPS://EXAMPLE.TEST/"


def test_unresolvable_names_are_refused(dns: FakeDNS) -> None:
    with pytest.raises(RefusedURL, match=re.escape("cannot resolve host nowhere.test")):
        check_public_url("http://nowhere.test/")


def test_resolve_false_checks_literals_but_not_names(dns: FakeDNS) -> None:
    dns.add("inside.test", ["127.0.0.1"])
    assert check_public_url("http://inside.test/", resolve=False) == "http://inside.test/"
    assert dns.asked == []
    with pytest.raises(RefusedURL, match="loopback"):
        check_public_url("http://127.0.0.1/", resolve=False)


def test_allow_admits_only_the_embedded_servers_address_and_port(dns: FakeDNS) -> None:
    allow = frozenset({("127.0.0.1", 8123)})
    assert check_public_url("http://127.0.0.1:8123/?latency_ms=5", allow)
    assert check_public_url("http://localhost:8123/", allow)
    with pytest.raises(RefusedURL, match="loopback"):
        check_public_url("http://127.0.0.1:8124/", allow)
    with pytest.raises(RefusedURL, match="loopback"):
        check_public_url("http://127.0.0.1/", allow)


def test_allow_travels_to_child_processes_through_the_environment() -> None:
    allow = allow_for("http://127.0.0.1:8123/?latency_ms=200")
    assert allow == {("127.0.0.1", 8123)}
    assert allow_from_env(allow_env(allow)) == allow
    assert allow_from_env(allow_env({("::1", 9000), ("127.0.0.1", 1)})) == {("::1", 9000), ("127.0.0.1", 1)}
    assert allow_from_env({ALLOW_ENV: "localhost|80,127.0.0.1|x,|,,127.0.0.1"}) == frozenset()
    assert allow_from_env({}) == frozenset()


# requests


def test_requests_session_reaches_an_allowed_server() -> None:
    with serving() as server, guarded_requests_session(allow_of(server)) as session:
        response = session.get(f"http://127.0.0.1:{port_of(server)}/hello", timeout=5)
    assert response.text == "hello"
    assert server.seen == [("/hello", f"127.0.0.1:{port_of(server)}")]


def test_requests_session_refuses_a_loopback_server_that_is_not_allowed() -> None:
    with serving() as server, guarded_requests_session() as session:
        with pytest.raises(RefusedURL, match="loopback"):
            session.get(f"http://127.0.0.1:{port_of(server)}/", timeout=5)
        with pytest.raises(RefusedURL, match="loopback"):
            session.get(f"http://2130706433:{port_of(server)}/", timeout=5)
    assert server.seen == []


def test_dns_rebinding_cannot_reach_loopback(dns: FakeDNS) -> None:
    """Public when checked, 127.0.0.1 when connecting: the connection is refused, not made."""
    with serving() as embedded, serving() as target, guarded_requests_session(allow_of(embedded)) as session:
        dns.add("rebind.test", [PUBLIC_V4], ["127.0.0.1"])
        url = f"http://rebind.test:{port_of(target)}/secret"
        assert check_public_url(url, allow_of(embedded)) == url
        with pytest.raises(RefusedURL, match=re.escape("rebind.test resolves to 127.0.0.1")):
            session.get(url, timeout=5)
        assert session.get(f"http://127.0.0.1:{port_of(embedded)}/", timeout=5).ok
    assert target.seen == []
    assert embedded.seen == [("/", f"127.0.0.1:{port_of(embedded)}")]


def test_the_connection_goes_to_the_address_that_was_checked(dns: FakeDNS) -> None:
    """The name resolves to the allowed server first and elsewhere after: only the first is used."""
    with serving() as embedded:
        port = port_of(embedded)
        with (
            serving(host="127.0.0.2", port=port) as elsewhere,
            guarded_requests_session(allow_of(embedded)) as s,
        ):
            dns.add("flip.test", ["127.0.0.1"], ["127.0.0.2"])
            assert s.get(f"http://flip.test:{port}/page", timeout=5).text == "hello"
    assert embedded.seen == [("/page", f"flip.test:{port}")]
    assert elsewhere.seen == []
    assert dns.asked == ["flip.test"]


def test_redirect_to_loopback_is_refused() -> None:
    with serving() as target:
        location = f"http://127.0.0.1:{port_of(target)}/secret"
        with (
            serving(redirect_to(location)) as embedded,
            guarded_requests_session(allow_of(embedded)) as session,
            pytest.raises(RefusedURL, match=re.escape("127.0.0.1 is a loopback address")),
        ):
            session.get(f"http://127.0.0.1:{port_of(embedded)}/", timeout=5)
    assert embedded.seen and target.seen == []


def test_redirect_to_a_name_for_a_private_address_is_refused(dns: FakeDNS) -> None:
    dns.add("internal.test", ["10.0.0.7"])
    with (
        serving(redirect_to("http://internal.test/admin")) as embedded,
        guarded_requests_session(allow_of(embedded)) as session,
        pytest.raises(RefusedURL, match=re.escape("internal.test resolves to 10.0.0.7")),
    ):
        session.get(f"http://127.0.0.1:{port_of(embedded)}/", timeout=5)


def test_redirects_between_checked_addresses_are_followed_up_to_the_cap() -> None:
    with serving() as final:
        hop = redirect_to(f"http://127.0.0.1:{port_of(final)}/done")
        with serving(hop) as first, guarded_requests_session(allow_of(first, final)) as session:
            assert session.get(f"http://127.0.0.1:{port_of(first)}/", timeout=5).text == "hello"
    with (
        serving(redirect_to("/again")) as loop,
        guarded_requests_session(allow_of(loop)) as session,
        pytest.raises(requests.TooManyRedirects),
    ):
        session.get(f"http://127.0.0.1:{port_of(loop)}/", timeout=5)
    assert len(loop.seen) == 6  # the request and five redirects


def test_proxies_from_the_environment_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving() as proxy, serving() as target:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port_of(proxy)}")
        monkeypatch.setenv("NO_PROXY", "")
        with guarded_requests_session(allow_of(proxy, target)) as session:
            assert session.get(f"http://127.0.0.1:{port_of(target)}/", timeout=5).ok
    assert proxy.seen == [] and len(target.seen) == 1


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *(
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=secure.test",
            ),
            *("-addext", "subjectAltName=DNS:secure.test", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_https_keeps_the_host_name_for_sni_and_certificate_checks(
    certificate: tuple[Path, Path], dns: FakeDNS
) -> None:
    cert, key = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    dns.add("secure.test", ["127.0.0.1"])
    dns.add("other.test", ["127.0.0.1"])
    with serving(tls=context) as server, guarded_requests_session(allow_of(server)) as session:
        port = port_of(server)
        assert session.get(f"https://secure.test:{port}/tls", verify=str(cert), timeout=5).text == "hello"
        with pytest.raises(requests.exceptions.SSLError):
            session.get(f"https://other.test:{port}/", verify=str(cert), timeout=5)
    assert server.seen == [("/tls", f"secure.test:{port}")]
    assert names[0] == "secure.test"


# aiohttp


async def fetch(url: str, allow: frozenset[tuple[str, int]] = frozenset()) -> str:
    async with (
        aiohttp.ClientSession(**guarded_session_options(allow)) as session,
        session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response,
    ):
        return await response.text()


def test_guarded_resolver_returns_only_checked_addresses(dns: FakeDNS) -> None:
    dns.add("example.test", [PUBLIC_V4, PUBLIC_V6])
    dns.add("inside.test", [PUBLIC_V4, "127.0.0.1"])
    resolver = GuardedResolver(frozenset({("127.0.0.1", 8123)}))
    found = asyncio.run(resolver.resolve("example.test", 80, socket.AF_UNSPEC))
    assert [(r["host"], r["port"], r["hostname"]) for r in found] == [
        (PUBLIC_V4, 80, "example.test"),
        (PUBLIC_V6, 80, "example.test"),
    ]
    with pytest.raises(RefusedURL, match=re.escape("inside.test resolves to 127.0.0.1")):
        asyncio.run(resolver.resolve("inside.test", 80))
    assert asyncio.run(resolver.resolve("localhost", 8123, socket.AF_INET))[0]["host"] == "127.0.0.1"


def test_aiohttp_reaches_an_allowed_server() -> None:
    with serving() as server:
        assert asyncio.run(fetch(f"http://127.0.0.1:{port_of(server)}/a", allow_of(server))) == "hello"
    assert len(server.seen) == 1


def test_aiohttp_refuses_literals_and_names_for_loopback(dns: FakeDNS) -> None:
    dns.add("rebind.test", [PUBLIC_V4], ["127.0.0.1"])
    with serving() as target:
        port = port_of(target)
        for url in (
            f"http://127.0.0.1:{port}/",
            f"http://2130706433:{port}/",
            f"http://[::ffff:7f00:1]:{port}/",
        ):
            with pytest.raises(RefusedURL):
                asyncio.run(fetch(url))
        url = f"http://rebind.test:{port}/"
        assert check_public_url(url) == url
        with pytest.raises(RefusedURL, match=re.escape("rebind.test resolves to 127.0.0.1")):
            asyncio.run(fetch(url))
    assert target.seen == []


def test_aiohttp_redirects_are_checked_at_every_hop(dns: FakeDNS) -> None:
    dns.add("internal.test", ["10.0.0.7"])
    with serving() as target:
        port = port_of(target)
        for location in (
            f"http://127.0.0.1:{port}/secret",
            f"http://0x7f000001:{port}/",
            "http://internal.test/",
        ):
            with serving(redirect_to(location)) as embedded, pytest.raises(RefusedURL):
                asyncio.run(fetch(f"http://127.0.0.1:{port_of(embedded)}/", allow_of(embedded)))
    assert target.seen == []
    with serving() as final:
        with serving(redirect_to(f"http://127.0.0.1:{port_of(final)}/done")) as first:
            assert (
                asyncio.run(fetch(f"http://127.0.0.1:{port_of(first)}/", allow_of(first, final))) == "hello"
            )
        assert final.seen == [("/done", f"127.0.0.1:{port_of(final)}")]
    with serving(redirect_to("/again")) as loop, pytest.raises(RefusedURL, match="more than 5 redirects"):
        asyncio.run(fetch(f"http://127.0.0.1:{port_of(loop)}/", allow_of(loop)))
    assert len(loop.seen) == 6


# property


BAD_NETWORKS = [
    ipaddress.ip_network(net)
    for net in [
        *("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12"),
        *("192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/127", "fe80::/10", "fec0::/10", "fc00::/7"),
        "ff00::/8",
    ]
]
RESOLVER_POOL = [PUBLIC_V4, PUBLIC_V6, "127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:10.0.0.1"]
RESOLVER_POOL += ["100.64.0.1", "192.168.0.1", "8.8.8.8", "fe80::1", "2002:a00:1::1"]


def oracle_refuses(address: str) -> bool:
    """An independent list of what must never be fetched (embedded IPv4 forms included)."""
    ip = ipaddress.ip_address(address)
    inner = [ip]
    if ip.version == 6:
        inner += [x for x in (ip.ipv4_mapped, ip.sixtofour) if x is not None]
    return any(x.version == net.version and x in net for x in inner for net in BAD_NETWORKS)


def any_resolver(answered: list[str]) -> Callable[..., list[tuple[Any, ...]]]:
    """Literals resolve as the OS would; every name gets two stable answers from the pool."""

    def fake(host: Any, port: Any, family: int = 0, kind: int = 0, proto: int = 0, flags: int = 0):
        try:
            infos = REAL_GETADDRINFO(host, port, family, kind, proto, flags | socket.AI_NUMERICHOST)
        except (OSError, UnicodeError, ValueError):
            seed = zlib.crc32(str(host).encode("utf-8", "surrogatepass"))
            picks = {
                RESOLVER_POOL[seed % len(RESOLVER_POOL)],
                RESOLVER_POOL[(seed // 7) % len(RESOLVER_POOL)],
            }
            infos = [addrinfo(address, port) for address in sorted(picks)]
        answered.extend(str(info[4][0]) for info in infos)
        return infos

    return fake


numbers = st.integers(0, 2**32 - 1)
hosts = st.one_of(
    st.sampled_from(["example.test", "a.b.c", "localhost", "metadata.google.internal", "xn--bcher-kva.test"]),
    st.text(max_size=20),
    numbers.map(str),
    numbers.map(hex),
    numbers.map(lambda n: "0" + format(n, "o")),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.tuples(st.integers(0, 300), st.integers(0, 300)).map(lambda pair: f"{pair[0]}.{pair[1]}"),
)
urls = st.builds(
    "{}://{}{}{}{}".format,
    st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript"]),
    st.sampled_from(["", "evil@", "a:b@"]),
    hosts,
    st.one_of(st.just(""), st.integers(0, 70000).map(lambda port: f":{port}")),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(urls, st.text(max_size=60)))
def test_check_public_url_only_passes_public_hosts(url: str) -> None:
    answered: list[str] = []
    with mock.patch("socket.getaddrinfo", any_resolver(answered)):
        try:
            result = check_public_url(url)
        except InvalidSettings:  # RefusedURL is one
            return
    host = urlsplit(result).hostname or ""
    try:
        literal = [str(ipaddress.ip_address(host))]
    except ValueError:
        literal = []
        assert answered, f"{result!r} passed without resolving its host"
    assert not any(oracle_refuses(address) for address in answered + literal), (result, answered)
