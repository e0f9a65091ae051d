"""The URL guard of public mode: fetch public hosts only, and connect only to addresses checked.

A hosted lab that downloads any URL a visitor types would let them reach the
host's own network: loopback services, the cloud metadata endpoint at
169.254.169.254, private ranges. So public mode refuses URLs whose host is, or
resolves to, anything but a public address, and the HTTP clients resolve,
check and connect in one step: a name that resolves to a public address when
checked and to 127.0.0.1 when connected (DNS rebinding) never reaches
127.0.0.1, and every redirect hop goes through the same check. The embedded
latency server (127.0.0.1 on its own port) stays reachable through `allow`.

This module is the policy, standard library only; the guarded requests and
aiohttp clients that apply it are in `lab.core.urlclients`. `check_url` is
the syntax check every URL gets, public mode or not.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from lab.core import config
from lab.core.errors import RefusedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Allow = Collection[tuple[str, int]]
SockAddr = tuple[Any, ...]
AddrInfo = tuple[int, int, int, SockAddr]

MAX_REDIRECTS = 5
ALLOW_ENV = config.URL_ALLOW
DEFAULT_PORTS = {"http": 80, "https": 443}
WHY = "public mode only fetches public hosts"
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
NUMERIC_LABEL = re.compile(r"(0x[0-9a-f]*|[0-9]+)")
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")


def address_problem(ip: IPAddress) -> str | None:
    """Why an address is not public (as 'a loopback address'), or None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped IPv6 address"
        for label, inner in embedded_ipv4(ip):
            problem = address_problem(inner)
            if problem:
                return f"the {label} form of {inner}, {problem}"
    checks = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address (where cloud metadata lives)"),
        (ip in SHARED_ADDRESS_SPACE, "in the shared address space 100.64.0.0/10"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((problem for refused, problem in checks if refused), None)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    found: list[tuple[str, ipaddress.IPv4Address]] = []
    if ip.ipv4_mapped is not None:
        found.append(("IPv4-mapped", ip.ipv4_mapped))
    if ip in IPV4_COMPATIBLE and int(ip) > 1:
        found.append(("IPv4-compatible", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    if ip.sixtofour is not None:
        found.append(("6to4", ip.sixtofour))
    if ip.teredo is not None:
        server, client = ip.teredo
        found += [("Teredo server", server), ("Teredo client", client)]
    if ip in NAT64:
        found.append(("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return found


def is_allowed(ip: IPAddress, port: int, allow: Allow) -> bool:
    return (str(ip), port) in allow


def check_address(ip: IPAddress, port: int, allow: Allow, host: str | None = None) -> None:
    """Raise RefusedURL unless `ip` is public or (ip, port) is allowed."""
    if is_allowed(ip, port, allow):
        return
    problem = address_problem(ip)
    if problem:
        shown = f"{host} resolves to {ip}, which is" if host else f"{ip} is"
        raise RefusedURL(f"{shown} {problem}: {WHY}")


def parse_target(url: str) -> tuple[str, int, IPAddress | None]:
    """Host (ASCII, lower case), port and literal address of a URL, refusing forms that hide a host.

    No DNS here: this is the part of the check that is the same at every hop.
    """
    if UNSAFE_CHARACTERS.search(url):
        raise RefusedURL("URL contains spaces, control characters or backslashes: public mode refuses them")
    url = check_url(url)
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise RefusedURL("URL has a user name or password (user@host), which can disguise the host: " + WHY)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme.lower()]
    if ":" in host:
        try:
            return host, port, ipaddress.IPv6Address(host)
        except ValueError:
            raise RefusedURL(f"{host!r} is not a valid IPv6 address") from None
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise RefusedURL(f"{host!r} is not a valid host name") from None
    if not HOST_NAME.fullmatch(host):
        raise RefusedURL(f"{host!r} is not a valid host name")
    if NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:
            literal = None
        if literal is None or str(literal) != host:
            raise RefusedURL(
                f"{host} is not a standard dotted-quad IPv4 address "
                f"(decimal, octal, hex and short forms can hide a private one): {WHY}"
            )
        return host, port, literal
    return host, port, None


def check_public_url(url: str, allow: Allow = frozenset(), *, resolve: bool = True) -> str:
    """Return `url` if public mode may fetch it; raise RefusedURL saying why not.

    Every address the host resolves to must be public, unless (address, port)
    is in `allow`. `resolve=False` skips DNS (literal addresses are still
    checked), for callers whose connections are checked by a guarded resolver.
    """
    url = str(url).strip()
    host, port, literal = parse_target(url)
    if literal is not None:
        check_address(literal, port, allow)
    elif resolve:
        try:
            resolve_checked(host, port, allow)
        except OSError as exc:
            raise RefusedURL(f"cannot resolve host {host}: {exc}") from None
    return url


def resolve_checked(host: str, port: int, allow: Allow, family: int = socket.AF_UNSPEC) -> list[AddrInfo]:
    """Resolve once and check every address; connect only to what this returns.

    Raises OSError (socket.gaierror) when the name does not resolve and
    RefusedURL when any address is not public.
    """
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except (UnicodeError, ValueError) as exc:
        raise socket.gaierror(socket.EAI_NONAME, f"invalid host name: {exc}") from None
    if not infos:
        raise socket.gaierror(socket.EAI_NONAME, f"{host} has no addresses")
    checked: list[AddrInfo] = []
    for af, kind, proto, _name, sockaddr in infos:
        if af not in (socket.AF_INET, socket.AF_INET6):
            raise RefusedURL(f"{host} resolves to a non-IP address: {WHY}")
        ip = ipaddress.ip_address(str(sockaddr[0]))
        check_address(ip, port, allow, None if host == str(ip) else host)
        checked.append((af, kind, proto, sockaddr))
    return checked


def allow_for(url: str) -> frozenset[tuple[str, int]]:
    """The (address, port) of the embedded server at `url`, for `allow`."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(parts.hostname or "")
    return frozenset({(str(ip), parts.port or DEFAULT_PORTS[parts.scheme])})


def allow_env(allow: Allow) -> dict[str, str]:
    """Environment for a child process (and its pool workers) that must honour `allow`."""
    return {ALLOW_ENV: ",".join(f"{host}|{port}" for host, port in sorted(allow))}


def allow_from_env(env: Mapping[str, str] = os.environ) -> frozenset[tuple[str, int]]:
    """The allow list set by `allow_env`; malformed entries are dropped, never widened."""
    allowed: set[tuple[str, int]] = set()
    for item in env.get(ALLOW_ENV, "").split(","):
        host, _, port = item.strip().rpartition("|")
        try:
            allowed.add((str(ipaddress.ip_address(host)), int(port)))
        except ValueError:
            continue
    return frozenset(allowed)


MAX_URL_LENGTH = 2048


def check_url(value: Any) -> str:
    """Syntax only: http or https with a host. Public mode checks the address too."""
    url = str(value).strip()
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise RefusedURL(f"malformed URL {url[:80]!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme or "none"
        raise RefusedURL(f"unsupported URL scheme {shown!r}: only http and https are fetched")
    if not parts.hostname:
        raise RefusedURL(f"URL {url[:80]!r} has no host")
    if port == 0:
        raise RefusedURL(f"URL {url[:80]!r} has port 0")
    return url
