"""Fetcher logic over httpx.MockTransport: redirects, decompression caps, byte caps, 304/ETag, Retry-After.

No sockets here: the SSRF guard lives in the real transport (netguard) and is
tested over it in tests/integration/test_fetch_guard.py. URL checks on every hop
are the Fetcher's own, so they are tested here too.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

import brotli
import httpx
import pytest

from monitor.errors import FetchError
from monitor.fetch.client import Fetcher, FetchResult, HTTPStatusError, parse_max_age, parse_retry_after
from monitor.fetch.netguard import UnsafeURLError
from tests.support.corpus_pages import saudinewsnet_articles

BASE = "https://news.example.org"
TEXT = "\n\n".join(a["content"] for a in saudinewsnet_articles("2015-07-21")[:3]).encode()  # real Arabic text


class Chunks(httpx.SyncByteStream):
    """A response body as the network gives it: pieces, read lazily; counts how many were pulled."""

    def __init__(self, pieces: Iterable[bytes]) -> None:
        self.pieces = iter(pieces)
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        for piece in self.pieces:
            self.pulled += 1
            yield piece


def reply(status: int = 200, body: bytes | Chunks = b"", headers: dict[str, str] | None = None) -> httpx.Response:
    stream = body if isinstance(body, Chunks) else Chunks([body[i : i + 8192] for i in range(0, len(body), 8192)])
    return httpx.Response(status, headers=headers or {}, stream=stream)


def fetcher(handler: Callable[[httpx.Request], httpx.Response], *, max_bytes: int = 1024 * 1024) -> Fetcher:
    return Fetcher(timeout=10, user_agent="monitor-test", max_bytes=max_bytes, transport=httpx.MockTransport(handler))


def routes(table: dict[str, Callable[[httpx.Request], httpx.Response]], seen: list[httpx.Request] | None = None):
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return table[str(request.url)](request)

    return handler


# ---- redirects -------------------------------------------------------------------
def test_redirects_are_followed_hop_by_hop_to_the_final_url():
    seen: list[httpx.Request] = []
    table = {
        f"{BASE}/feed": lambda r: reply(301, headers={"location": "/moved"}),  # relative Location
        f"{BASE}/moved": lambda r: reply(302, headers={"location": "https://cdn.example.net/feed.xml"}),
        "https://cdn.example.net/feed.xml": lambda r: reply(308, headers={"location": " /final.xml "}),  # padded
        "https://cdn.example.net/final.xml": lambda r: reply(200, TEXT, {"content-type": "text/plain; charset=utf-8"}),
    }
    with fetcher(routes(table, seen)) as f:
        result = f.get(f"{BASE}/feed", etag='"v1"')
    assert result.url == "https://cdn.example.net/final.xml" and result.content == TEXT
    assert result.content_type == "text/plain; charset=utf-8"
    assert [r.headers.get("if-none-match") for r in seen] == ['"v1"'] * 4  # validators go with every hop
    assert all(r.headers["user-agent"] == "monitor-test" for r in seen)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed(status):
    table = {
        f"{BASE}/a": lambda r: reply(status, headers={"location": f"{BASE}/b"}),
        f"{BASE}/b": lambda r: reply(200, b"ok"),
    }
    with fetcher(routes(table)) as f:
        assert f.get(f"{BASE}/a").content == b"ok"


def test_more_than_five_redirects_is_an_error():
    hops: list[str] = []

    def loop(request: httpx.Request) -> httpx.Response:
        hops.append(str(request.url))
        return reply(302, headers={"location": f"/r{len(hops)}"})

    with fetcher(loop) as f, pytest.raises(FetchError, match="more than 5 redirects"):
        f.get(f"{BASE}/r0")
    assert len(hops) == 6  # the first request and five redirects, then it stops


@pytest.mark.parametrize(
    "location, error, message",
    [
        (None, FetchError, "HTTP 302 without Location"),
        ("file:///etc/passwd", UnsafeURLError, "only http and https"),
        ("ftp://news.example.org/feed", UnsafeURLError, "only http and https"),
        ("http://user:pw@news.example.org/", UnsafeURLError, "credentials"),
        ("http://a\\@news.example.org/", UnsafeURLError, "backslash"),
    ],
)
def test_a_redirect_is_checked_like_a_first_url(location, error, message):
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requested.append(str(request.url))
        return reply(302, headers={"location": location} if location else {})

    with fetcher(handler) as f, pytest.raises(error, match=message):
        f.get(f"{BASE}/feed")
    assert requested == [f"{BASE}/feed"]  # the refused hop is never requested


# ---- decompression and the byte cap ---------------------------------------------------
def _deflate_raw(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


ENCODINGS = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,  # zlib-wrapped, as the RFC says
    "br": lambda d: brotli.compress(d, quality=4),
}


@pytest.mark.parametrize(
    "encoding, encode",
    [
        *ENCODINGS.items(),
        ("deflate", _deflate_raw),  # raw deflate, as many servers send it
        ("gzip, br", lambda d: brotli.compress(gzip.compress(d))),  # stacked: applied in the listed order
        ("identity", lambda d: d),
        ("GZIP", gzip.compress),
    ],
)
def test_bodies_are_decompressed(encoding, encode):
    with fetcher(lambda r: reply(200, encode(TEXT), {"content-encoding": encoding})) as f:
        assert f.get(f"{BASE}/a").content == TEXT


# Decompression bombs, rebuilt from public reports of this kind: mnot/httplint#145 (gzip and brotli
# without an output bound; the cap must hold however the input is chunked), headroomlabs-ai/headroom#3325
# (a Content-Length gate counts compressed bytes only; each codec needs its own bound) and
# milwil-2/climb-elo#203 (no cap on the decoded body at all).
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_decompression_bomb_stops_at_max_bytes_decompressed(encoding):
    bomb = b"\0" * (16 * 1024 * 1024)
    packed = ENCODINGS[encoding](bomb)
    assert len(packed) < 100 * 1024  # small on the wire: a Content-Length check alone would let it in
    headers = {"content-encoding": encoding, "content-length": str(len(packed))}
    with fetcher(lambda r: reply(200, packed, headers), max_bytes=1024 * 1024) as f:
        with pytest.raises(FetchError, match="counted after decompression"):
            f.get(f"{BASE}/bomb")


@pytest.mark.parametrize(
    "encoding, body, message",
    [
        ("gzip", b"\x1f\x8b\x08\x00not gzip at all", "corrupt compressed body"),
        ("br", b"\xff\xff\xff\xff not brotli", "corrupt brotli body"),
        ("compress", b"whatever", "unsupported Content-Encoding 'compress'"),
        ("zstd", b"whatever", "unsupported Content-Encoding 'zstd'"),
    ],
)
def test_bad_encodings_are_fetch_errors(encoding, body, message):
    with (
        fetcher(lambda r: reply(200, body, {"content-encoding": encoding})) as f,
        pytest.raises(FetchError, match=message),
    ):
        f.get(f"{BASE}/a")


def test_a_declared_length_over_the_cap_is_refused_before_reading():
    stream = Chunks([b"x" * 1024] * 10)
    headers = {"content-length": str(2 * 1024 * 1024)}
    with fetcher(lambda r: reply(200, stream, headers), max_bytes=1024 * 1024) as f:
        with pytest.raises(FetchError, match="body larger than 1048576 bytes$"):
            f.get(f"{BASE}/big")
    assert stream.pulled == 0


def test_an_endless_body_without_length_stops_at_the_cap():
    def endless() -> Iterator[bytes]:
        while True:
            yield b"x" * 4096

    stream = Chunks(endless())
    with fetcher(lambda r: reply(200, stream), max_bytes=64 * 1024) as f:
        with pytest.raises(FetchError, match="counted after decompression"):
            f.get(f"{BASE}/endless")
    assert stream.pulled <= (64 * 1024 + 64 * 1024) // 4096  # at most one 64 KiB read step past the cap


@pytest.mark.parametrize("size, ok", [(64 * 1024, True), (64 * 1024 + 1, False)])
def test_the_cap_is_inclusive(size, ok):
    body = b"y" * size
    with fetcher(lambda r: reply(200, gzip.compress(body), {"content-encoding": "gzip"}), max_bytes=64 * 1024) as f:
        if ok:
            assert f.get(f"{BASE}/a").content == body
        else:
            with pytest.raises(FetchError):
                f.get(f"{BASE}/a")


# ---- conditional GET -------------------------------------------------------------
def test_validators_are_sent_and_a_304_carries_no_body():
    seen: list[httpx.Request] = []
    headers = {"etag": '"v2"', "last-modified": "Tue, 21 Jul 2015 10:00:00 GMT", "cache-control": "public, max-age=300"}
    with fetcher(routes({f"{BASE}/feed": lambda r: reply(304, b"", headers)}, seen)) as f:
        result = f.get(f"{BASE}/feed", etag='"v1"', last_modified="Mon, 20 Jul 2015 10:00:00 GMT")
    assert seen[0].headers["if-none-match"] == '"v1"'
    assert seen[0].headers["if-modified-since"] == "Mon, 20 Jul 2015 10:00:00 GMT"
    assert result == FetchResult(
        f"{BASE}/feed", 304, b"", "", '"v2"', "Tue, 21 Jul 2015 10:00:00 GMT", not_modified=True, max_age=300.0
    )


def test_no_validators_no_conditional_headers_and_a_200_returns_new_ones():
    seen: list[httpx.Request] = []
    headers = {"etag": 'W/"abc"', "last-modified": "Tue, 21 Jul 2015 10:00:00 GMT"}
    with fetcher(routes({f"{BASE}/feed": lambda r: reply(200, TEXT, headers)}, seen)) as f:
        result = f.get(f"{BASE}/feed")
    assert "if-none-match" not in seen[0].headers and "if-modified-since" not in seen[0].headers
    assert (result.not_modified, result.etag, result.last_modified, result.max_age) == (
        False,
        'W/"abc"',
        "Tue, 21 Jul 2015 10:00:00 GMT",
        None,
    )


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("max-age=60", 60.0),
        ("public, max-age=600, must-revalidate", 600.0),
        ('max-age="30"', 30.0),
        ("MAX-AGE = 5", 5.0),
    ],
)
def test_max_age(value, seconds):
    assert parse_max_age(value) == seconds


@pytest.mark.parametrize("value", [None, "", "no-cache", "s-maxage=60", "max-age=-1", "x-max-age=60"])
def test_no_max_age(value):
    assert parse_max_age(value) is None


# ---- error statuses and Retry-After ----------------------------------------------------
@pytest.mark.parametrize(
    "status, retry_after, expected",
    [
        (429, "120", 120.0),
        (503, "0", 0.0),
        (503, None, None),
        (404, None, None),
        (500, "soon", None),
        (101, None, None),
    ],
)
def test_error_statuses_carry_retry_after(status, retry_after, expected):
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    with fetcher(lambda r: reply(status, b"", headers)) as f, pytest.raises(HTTPStatusError) as err:
        f.get(f"{BASE}/feed")
    assert (err.value.status, err.value.retry_after) == (status, expected)
    assert str(err.value) == f"GET {BASE}/feed: HTTP {status}"


NOW = datetime(2026, 8, 13, 15, 0, 0, tzinfo=UTC)


# Retry-After parsing, rebuilt from public reports of this kind: wisecom-oy/atlas#229 (an HTTP-date
# ignored; "120" and "-5" read as dates), mastra-ai/mastra#23778 ("-3" and "1.5" read as years),
# AstroVela/vane#170 (an HTTP-date must count from now, a past one clamped to zero).
@pytest.mark.parametrize(
    "value, seconds",
    [
        ("120", 120.0),
        (" 30 ", 30.0),
        ("Thu, 13 Aug 2026 15:02:00 GMT", 120.0),  # IMF-fixdate
        ("Thursday, 13-Aug-26 15:00:45 GMT", 45.0),  # RFC 850
        ("Thu, 13 Aug 2026 14:00:00 GMT", 0.0),  # already past: no wait, never negative
        ("Thu, 13 Aug 2026 15:01:00 -0000", 60.0),  # no zone information: read as UTC
        ("Thu, 13 Aug 2026 18:00:00 +0300", 0.0),  # 15:00 UTC
        (None, None),
        ("", None),
        ("-5", None),
        ("-3", None),
        ("1.5", None),
        ("+3", None),
        ("soon", None),
        ("13/08/2026", None),
    ],
)
def test_retry_after(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


def test_a_response_already_read_by_httpx_is_refused():
    # httpx.Response(content=...) is decoded at once, past every cap: tests must build bodies with stream=.
    with fetcher(lambda r: httpx.Response(200, content=b"x")) as f, pytest.raises(TypeError, match="stream="):
        f.get(f"{BASE}/a")


# ---- cookies (issue 16: an answer that sets none costs no cookie-jar work) ---------
@pytest.mark.parametrize(
    "set_headers, reads",
    [
        ({}, 0),
        ({"Content-Type": "text/html"}, 0),
        ({"Set-Cookie": "sid=1; Path=/"}, 1),
        ({"set-cookie": "sid=1; Path=/"}, 1),
        ({"Set-Cookie2": 'sid=1; Version="1"'}, 1),
    ],
)
def test_the_cookie_jar_reads_only_answers_that_set_cookies(set_headers, reads, monkeypatch):
    import http.cookiejar

    calls: list[object] = []
    real = http.cookiejar.CookieJar.extract_cookies
    monkeypatch.setattr(
        http.cookiejar.CookieJar, "extract_cookies", lambda self, *a: (calls.append(a), real(self, *a))[1]
    )
    f = fetcher(lambda request: reply(200, b"page", set_headers))
    f.get(f"{BASE}/a")
    assert len(calls) == reads


def test_a_cookie_set_by_a_redirect_is_sent_to_its_target_and_later_requests():
    seen: list[httpx.Request] = []
    f = fetcher(
        routes(
            {
                f"{BASE}/a": lambda r: reply(302, headers={"Location": "/b", "Set-Cookie": "sid=42; Path=/"}),
                f"{BASE}/b": lambda r: reply(200, b"page"),
                f"{BASE}/c": lambda r: reply(200, b"other"),
            },
            seen,
        )
    )
    assert f.get(f"{BASE}/a").content == b"page"
    f.get(f"{BASE}/c")
    assert [r.headers.get("cookie") for r in seen] == [None, "sid=42", "sid=42"]
