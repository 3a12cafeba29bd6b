"""Fetching the web (httpx): feeds, pages and sitemaps; the only fetcher of untrusted URLs.

Other httpx users talk only to configured endpoints: delivery/telegram.py (the Bot API)
and cli/status.py (the daemon's own /healthz).

GET with conditional headers; redirects followed here (at most 5, each hop's URL
checked, each connection checked by netguard), soft redirects too (a small 200 HTML
page moving on by Refresh header, meta refresh or script location, see
monitor.fetch.softredirect) within the same budget; bodies decompressed here in
bounded steps so a gzip/deflate/brotli bomb or an endless chunked body stops at
`max_bytes` of decompressed data; one overall deadline per request; a global
and a per-host limit on concurrent requests.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from monitor.errors import FetchError
from monitor.fetch.netguard import (
    GuardedBackend,
    GuardedTransport,
    Resolver,
    UnsafeURLError,
    checked_url,
    deadline,
    shown_url,
)
from monitor.fetch.softredirect import soft_target, unwrap_known

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # a news page or feed is far smaller; protects memory
MAX_REDIRECTS = 5
_STEP = 64 * 1024  # decompressed bytes produced per step
_REDIRECTS = {301, 302, 303, 307, 308}

try:  # optional: without it we do not advertise br
    import brotli
except ImportError:  # pragma: no cover
    brotli = None


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, message: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class FetchResult:
    """What a GET returned. `not_modified` is True for a 304 (content is empty)."""

    url: str  # final URL after redirects
    status: int
    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    not_modified: bool = False
    max_age: float | None = None  # Cache-Control max-age, seconds
    # hops taken before `url`: (URL, how) with how "http-301".."http-308", "refresh-header",
    # "meta-refresh" or "script"
    via: tuple[tuple[str, str], ...] = ()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_max_age(value: str | None) -> float | None:
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", value or "", re.I)
    return float(m.group(1)) if m else None


# ---- bounded decompression -------------------------------------------------
class _Decoder(Protocol):
    """One Content-Encoding layer: bounded pieces out for each piece in, then what is left at the end."""

    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def flush(self) -> Iterator[bytes]: ...


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)
        self._raw_deflate = wbits == zlib.MAX_WBITS  # "deflate" is often sent without its zlib header
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            if self._raw_deflate and (data[0] & 0x0F) != 8:
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
        while not self._d.eof:
            try:
                out = self._d.decompress(data, _STEP)
            except zlib.error as exc:
                raise FetchError(f"corrupt compressed body: {exc}") from None
            data = self._d.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < _STEP:  # input used up and no output pending
                return

    def flush(self) -> Iterator[bytes]:
        yield from self.feed(b"")


class _Brotli:
    def __init__(self) -> None:
        self._d = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            if self._d.is_finished():
                return
            out = self._d.process(data, output_buffer_limit=_STEP)
            while out:  # more output may be pending even when more input would be accepted
                yield out
                if self._d.is_finished():
                    return
                out = self._d.process(b"", output_buffer_limit=_STEP)
        except brotli.error as exc:
            raise FetchError(f"corrupt brotli body: {exc}") from None

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


def _decoders(content_encoding: str) -> list[_Decoder]:
    out: list[_Decoder] = []
    for name in reversed([e.strip().lower() for e in content_encoding.split(",") if e.strip()]):
        if name in ("gzip", "x-gzip"):
            out.append(_Zlib(16 + zlib.MAX_WBITS))
        elif name == "deflate":
            out.append(_Zlib(zlib.MAX_WBITS))
        elif name == "br" and brotli is not None:
            out.append(_Brotli())
        elif name != "identity":
            raise FetchError(f"unsupported Content-Encoding {name!r}")
    return out or [_Identity()]


def _decode(layers: list[_Decoder], data: bytes, final: bool = False) -> Iterator[bytes]:
    """Push `data` through each decoding layer in turn, one bounded piece at a time."""

    def run(i: int, piece: bytes, flush: bool) -> Iterator[bytes]:
        if i == len(layers):
            yield piece
            return
        for out in layers[i].feed(piece):
            yield from run(i + 1, out, False)
        if flush:
            for out in layers[i].flush():
                yield from run(i + 1, out, False)
            yield from run(i + 1, b"", True)

    for out in run(0, data, final):
        if out:
            yield out


# What Fetcher.from_config reads of a monitor Config (config is a higher layer: described, not imported).
class _DefaultsView(Protocol):
    @property
    def timeout(self) -> float: ...
    @property
    def user_agent(self) -> str: ...


class _FetchView(Protocol):
    @property
    def max_bytes(self) -> int: ...
    @property
    def allow_private_networks(self) -> bool: ...
    @property
    def allowed_networks(self) -> Sequence[str]: ...
    @property
    def max_connections(self) -> int: ...
    @property
    def max_per_host(self) -> int: ...


class ConfigView(Protocol):
    """The parts of a Config a Fetcher is built from (`defaults` and `fetch`)."""

    @property
    def defaults(self) -> _DefaultsView: ...
    @property
    def fetch(self) -> _FetchView: ...


class Fetcher:
    """A shared httpx client; thread-safe for concurrent GETs.

    `transport` replaces the network: by default a GuardedTransport (netguard), which
    checks every address connected to (SSRF) and bounds each socket operation by the
    request's deadline. Tests pass an `httpx.MockTransport` to drive redirects, bodies,
    headers and statuses without sockets; with one, `allow_private_networks`,
    `allowed_networks`, `resolver` and `ssl_context` (all netguard's) have no effect,
    while URL checks (`check_url`, on every hop), redirects, decompression and byte
    caps are this class's and apply the same.
    """

    def __init__(
        self,
        *,
        timeout: float,
        user_agent: str,
        max_bytes: int = MAX_BYTES,
        allow_private_networks: bool = False,
        allowed_networks: tuple[str, ...] = (),
        max_connections: int = 8,
        max_per_host: int = 2,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        # The address policy: connections use it, and so does unwrapping a wrapped link.
        self._policy = GuardedBackend(
            allow_private=allow_private_networks, resolver=resolver, allowed=tuple(allowed_networks)
        )
        if transport is None:
            backend = self._policy
            transport = GuardedTransport(backend, max_connections=max_connections, ssl_context=ssl_context)
        encodings = "gzip, deflate" + (", br" if brotli is not None else "")
        self._client = _Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"User-Agent": user_agent, "Accept-Language": "ar,en;q=0.5", "Accept-Encoding": encodings},
            event_hooks={"response": [refuse_odd_redirect]},
        )
        self._global = threading.BoundedSemaphore(max_connections)
        self._per_host = max_per_host
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: ConfigView) -> Fetcher:
        f = config.fetch
        return cls(
            timeout=config.defaults.timeout,
            user_agent=config.defaults.user_agent,
            max_bytes=f.max_bytes,
            allow_private_networks=f.allow_private_networks,
            allowed_networks=tuple(f.allowed_networks),
            max_connections=f.max_connections,
            max_per_host=f.max_per_host,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _host_slots(self, host: str) -> threading.BoundedSemaphore:
        """The semaphore bounding requests to `host` (urlsplit's hostname, lower-cased)."""
        sem = self._hosts.get(host)
        if sem is None:
            with self._hosts_lock:
                sem = self._hosts.setdefault(host, threading.BoundedSemaphore(self._per_host))
        return sem

    def unwrap(self, url: str) -> str | None:
        """The target a known wrapper link carries (softredirect.unwrap_known), or None;
        a target whose address literal this fetcher would refuse to connect to is None too."""
        return unwrap_known(url, self._policy.problem)

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        follow_soft: bool = True,
        fresh: bool = False,
    ) -> FetchResult:
        """GET `url`; raise FetchError naming the URL and the cause on any failure.

        `etag` / `last_modified` make it conditional; `fresh` asks caches on the way for a
        fresh copy (``Cache-Control: no-cache``: a full fetch, monitor.fetch.validators).

        HTTP redirects and (with `follow_soft`) soft redirects share one budget of
        MAX_REDIRECTS hops, one deadline and the same URL and connection checks;
        `FetchResult.via` lists the hops taken.
        """
        checked = checked_url(url)
        url = checked.url
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if fresh:
            headers["Cache-Control"] = headers["Pragma"] = "no-cache"
        current, end = url, None
        via: list[tuple[str, str]] = []
        seen = {url}
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                with self._host_slots(checked.host), self._global:  # host first: waiting for a busy
                    # host holds no global slot. The deadline starts once we hold a slot: waiting for
                    # a busy host is not its fault.
                    end = end or time.monotonic() + self.timeout
                    with deadline(self.timeout, end):
                        result = self._get_once(current, checked.parsed, headers, follow_soft)
                if isinstance(result, FetchResult):
                    return replace(result, via=tuple(via)) if via else result
                target, how, page = result
                if page is not None and target in seen:  # a soft-redirect loop: this page is the answer
                    log.info("soft redirect loop url=%s to=%s; page kept", current, target)
                    return replace(page, via=tuple(via)) if via else page
                via.append((current, how))
                seen.add(target)
                checked = checked_url(target)
                current = checked.url
            raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects")
        except FetchError as exc:
            if str(exc).startswith("GET "):
                raise
            raise type(exc)(f"GET {current}: {exc}") from None
        except httpx.InvalidURL as exc:  # not an HTTPError: a URL httpx itself cannot build
            raise UnsafeURLError(f"GET {current}: unusable URL: {exc}") from None
        except httpx.TimeoutException:
            raise FetchError(f"GET {current}: timed out (no complete answer within {self.timeout:.0f}s)") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"GET {current}: {type(exc).__name__}: {exc}") from None

    def _get_once(
        self, url: str, parsed: httpx.URL, headers: dict[str, str], follow_soft: bool = False
    ) -> FetchResult | tuple[str, str, FetchResult | None]:
        """One request of `url` (`parsed` is httpx's parse of it, checked_url's): a FetchResult,
        or (next URL, how, the page itself for a soft redirect)."""
        with self._client.stream("GET", parsed, headers=headers) as resp:
            if resp.is_stream_consumed:  # decoded by httpx already: the byte caps below could not hold
                raise TypeError("the transport returned a response already read; build it with stream=, not content=")
            if resp.status_code in _REDIRECTS:
                location: str | None = resp.headers.get("location")
                if not location:
                    raise FetchError(f"GET {url}: HTTP {resp.status_code} without Location")
                try:
                    target = urljoin(url, location.strip())
                    urlsplit(target)
                except ValueError as exc:  # e.g. "http://[zz/": an unparsable host
                    raise UnsafeURLError(
                        f"GET {url}: redirect to an unusable URL ({shown_url(location)}): {exc}"
                    ) from None
                return target, f"http-{resp.status_code}", None
            if resp.status_code == 304:
                if _bodiless(resp.headers):
                    # A 304 has no body (RFC 9110 15.4.5): ending the response lets its connection
                    # go back to the pool. Left unread, the pool closed it, and the next poll of
                    # the host paid a new connection (resolver thread, TCP, TLS handshake).
                    resp.read()
                return FetchResult(
                    url,
                    304,
                    b"",
                    "",
                    resp.headers.get("etag"),
                    resp.headers.get("last-modified"),
                    True,
                    parse_max_age(resp.headers.get("cache-control")),
                )
            if resp.status_code >= 400 or resp.status_code < 200:
                raise HTTPStatusError(
                    f"GET {url}: HTTP {resp.status_code}",
                    resp.status_code,
                    parse_retry_after(resp.headers.get("retry-after")),
                )
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchError(f"GET {url}: body larger than {self.max_bytes} bytes")
            layers = _decoders(resp.headers.get("content-encoding", ""))
            chunks, size = [], 0
            raw = resp.iter_raw(_STEP)
            plain = len(layers) == 1 and isinstance(layers[0], _Identity)  # no generator layers to pass
            for piece in raw if plain else _chain(layers, raw):
                if not piece:
                    continue
                size += len(piece)
                if size > self.max_bytes:
                    raise FetchError(
                        f"GET {url}: body larger than {self.max_bytes} bytes (counted after decompression)"
                    )
                chunks.append(piece)
            content = b"".join(chunks)
            content_type = resp.headers.get("content-type", "")
            page = FetchResult(
                url=url,
                status=resp.status_code,
                content=content,
                content_type=content_type,
                etag=resp.headers.get("etag"),
                last_modified=resp.headers.get("last-modified"),
                max_age=parse_max_age(resp.headers.get("cache-control")),
            )
            if follow_soft and resp.status_code == 200:
                soft = soft_target(content, content_type, resp.headers.get("refresh"), url)
                if soft is not None:
                    log.info("soft redirect url=%s to=%s how=%s", url, soft[0], soft[1])
                    return soft[0], soft[1], page
            return page


