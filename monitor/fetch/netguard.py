"""Where fetches may connect: URL sanity, address policy, checks at connect time.

The address check runs inside the httpcore network backend, on the addresses the
name actually resolved to, and the socket is connected to the very address that
was checked; so a DNS answer that changes between a check and the connect (DNS
rebinding) cannot reach a private address, and every redirect hop is checked
the same way because every new connection goes through here. The same layer
enforces the overall per-request deadline (a thread-local set by the Fetcher),
so a server that drips one byte at a time cannot hold a worker forever.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import httpcore
import httpx

from monitor.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IANA special-purpose ranges (RFC 6890 registries) that are not globally reachable but
# that Python's `ipaddress` (3.11) treats as global; the others it already flags.
_SPECIAL: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = (
    (ipaddress.ip_network("192.0.0.0/24"), "IETF protocol assignments"),
    (ipaddress.ip_network("192.88.99.0/24"), "deprecated 6to4 relay anycast"),
    (ipaddress.ip_network("fec0::/10"), "site-local (deprecated)"),
    (ipaddress.ip_network("3fff::/20"), "documentation"),
)


class BlockedAddressError(FetchError):
    """The URL points at an address fetches may not reach."""


class UnsafeURLError(FetchError):
    """The URL is not a plain http(s) URL."""


class DeadlineError(FetchError):
    """The request took longer than its overall deadline."""


def address_problem(ip: IPAddress) -> str | None:
    """Why `ip` is not a public unicast address (None if it is)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_problem(embedded)
            return f"embeds {embedded}, {inner}" if inner else None
    for attr, label in (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attr):
            return label
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT"
    for net, label in _SPECIAL:
        if ip.version == net.version and ip in net:
            return label
    if ip.is_private or not ip.is_global:
        return "private"
    return None


class CheckedURL(NamedTuple):
    """A URL `checked_url` accepted: the text, its host as urlsplit gives it lower-cased
    (the per-host key of connection limits), and httpx's parse of the text (the request's
    URL, so it is parsed once)."""

    url: str
    host: str
    parsed: httpx.URL


def check_url(url: str) -> str:
    """Refuse anything but a plain absolute http(s) URL; returns it (spaces in the
    path or query percent-encoded). The rules are `checked_url`'s."""
    return checked_url(url).url


