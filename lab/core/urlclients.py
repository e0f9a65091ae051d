"""HTTP clients that obey the URL guard: they resolve, check and connect in one step.

The policy lives in `lab.core.urlguard`; these adapters apply it inside
requests (a urllib3 connection class) and aiohttp (a resolver and a trace
config), so a name that resolves to a public address when checked and to
127.0.0.1 when connected (DNS rebinding) never reaches 127.0.0.1, and every
redirect hop goes through the same check. requests, urllib3 and aiohttp load
when a guarded client is asked for, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from typing import TYPE_CHECKING, Any

from lab.core.errors import RefusedURL
from lab.core.urlguard import MAX_REDIRECTS, AddrInfo, Allow, check_public_url, resolve_checked

if TYPE_CHECKING:
    import aiohttp
    import requests


def connect_checked(
    addresses: list[AddrInfo],
    timeout: Any,
    source_address: tuple[str, int] | None = None,
    socket_options: list[tuple[int, int, Any]] | None = None,
) -> socket.socket:
    """Open a TCP connection to the first checked address that answers (urllib3's way)."""
    from urllib3.util.timeout import _DEFAULT_TIMEOUT

    error: OSError | None = None
    for family, kind, proto, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not _DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            error = exc
            sock.close()
    raise error or OSError("no address to connect to")


@functools.cache
def guarded_adapter_class() -> type:
    """A requests HTTPAdapter whose connections resolve, check and connect in `_new_conn`.

    Overriding only the socket creation keeps everything else of urllib3: the
    Host header and TLS SNI and certificate checks still use the URL's host.
    """
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

    class GuardedConnection:
        allow: frozenset[tuple[str, int]] = frozenset()

        def _new_conn(self: Any) -> socket.socket:
            try:
                addresses = resolve_checked(self._dns_host.strip("[]"), self.port, self.allow)
            except socket.gaierror as exc:
                raise NameResolutionError(self.host, self, exc) from exc
            try:
                return connect_checked(addresses, self.timeout, self.source_address, self.socket_options)
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc

    class GuardedAdapter(HTTPAdapter):
        def __init__(self, allow: Allow, **kwargs: Any) -> None:
            self.allow = frozenset(allow)
            super().__init__(**kwargs)

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            extra = {"allow": self.allow}
            http = type("GuardedHTTPConnection", (GuardedConnection, HTTPConnection), extra)
            https = type("GuardedHTTPSConnection", (GuardedConnection, HTTPSConnection), extra)
            self.poolmanager.pool_classes_by_scheme = {
                "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
                "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
            }

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            raise RefusedURL("public mode does not fetch through proxies")

    return GuardedAdapter


def guarded_requests_session(
    allow: Allow = frozenset(), max_redirects: int = MAX_REDIRECTS
) -> requests.Session:
    """A requests Session that only ever connects to checked addresses, redirects included.

    Proxies and .netrc from the environment are ignored (a proxy would connect
    on our behalf, unchecked). More than `max_redirects` hops raise
    requests.TooManyRedirects; a refused hop raises RefusedURL.
    """
    import requests

    session = requests.Session()
    session.trust_env = False
    session.max_redirects = max_redirects
    adapter = guarded_adapter_class()(allow)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@functools.cache
def guarded_resolver_class() -> type:
    from aiohttp.abc import AbstractResolver, ResolveResult

    class GuardedResolver(AbstractResolver):
        """An aiohttp resolver that returns only checked addresses and refuses the rest.

        aiohttp does not ask a resolver about IP literals: `guarded_trace_config`
        checks those, at every hop.
        """

        def __init__(self, allow: Allow = frozenset()) -> None:
            self.allow = frozenset(allow)

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            loop = asyncio.get_running_loop()
            infos = await loop.run_in_executor(None, resolve_checked, host, port, self.allow, family)
            flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
            return [
                {
                    "hostname": host,
                    "host": sockaddr[0],
                    "port": sockaddr[1],
                    "family": af,
                    "proto": proto,
                    "flags": flags,
                }
                for af, _kind, proto, sockaddr in infos
            ]

        async def close(self) -> None:
            return None

    return GuardedResolver


def __getattr__(name: str) -> Any:
    """`GuardedResolver` is built on first use, so importing this module does not import aiohttp."""
    if name == "GuardedResolver":
        return guarded_resolver_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def guarded_trace_config(
    allow: Allow = frozenset(), max_redirects: int = MAX_REDIRECTS
) -> aiohttp.TraceConfig:
    """Checks the first URL and every redirect target without DNS (the resolver does names), capped."""
    import aiohttp
    from yarl import URL

    async def on_start(session: Any, context: Any, params: Any) -> None:
        context.redirects = 0
        check_public_url(str(params.url), allow, resolve=False)

    async def on_redirect(session: Any, context: Any, params: Any) -> None:
        context.redirects += 1
        response = params.response
        location = response.headers.get("Location") or response.headers.get("URI")
        if location is None:
            return
        try:
            target = response.url.join(URL(location))
        except ValueError:
            return  # aiohttp refuses a malformed Location itself
        try:
            if context.redirects > max_redirects:
                raise RefusedURL(f"more than {max_redirects} redirects: public mode stops there")
            check_public_url(str(target), allow, resolve=False)
        except RefusedURL:
            response.close()
            raise

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_redirect.append(on_redirect)
    return trace


def guarded_session_options(
    allow: Allow = frozenset(), max_redirects: int = MAX_REDIRECTS, **connector_options: Any
) -> dict[str, Any]:
    """Keyword arguments for aiohttp.ClientSession (inside a running loop) that guard every request."""
    import aiohttp

    resolver = guarded_resolver_class()(allow)
    return {
        "connector": aiohttp.TCPConnector(resolver=resolver, **connector_options),
        "trace_configs": [guarded_trace_config(allow, max_redirects)],
        "trust_env": False,
    }