class _Cookies(httpx.Cookies):
    """httpx's cookie store, which reads an answer's cookies only when it sets some: httpx
    builds two urllib wrappers of every answer to find none (≈ 0.1 ms a request, issue 16)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.Client):
    """httpx.Client with the _Cookies store (cookies persist across requests as before)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._store = _Cookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._store

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._store = _Cookies(cookies)


def _bodiless(headers: httpx.Headers) -> bool:
    """A 304 that announces no body: its connection may serve the next request. One with a
    Content-Length above 0 or a Transfer-Encoding may be followed by bytes h11 would read as
    the next response ("illegal status line"): such a connection is closed, as before."""
    return headers.get("content-length", "0").strip() == "0" and "transfer-encoding" not in headers


def refuse_odd_redirect(response: httpx.Response) -> None:
    """httpx response hook: a redirect whose Location is not an http(s) URL
    (``javascript:``, ``data:``, ``file:``, ``mailto:``...) raises UnsafeURLError
    naming the scheme (the target shown cut and escaped), before httpx tries to
    build a request from it."""
    if response.status_code not in _REDIRECTS:
        return
    location = response.headers.get("location")
    if not location:
        return
    # browsers ignore tabs/newlines and leading controls in a URL: so do we, to see the scheme
    squeezed = "".join(ch for ch in location if ord(ch) > 0x20 and ord(ch) != 0x7F)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", squeezed)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise UnsafeURLError(
            f"GET {response.request.url}: redirect to a {scheme.group(1).lower()}: URL refused "
            f"({shown_url(location)}); only http and https are followed"
        )


def _chain(layers: list[_Decoder], raw: Iterator[bytes]) -> Iterator[bytes]:
    for data in raw:
        yield from _decode(layers, data)
    yield from _decode(layers, b"", final=True)