def checked_url(url: str) -> CheckedURL:
    """Refuse anything but a plain absolute http(s) URL; returns it (spaces in the
    path or query percent-encoded) with its host and httpx parse (CheckedURL).

    Parsers disagree on backslashes, credentials and whitespace in the host part
    (`http://a\\@b/` is host `a` for browsers and `b` for RFC 3986 parsers), so
    such URLs are refused rather than guessed at; so is any control character.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeURLError(f"GET {url!r}: empty URL")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeURLError(f"GET {url!r}: URL holds a control character")
    scheme, sep, rest = url.partition("://")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0] if sep else ""
    if "\\" in authority or " " in authority:
        raise UnsafeURLError(f"GET {url!r}: URL holds a backslash or space in its host part")
    url = url.replace(" ", "%20")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed "[" in the host
        raise UnsafeURLError(f"GET {shown_url(url)}: invalid URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURLError(f"GET {url}: only http and https URLs are fetched")
    if "@" in parts.netloc:
        raise UnsafeURLError(f"GET {url}: URLs with credentials (user@host) are refused")
    try:
        parsed = httpx.URL(url)
        port = parts.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise UnsafeURLError(f"GET {url}: invalid URL: {exc}") from None
    host = (parts.hostname or "").lower()
    same_host = parsed.host.lower() == host or parsed.raw_host.decode("ascii").lower() == _idna(host)
    if not host or not same_host or (port is not None and parsed.port not in (port, None)):
        raise UnsafeURLError(f"GET {url}: ambiguous host")
    return CheckedURL(url, host, parsed)


def shown_url(url: str, limit: int = 100) -> str:
    """`url` fit for a message: control characters escaped (``repr`` style) and
    cut to `limit` characters with "..."."""
    text = url if len(url) <= limit else url[:limit] + "..."
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _idna(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii").lower() if not host.isascii() else host
    except UnicodeError:
        return host


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# ---- the overall deadline of the current request (per thread) -------------
_local = threading.local()


class deadline:  # lower-case: used as a function, ``with deadline(10):``
    """Bound every socket operation in this block to `seconds` from now in total
    (or to the monotonic time `end`, for a request that spans several blocks).
    A class, not a generator: it is entered on every request (issue 16)."""

    __slots__ = ("_end", "_previous", "_seconds")

    def __init__(self, seconds: float, end: float | None = None) -> None:
        self._seconds, self._end = seconds, end
        self._previous: float | None = None

    def __enter__(self) -> None:
        self._previous = getattr(_local, "deadline", None)
        _local.deadline = self._end if self._end is not None else time.monotonic() + self._seconds
        _local.total = self._seconds

    def __exit__(self, *exc: object) -> None:
        _local.deadline = self._previous


def _remaining(timeout: float | None) -> float | None:
    end: float | None = getattr(_local, "deadline", None)  # monotonic seconds
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise DeadlineError(f"no complete answer within {getattr(_local, 'total', 0):.0f}s")
    return left if timeout is None else min(timeout, left)


_DNS_THREADS = threading.BoundedSemaphore(8)  # resolutions in flight; a stuck resolver holds one


def resolve_within(resolver: Resolver, host: str, port: int, timeout: float | None) -> list[str]:
    """`resolver(host, port)` bounded by the request deadline (and `timeout`).

    getaddrinfo has no timeout of its own, so it runs in a daemon thread (at most 8 at
    once; when all are stuck, DeadlineError at once) and is abandoned at the deadline:
    DeadlineError "resolving HOST took more than Ns". Errors of the resolver pass through."""
    left = _remaining(timeout)
    if not _DNS_THREADS.acquire(blocking=False):
        raise DeadlineError(f"resolving {host}: every resolver thread is busy (a slow DNS server?)")
    box: list[list[str] | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            box.append(resolver(host, port))
        except BaseException as exc:  # handed to the caller
            box.append(exc)
        finally:
            _DNS_THREADS.release()
            done.set()

    threading.Thread(target=run, name="resolve", daemon=True).start()
    if not done.wait(left):
        raise DeadlineError(f"resolving {host} took more than {left or 0:.0f}s")
    result = box[0]
    if isinstance(result, BaseException):
        raise result
    return result


class _Stream(httpcore.NetworkStream):
    """A socket stream whose every read and write honours the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Resolve, check every address, connect to a checked address."""

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None, allowed: tuple[str, ...] = ()) -> None:
        self.allow_private = allow_private
        self.resolver = resolver or system_resolver
        self.allowed = tuple(ipaddress.ip_network(n, strict=False) for n in allowed)

    def problem(self, ip: IPAddress) -> str | None:
        """Why connecting to `ip` is refused (None: allowed)."""
        if self.allow_private or any(ip.version == n.version and ip in n for n in self.allowed):
            return None
        return address_problem(ip)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        resolved = resolve_within(self.resolver, host, port, timeout)
        addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolved]
        if not addresses:
            raise FetchError(f"cannot resolve {host}: no addresses")
        for ip in addresses:  # one bad answer is enough: it is what rebinding serves
            why = self.problem(ip)
            if why:
                raise BlockedAddressError(
                    f"{host} resolves to {ip} ({why}); refused (see fetch.allow_private_networks "
                    f"and fetch.allowed_networks)"
                )
        error: Exception | None = None
        for ip in addresses:
            try:
                stream = super().connect_tcp(str(ip), port, _remaining(timeout), local_address, socket_options)
                return _Stream(stream)
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded backend under its connection pool."""

    def __init__(self, backend: GuardedBackend, *, max_connections: int, ssl_context: Any = None) -> None:
        # One TLS context (loading the CA bundle costs ≈ 25 ms CPU, issue 16), given to httpx's
        # transport and to the pool that replaces its own.
        ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
        super().__init__(
            verify=ssl_context,
            trust_env=False,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        )
        # httpx builds its pool without a way to pass a backend: rebuild it with ours.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=5.0,
            network_backend=backend,
        )
