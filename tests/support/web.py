"""A real local HTTP server for tests (:class:`WebServer`), and the HTTP plumbing
(:class:`Request`, :class:`Response`, :class:`ThreadedHTTPServer`) that
:mod:`tests.support.telegram` builds its fake Bot API on.

The server binds to 127.0.0.1 on a free (kernel-chosen) port, runs in
background threads, is a context manager (``with WebServer() as web: ...``)
and is also the pytest fixture ``web_server`` in ``tests/conftest.py``.

WebServer
---------
``web.routes`` maps a path to a :class:`Response`, to ``bytes``/``str``
(200 with that body) or to a callable ``handler(request) -> Response``.
A route key may include the query string (``"/feed?page=2"``); an exact
match wins over a match on the bare path. Unknown paths answer 404.
Every request is recorded in ``web.requests`` as a :class:`Request`
(method, path, url_path, query, case-insensitive headers, body), so tests
can assert e.g. that ``If-None-Match`` was sent. Helpers: ``web.url(path)``,
``web.requests_for(path)``, :func:`sequence` (answers in turn, the last one
repeats) and :func:`conditional` (honours If-None-Match/If-Modified-Since
against the response's ETag/Last-Modified and answers 304).
``Response(delay=s)`` answers slowly, ``Response(drop=True)`` closes the
connection without answering, ``Response(body_anyway=True)`` sends a 204/304 with
its body all the same.
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "LOCALHOST",
    "CIDict",
    "Request",
    "Response",
    "Route",
    "Handler",
    "ThreadedHTTPServer",
    "WebServer",
    "sequence",
    "conditional",
]

LOCALHOST = "127.0.0.1"


# --------------------------------------------------------------------------
# HTTP plumbing shared by WebServer and FakeTelegram
# --------------------------------------------------------------------------


class CIDict(dict):
    """A small case-insensitive ``str -> str`` mapping for HTTP headers.

    Keys keep their original spelling for iteration; lookups ignore case.
    """

    def __init__(self, items: Iterable[tuple[str, str]] = ()):
        super().__init__()
        self._lower: dict[str, str] = {}
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        old = self._lower.get(key.lower())
        if old is not None and old != key:
            super().__delitem__(old)
        self._lower[key.lower()] = key
        super().__setitem__(key, value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(self._lower[key.lower()])

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._lower

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default


@dataclass
class Request:
    """One HTTP request as received by a server."""

    method: str
    path: str  # raw request target, including any query string
    headers: CIDict
    body: bytes = b""

    @property
    def url_path(self) -> str:
        """The path without the query string."""
        return urllib.parse.urlsplit(self.path).path

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Response:
    """A canned HTTP answer.

    ``body`` may be ``str`` (sent as UTF-8). ``Content-Length`` is added
    automatically. ``delay`` sleeps before answering; ``drop`` closes the
    connection without sending anything.
    """

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    body_anyway: bool = False  # send body and Content-Length on a 204/304 too (a server breaking HTTP)

    @property
    def body_bytes(self) -> bytes:
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return self.body


Handler = Callable[[Request], Response]
Route = Response | bytes | str | Handler


def sequence(*responses: Response | Handler) -> Handler:
    """A route handler answering with each response in turn; the last one
    repeats forever. Items may themselves be handlers."""
    if not responses:
        raise ValueError("sequence() needs at least one response")
    remaining = collections.deque(responses)
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        with lock:
            item = remaining.popleft() if len(remaining) > 1 else remaining[0]
        return item(request) if callable(item) else item

    return handler


def conditional(response: Response) -> Handler:
    """A route handler that serves ``response`` but answers ``304 Not
    Modified`` when the request's ``If-None-Match`` matches the response's
    ``ETag`` or its ``If-Modified-Since`` is not older than the response's
    ``Last-Modified``."""
    resp_headers = CIDict(response.headers.items())

    def handler(request: Request) -> Response:
        etag = resp_headers.get("ETag")
        inm = request.headers.get("If-None-Match")
        not_modified = False
        if etag and inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            not_modified = "*" in tags or etag in tags
        elif inm is None:
            last_mod = resp_headers.get("Last-Modified")
            ims = request.headers.get("If-Modified-Since")
            if last_mod and ims:
                try:
                    not_modified = parsedate_to_datetime(ims) >= parsedate_to_datetime(last_mod)
                except (TypeError, ValueError):
                    not_modified = False
        if not_modified:
            keep = {
                k: v for k, v in response.headers.items() if k.lower() in ("etag", "last-modified", "cache-control")
            }
            return Response(304, b"", keep)
        return response

    return handler


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestServer/1.0"
    timeout = 30  # idle keep-alive connections give up after this

    owner: ThreadedHTTPServer  # set on the per-server subclass

    def setup(self) -> None:
        super().setup()
        self.owner._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner._connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=self.path,
            headers=CIDict(self.headers.items()),
            body=body,
        )
        try:
            response = self.owner._respond(request)
        except Exception as exc:  # a broken test handler -> 500
            response = Response(500, f"handler error: {exc!r}".encode())

        if response.delay:
            # Interruptible sleep so stop() never waits for slow answers.
            self.owner._stopping.wait(response.delay)
        if response.drop or self.owner._stopping.is_set():
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return

        payload = response.body_bytes
        self.send_response(response.status)
        headers = CIDict(response.headers.items())
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        no_body = (response.status in (204, 304) or 100 <= response.status < 200) and not response.body_anyway
        if not no_body:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle
    do_OPTIONS = _handle


class ThreadedHTTPServer:
    """Start/stop logic for a ThreadingHTTPServer in a background thread."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.host = LOCALHOST
        self.port = 0

    # subclasses implement this
    def _respond(self, request: Request) -> Response:  # pragma: no cover
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def start(self) -> ThreadedHTTPServer:
        if self._httpd is not None:
            return self
        handler = type("Handler", (_RequestHandler,), {"owner": self})
        self._stopping.clear()
        self._httpd = _HTTPServer((LOCALHOST, 0), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        # Close idle keep-alive connections so their threads exit and clients
        # cannot keep talking to a stopped server.
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------
# WebServer
# --------------------------------------------------------------------------


class WebServer(ThreadedHTTPServer):
    """A scriptable local web server (see the module docstring).

    >>> with WebServer() as web:
    ...     web.routes["/feed.xml"] = Response(200, rss, {"ETag": '"v1"'})
    ...     fetch(web.url("/feed.xml"))
    ...     assert web.requests[-1].headers.get("If-None-Match") is None
    """

    def __init__(self, routes: dict[str, Route] | None = None) -> None:
        super().__init__()
        self.routes: dict[str, Route] = dict(routes or {})
        self.requests: list[Request] = []

    def requests_for(self, path: str) -> list[Request]:
        """Recorded requests whose path (with or without query) is ``path``."""
        return [r for r in self.requests if path in (r.path, r.url_path)]

    def _respond(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            routes = dict(self.routes)
        route = routes.get(request.path)
        if route is None:
            route = routes.get(request.url_path)
        if route is None:
            return Response(404, b"not found", {"Content-Type": "text/plain"})
        if isinstance(route, Response):
            return route
        if isinstance(route, (bytes, str)):
            return Response(200, route)
        return route(request)
