"""A local hostile web server: every way a feed or page server can hurt a poller.

`HostileServer` listens on 127.0.0.1 and answers raw HTTP/1.1 written by hand,
so it can do what a well-behaved server library will not: bodies that never
end, bytes dripped slowly, lying Content-Length, compression bombs. It also
serves one healthy RSS feed with real article pages (SaudiNewsNet text), so a
test can poll a hostile case and the healthy feed side by side.

`HOSTILE_FEEDS` names every hostile feed path with the outcome a poller must
reach: "error" (the poll fails cleanly and the error is recorded on the feed);
"warning" (the feed is processed and the oddity recorded); "ok"/"warning-or-ok"
(processed; what must not happen is checked by the tests: no leaked file, no
expanded entity, no second alert, no fetch of a private address). Every
request is logged in `.requests`.
"""

from __future__ import annotations

import html
import socket
import threading
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import brotli
import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs

BOMB_SIZE = 64 * 1024 * 1024  # 64 MiB of zeros once decompressed (6x the default cap)


@dataclass
class Req:
    method: str
    path: str
    headers: dict[str, str]


def _compressed(kind: str) -> bytes:
    """BOMB_SIZE zeros compressed (gzip and deflate ~65 KB, brotli ~12 KB)."""
    zeros = b"\0" * (1024 * 1024)
    if kind == "br":
        c = brotli.Compressor(quality=1)
        out = [c.process(zeros) for _ in range(BOMB_SIZE // len(zeros))]
        return b"".join(out) + c.finish()
    c = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS)
    out = [c.compress(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    return b"".join(out) + c.flush()


_BOMBS: dict[str, bytes] = {}
_BOMB_LOCK = threading.Lock()


def bomb(kind: str) -> bytes:
    with _BOMB_LOCK:
        if kind not in _BOMBS:
            _BOMBS[kind] = _compressed(kind)
        return _BOMBS[kind]


def rss(items: list[dict], *, ttl: int | None = None, encoding: str = "utf-8", doctype: str = "") -> bytes:
    """RSS 2.0 from dicts with title/link/guid/date/description (each optional)."""
    parts = []
    for it in items:
        # GUIDs are never permalinks here: feedparser would otherwise take one as the link.
        xml = "".join(
            f"<{tag}>{html.escape(it[key])}</{tag.split()[0]}>"
            for key, tag in (
                ("title", "title"),
                ("link", "link"),
                ("guid", 'guid isPermaLink="false"'),
                ("date", "pubDate"),
                ("description", "description"),
            )
            if it.get(key) is not None
        )
        parts.append(f"<item>{xml}</item>")
    head = f"<ttl>{ttl}</ttl>" if ttl else ""
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>{doctype}<rss version="2.0"><channel>'
        f"<title>feed</title><link>http://example.invalid/</link><description>d</description>{head}"
        f"{''.join(parts)}</channel></rss>"
    )
    return text.encode(encoding)


def _fits(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


def rfc822(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


class HostileServer:
    """See the module docstring. Use as a context manager."""

    def __init__(self, secret_file: str = "/etc/hostname") -> None:
        self.secret_file = secret_file
        self.requests: list[Req] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._fetch_count: dict[str, int] = {}
        self.articles = [a for a in saudinewsnet_articles("2015-07-22") if len(a["content"]) > 800][:4]
        self.legacy = [
            a
            for a in saudinewsnet_articles("2015-07-23")
            if len(a["content"]) > 800 and _fits(a["title"] + a["content"], "iso-8859-6")
        ][:4]
        self.routes: dict[str, Callable[[socket.socket, Req], None]] = self._routes()

    # ---- plumbing -----------------------------------------------------------
    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_for(self, path: str) -> list[Req]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == path]

    def __enter__(self) -> HostileServer:
        for kind in ("gzip", "deflate", "br"):  # built before serving: a client must not wait on us
            bomb(kind)
        threading.Thread(target=self._serve, daemon=True, name=f"hostile:{self.port}").start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])}
            req = Req(method, path, headers)
            with self._lock:
                self.requests.append(req)
                self._fetch_count[path] = self._fetch_count.get(path, 0) + 1
            route = self.routes.get(path.split("?")[0])
            if route is None:
                self.send(conn, 404, b"not found", "text/plain")
            else:
                route(conn, req)
        except OSError:
            pass  # the client gave up on us: that is the point of most routes
        finally:
            conn.close()

    def send(self, conn: socket.socket, status: int, body: bytes, ctype: str, **headers: str) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", "Connection: close"]
        if "content_length" not in headers:
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{k.replace('_', '-').title()}: {v}" for k, v in headers.items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def count(self, path: str) -> int:
        with self._lock:
            return self._fetch_count.get(path, 0)

    # ---- content ----------------------------------------------------------------
    def article_paths(self) -> list[str]:
        return [f"/healthy/article-{i}.html" for i in range(len(self.articles))]

    def healthy_feed(self) -> bytes:
        now = datetime.now(UTC)
        return rss(
            [
                {
                    "title": a["title"],
                    "link": self.url(p),
                    "guid": f"healthy-{i}",
                    "date": rfc822(now - timedelta(hours=i)),
                }
                for i, (a, p) in enumerate(zip(self.articles, self.article_paths()))
            ]
        )

    def _article(self, i: int) -> Callable[[socket.socket, Req], None]:
        a = self.articles[i]
        page = article_page(
            a["title"],
            split_paragraphs(a["content"]),
            outlet=a["source"],
            url=self.url(f"/healthy/article-{i}.html"),
            style=i % 6,
        ).encode()
        return lambda conn, req: self.send(conn, 200, page, "text/html; charset=utf-8")

    def _routes(self) -> dict[str, Callable[[socket.socket, Req], None]]:
        r: dict[str, Callable[[socket.socket, Req], None]] = {
            "/healthy.xml": lambda c, q: self.send(c, 200, self.healthy_feed(), "application/rss+xml"),
            "/login.xml": lambda c, q: self.send(
                c,
                200,
                b"<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action=/login>"
                b"<input name=user><input type=password name=pw></form></body></html>",
                "text/html; charset=utf-8",
            ),
            "/gzip-bomb.xml": lambda c, q: self.send(
                c, 200, bomb("gzip"), "application/rss+xml", content_encoding="gzip"
            ),
            "/deflate-bomb.xml": lambda c, q: self.send(
                c, 200, bomb("deflate"), "application/rss+xml", content_encoding="deflate"
            ),
            "/brotli-bomb.xml": lambda c, q: self.send(
                c, 200, bomb("br"), "application/rss+xml", content_encoding="br"
            ),
            "/endless.xml": self._endless,
            "/slow-drip.xml": self._slow_drip,
            "/slow-headers.xml": self._slow_headers,
            "/huge-length.xml": lambda c, q: self.send(
                c, 200, b"<rss>", "application/rss+xml", content_length=str(50 * 1024**3)
            ),
            "/short-body.xml": lambda c, q: self.send(
                c, 200, self.healthy_feed()[:200], "application/rss+xml", content_length="100000"
            ),
            "/deep.xml": lambda c, q: self.send(
                c,
                200,
                b'<?xml version="1.0"?><rss version="2.0"><channel>'
                + b"<x>" * 200000
                + b"</x>" * 200000
                + b"</channel></rss>",
                "application/rss+xml",
            ),
            "/billion-laughs.xml": lambda c, q: self.send(c, 200, self._laughs(), "application/rss+xml"),
            "/xxe.xml": lambda c, q: self.send(c, 200, self._xxe(), "application/rss+xml"),
            "/redirect-loop.xml": lambda c, q: self.send(c, 302, b"", "text/plain", location="/redirect-loop.xml"),
            "/redirect-metadata.xml": lambda c, q: self.send(
                c, 302, b"", "text/plain", location="http://169.254.169.254/latest/meta-data/"
            ),
            "/redirect-ftp.xml": lambda c, q: self.send(c, 302, b"", "text/plain", location="ftp://127.0.0.1/x"),
            "/redirect-confused.xml": lambda c, q: self.send(
                c, 302, b"", "text/plain", location="http://example.org\\@127.0.0.1/"
            ),
            # redirects to non-http schemes (issue 14 kind 6). Public reports rebuilt: curl/curl#9503
            # (Location: data:text/html;base64,...), wapiti-scanner/wapiti#690 (httpx raises InvalidURL
            # on a data: redirect), whatwg/fetch#309 (block redirects to non-HTTP schemes)
            "/redirect-javascript.xml": lambda c, q: self.send(
                c, 302, b"", "text/plain", location="javascript:alert(document.domain)"
            ),
            "/redirect-data.xml": lambda c, q: self.send(
                c, 301, b"", "text/plain", location="data:application/rss+xml;base64,PHJzcy8+"
            ),
            "/redirect-file.xml": lambda c, q: self.send(c, 307, b"", "text/plain", location="file:///etc/passwd"),
            "/redirect-bad-host.xml": lambda c, q: self.send(c, 302, b"", "text/plain", location="http://[zz/"),
            "/retry-after.xml": lambda c, q: self.send(c, 503, b"busy", "text/plain", retry_after="7200"),
            "/lying.xml": lambda c, q: self.send(c, 200, self._lying(), "application/rss+xml"),
            "/changing-guids.xml": lambda c, q: self.send(c, 200, self._changing(), "application/rss+xml"),
            "/not-xml.xml": lambda c, q: self.send(c, 200, b"\x00\x01\x02 binary junk \xff\xfe", "application/rss+xml"),
            "/deep.html": lambda c, q: self.send(
                c,
                200,
                b"<html><body>"
                + b"<div>" * 50000
                + b"<p>"
                + self.articles[0]["content"].encode()
                + b"</p>"
                + b"</div>" * 50000
                + b"</body></html>",
                "text/html; charset=utf-8",
            ),
            "/deep-page.xml": lambda c, q: self.send(
                c,
                200,
                rss(
                    [
                        {
                            "title": self.articles[0]["title"],
                            "link": self.url("/deep.html"),
                            "guid": "deep",
                            "description": self.articles[0]["content"][:300],
                        }
                    ]
                ),
                "application/rss+xml",
            ),
            "/private-links.xml": lambda c, q: self.send(
                c,
                200,
                rss(
                    [
                        {"title": a["title"], "link": link, "guid": f"private-{i}", "description": a["content"][:300]}
                        for i, (a, link) in enumerate(
                            zip(
                                self.articles,
                                (
                                    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                                    "http://10.0.0.1/admin",
                                    "http://[::1]:6379/",
                                    "http://[::ffff:7f00:1]:80/",
                                ),
                            )
                        )
                    ]
                ),
                "application/rss+xml",
            ),
        }
        for i in range(len(self.articles)):
            r[f"/healthy/article-{i}.html"] = self._article(i)
        r.update(self._legacy_routes())
        return r

    # Arabic pages in legacy charsets, labelled right, wrong, late, or beyond repair.
    LEGACY = (
        ("1256-as-latin1", "windows-1256", "text/html; charset=iso-8859-1", None),
        ("iso-late-meta", "iso-8859-6", "text/html", "iso-8859-6"),
        ("utf8-bom-as-1256", "utf-8-sig", "text/html; charset=windows-1256", None),
        ("lossy-mojibake", "mojibake", "text/html; charset=utf-8", None),
    )

    def _legacy_routes(self) -> dict[str, Callable[[socket.socket, Req], None]]:
        routes = {}
        for (name, enc, ctype, meta), a in zip(self.LEGACY, self.legacy):
            page = article_page(
                a["title"], split_paragraphs(a["content"]), outlet=a["source"], url=self.url(f"/legacy/{name}.html")
            )
            page = page.replace('<meta charset="utf-8">', "")
            if meta:  # declared only after 100 KB of scripts
                filler = "".join(f"<script>var s{i} = {i};</script>" for i in range(3000))
                page = page.replace("</head>", f'{filler}<meta charset="{meta}"></head>', 1)
            data = (
                page.encode("utf-8").decode("windows-1252", "replace").encode("utf-8")
                if enc == "mojibake"
                else page.encode(enc, "xmlcharrefreplace")
            )  # &#169; as legacy sites do
            routes[f"/legacy/{name}.html"] = (lambda d, t: lambda c, q: self.send(c, 200, d, t))(data, ctype)
        feed = rss(
            [
                {
                    "title": a["title"],
                    "link": self.url(f"/legacy/{name}.html"),
                    "guid": name,
                    "description": a["content"][:300],
                }
                for (name, *_), a in zip(self.LEGACY, self.legacy)
            ],
            encoding="windows-1256",
        )
        routes["/legacy.xml"] = lambda c, q: self.send(c, 200, feed, "application/rss+xml")
        return routes

    def _endless(self, conn: socket.socket, req: Req) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"<item><title>" + b"x" * 65000 + b"</title></item>"
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        while not self._stop.is_set():
            conn.sendall(frame)

    def _slow_drip(self, conn: socket.socket, req: Req) -> None:
        body = self.healthy_feed()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for i in range(len(body)):
            if self._stop.wait(0.05):
                return
            conn.sendall(body[i : i + 1])

    def _slow_headers(self, conn: socket.socket, req: Req) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while not self._stop.wait(0.05):
            conn.sendall(b"X-Drip: 1\r\n")

    def _laughs(self) -> bytes:
        ents = ['<!ENTITY l0 "ha">'] + [f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
        doctype = "<!DOCTYPE rss [" + "".join(ents) + "]>"
        return rss(
            [{"title": "&l9;", "link": self.url("/healthy/article-0.html"), "guid": "laugh"}], doctype=doctype
        ).replace(b"&amp;l9;", b"&l9;")

    def _xxe(self) -> bytes:
        doctype = f'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "file://{self.secret_file}">\n]>'
        return rss(
            [
                {
                    "title": "leak &xxe; here",
                    "link": self.url("/healthy/article-1.html"),
                    "guid": "xxe",
                    "description": "&xxe;",
                }
            ],
            doctype=doctype,
        ).replace(b"&amp;xxe;", b"&xxe;")

    def _lying(self) -> bytes:
        """Duplicate GUIDs, an item without link or date, absurd dates; real headlines."""
        a = self.articles
        return rss(
            [
                {
                    "title": a[0]["title"],
                    "link": self.url("/healthy/article-0.html"),
                    "guid": "same",
                    "date": "Mon, 01 Jan 1900 00:00:00 GMT",
                },
                {
                    "title": a[1]["title"],
                    "link": self.url("/healthy/article-1.html"),
                    "guid": "same",
                    "date": "Fri, 01 Jan 2100 00:00:00 GMT",
                },
                {"title": a[2]["title"], "description": a[2]["content"][:400]},
                {
                    "title": a[3]["title"],
                    "link": self.url("/healthy/article-3.html"),
                    "guid": "g3",
                    "date": "not a date",
                },
            ]
        )

    def _changing(self) -> bytes:
        """Every fetch: new GUIDs and new session ids in the links; same stories."""
        n = self.count("/changing-guids.xml")
        return rss(
            [
                {
                    "title": a["title"],
                    "link": self.url(f"/healthy/article-{i}.html?session={n}-{i}"),
                    "guid": f"urn:uuid:{n}-{i}",
                }
                for i, a in enumerate(self.articles)
            ]
        )


# Hostile feed path -> what a poller must make of it.
HOSTILE_FEEDS = {
    "/login.xml": "error",
    "/gzip-bomb.xml": "error",
    "/deflate-bomb.xml": "error",
    "/brotli-bomb.xml": "error",
    "/endless.xml": "error",
    "/slow-drip.xml": "error",
    "/slow-headers.xml": "error",
    "/huge-length.xml": "error",
    "/short-body.xml": "error",
    "/deep.xml": "error",
    "/redirect-loop.xml": "error",
    "/redirect-metadata.xml": "error",
    "/redirect-ftp.xml": "error",
    "/redirect-confused.xml": "error",
    "/redirect-javascript.xml": "error",
    "/redirect-data.xml": "error",
    "/redirect-file.xml": "error",
    "/redirect-bad-host.xml": "error",
    "/retry-after.xml": "error",
    "/not-xml.xml": "error",
    "/billion-laughs.xml": "warning-or-ok",
    "/xxe.xml": "warning-or-ok",
    "/lying.xml": "warning",
    "/changing-guids.xml": "ok",
    "/private-links.xml": "ok",
    "/deep-page.xml": "ok",
    "/legacy.xml": "ok",
}

__all__ = ["HostileServer", "HOSTILE_FEEDS", "rss", "rfc822", "bomb"]


def make_pipeline(  # a pipeline over a hostile server's feeds (SQLite in tmp_path)
    tmp_path, server: HostileServer, feeds: list[tuple[str, str]], **fetch
):
    term = server.articles[0]["title"].split()[0]
    config = {
        "storage": f"sqlite:///{tmp_path / 'm.db'}",
        "defaults": {"timeout": "3s", "interval": "10m", "backfill": "off"},  # old or undated items
        "fetch": {"allowed_networks": ["127.0.0.1/32"], **fetch},
        "feeds": [{"name": n, "url": server.url(p)} for n, p in feeds],
        "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
        "topics": [{"id": "t", "name": "T", "any": [term], "notify": ["mail"]}],
    }
    cfg = parse_config(yaml.safe_dump(config, allow_unicode=True), path=tmp_path / "config.yaml", env={})
    store = Store(cfg.storage_url)
    fetcher = Fetcher.from_config(cfg)
    return Pipeline(cfg, store, fetcher), store, fetcher, cfg


def poll_all(pipeline, cfg, now=None):
    with ThreadPoolExecutor(len(cfg.feeds)) as pool:
        return {r.feed: r for r in pool.map(lambda f: pipeline.poll_feed(f, now=now), cfg.feeds)}
