"""Real local servers for tests: an HTTP web server, an SMTP server and a
fake Telegram Bot API.

Every server binds to 127.0.0.1 on a free (kernel-chosen) port, runs in
background threads, is a context manager (``with WebServer() as web: ...``)
and is also exposed as a pytest fixture in ``tests/conftest.py``
(``web_server``, ``smtp_server``, ``fake_telegram``,
``fake_telegram_unpatched``).

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
connection without answering.

SmtpServer
----------
An aiosmtpd ``Controller`` on 127.0.0.1. Every accepted message lands in
``smtp.messages`` as :class:`ReceivedMail` (``message`` is an
``email.message.EmailMessage`` parsed with ``policy=default``, plus
``mail_from``, ``rcpt_tos`` and ``raw`` bytes). ``smtp.refuse_next(n,
code=451)`` makes the next *n* messages fail with that SMTP code (at DATA by
default, or ``stage="rcpt"``/``"mail"``); refused attempts are recorded in
``smtp.refused``. AUTH LOGIN/PLAIN is advertised over plain text and
accepts any credentials (recorded in ``smtp.auth_attempts``) unless
``smtp.reject_auth = True``.

Apprise URL for this server (checked against apprise 2.2.0,
``apprise/plugins/email/base.py`` + ``email/smtp.py``)::

    mailto://127.0.0.1:PORT?from=monitor@example.com&to=user@example.com

``mailto://`` (not ``mailtos://``) defaults to ``secure_mode="insecure"``:
plain ``smtplib.SMTP``, no STARTTLS, no SSL; ``login()`` is only called when
both user and password are in the URL, so no credentials are needed. The
credential form ``mailto://user:pass@127.0.0.1:PORT?from=...&to=...`` also
works (AUTH over plain text). ``mode=insecure`` may be given explicitly; it
is required if you use ``mailtos://``. Always pass ``from=`` (without it the
sender would be ``user@127.0.0.1``/invalid). Extra headers: ``+Name=value``
query args (``%2BName=value`` also works). ``smtp.apprise_url(...)``
builds the URL.

FakeTelegram
------------
A fake Bot API at ``fake.api_url`` == ``http://127.0.0.1:PORT/bot``.
apprise 2.2.0 hard-codes the base as the class attribute
``apprise.plugins.telegram.NotifyTelegram.notify_url =
"https://api.telegram.org/bot"`` and builds request URLs as
``f"{notify_url}{bot_token}/{method}"`` (sendMessage, getUpdates,
sendPhoto/sendDocument/..., sendMediaGroup). So overriding is::

    from apprise.plugins.telegram import NotifyTelegram
    NotifyTelegram.notify_url = "http://127.0.0.1:PORT/bot"   # no trailing /

(``NotifyTelegram.notify_url = fake.api_url``; a self-hosted Bot API server
at ``http://host:8081`` becomes ``http://host:8081/bot``.) Apprise posts a
JSON body (``Content-Type: application/json``) to sendMessage; the fake also
accepts form-encoded, multipart and query-string parameters. Apprise only
calls ``getUpdates`` when the URL has no chat id (owner detection); it never
calls ``getMe``. Both are implemented (``fake.updates`` feeds getUpdates).

Every call is recorded in ``fake.calls`` (:class:`TelegramCall`), every
accepted sendMessage in ``fake.messages`` (:class:`TelegramMessage`: token,
chat_id, text, parse_mode, reply_to_message_id, message_thread_id, ...).
Like the real API it rejects, by default (``strict=True``), HTML that
Telegram would refuse (unsupported/unbalanced tags -> 400 "can't parse
entities"), empty text and text over 4096 characters. Per-call scripting::

    fake.queue(TelegramReply.flood(retry_after=3),   # 429
               TelegramReply.chat_not_found(),        # 400
               method="sendMessage")
    # also: cant_parse_entities(), unauthorized() (401), error(code, desc),
    #       slow(seconds), drop() (connection closed without answer), ok()

Queued replies are consumed one per call to ``method``; afterwards the fake
answers normally again.
"""

from __future__ import annotations

import asyncio
import collections
import html
import itertools
import json
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "CIDict",
    "Request",
    "Response",
    "WebServer",
    "sequence",
    "conditional",
    "ReceivedMail",
    "SmtpServer",
    "TelegramReply",
    "TelegramCall",
    "TelegramMessage",
    "FakeTelegram",
    "check_telegram_html",
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

    owner: _ThreadedHTTPServer  # set on the per-server subclass

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
        no_body = response.status in (204, 304) or 100 <= response.status < 200
        if not no_body:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle
    do_OPTIONS = _handle


class _ThreadedHTTPServer:
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

    def start(self) -> _ThreadedHTTPServer:
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


class WebServer(_ThreadedHTTPServer):
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


# --------------------------------------------------------------------------
# SmtpServer
# --------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message accepted (or refused) by :class:`SmtpServer`."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


_SMTP_DEFAULT_TEXT = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Temporary local problem, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message too big",
    553: "5.1.3 Mailbox name not allowed",
    554: "5.7.1 Transaction failed",
}


class _SmtpHandler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server, session, envelope, address, options):
        refusal = self.owner._take_refusal("mail", address, [])
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        refusal = self.owner._take_refusal("rcpt", envelope.mail_from, [address])
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        refusal = self.owner._take_refusal("data", envelope.mail_from, list(envelope.rcpt_tos), raw)
        if refusal:
            return refusal
        self.owner._record(envelope.mail_from, list(envelope.rcpt_tos), raw)
        return "250 2.0.0 Message accepted for delivery"


def _make_controller_class():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Session

    class _QuietSession(Session):
        # aiosmtpd itself sets the deprecated ``login_data`` after a
        # successful AUTH, which would emit a DeprecationWarning per login.
        @property
        def login_data(self):
            return self._login_data

        @login_data.setter
        def login_data(self, value):
            self._login_data = value

    class _SMTP(SMTP):
        def _create_session(self):
            return _QuietSession(self.loop)

    class _PortZeroController(Controller):
        """Controller that can bind port 0 (learns the real port before the
        readiness probe)."""

        def factory(self):
            return _SMTP(self.handler, **self.SMTP_kwargs)

        def _trigger_server(self):
            if not self.port and self.server is not None:
                self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    return _PortZeroController


class SmtpServer:
    """A local SMTP server collecting messages (see the module docstring).

    >>> with SmtpServer() as smtp:
    ...     apprise_obj.add(smtp.apprise_url(to="user@example.com"))
    ...     smtp.refuse_next(1, code=451)
    """

    def __init__(self) -> None:
        self.host = LOCALHOST
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self.refused: list[tuple[str, int, ReceivedMail]] = []
        self.auth_attempts: list[tuple[str, str, str]] = []
        self.reject_auth = False
        self._refusals: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._controller = None

    # ---- scripting --------------------------------------------------------

    def refuse_next(
        self,
        count: int = 1,
        code: int = 451,
        text: str | None = None,
        stage: str = "data",
    ) -> None:
        """Refuse the next ``count`` messages with ``code`` at ``stage``
        (``"data"``: after the content, ``"rcpt"``: the recipient,
        ``"mail"``: the sender). Calls accumulate in order."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(f"unknown stage {stage!r}")
        reply = f"{code} {text or _SMTP_DEFAULT_TEXT.get(code, 'Refused')}"
        with self._lock:
            for _ in range(count):
                self._refusals.append((stage, code, reply))

    def _take_refusal(self, stage, mail_from, rcpt_tos, raw=b""):
        with self._lock:
            if not self._refusals or self._refusals[0][0] != stage:
                return None
            _, code, reply = self._refusals.popleft()
            self.refused.append((stage, code, ReceivedMail(mail_from, rcpt_tos, raw, _parse(raw))))
        return reply

    def _record(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        with self._lock:
            self.messages.append(ReceivedMail(mail_from, rcpt_tos, raw, _parse(raw)))

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
        else:  # pragma: no cover - other mechanisms
            login, password = repr(auth_data), ""
        with self._lock:
            self.auth_attempts.append((mechanism, login, password))
        # handled=False: aiosmtpd then answers 535 itself (its default, True, answers nothing)
        return AuthResult(success=not self.reject_auth, handled=False)

    # ---- helpers ----------------------------------------------------------

    def apprise_url(
        self,
        to: str | Iterable[str] = "user@example.com",
        sender: str = "monitor@example.com",
        user: str | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> str:
        """The apprise ``mailto://`` URL delivering to this server.

        ``headers`` become ``+Name=value`` args; ``params`` are extra query
        args (e.g. ``name="Monitor"``)."""
        auth = ""
        if user:
            auth = urllib.parse.quote(user, safe="")
            if password:
                auth += ":" + urllib.parse.quote(password, safe="")
            auth += "@"
        if not isinstance(to, str):
            to = ",".join(to)
        query: dict[str, str] = {"from": sender, "to": to}
        query.update(params)
        for key, value in (headers or {}).items():
            query["+" + key] = value
        return f"mailto://{auth}{self.host}:{self.port}?{urllib.parse.urlencode(query)}"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused.clear()
            self.auth_attempts.clear()
            self._refusals.clear()

    # ---- lifecycle --------------------------------------------------------

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        controller_cls = _make_controller_class()
        self._controller = controller_cls(
            _SmtpHandler(self),
            hostname=LOCALHOST,
            port=0,
            loop=asyncio.new_event_loop(),
            server_hostname="smtp.test",
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=False,
            enable_SMTPUTF8=True,
            ready_timeout=10,
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


# --------------------------------------------------------------------------
# FakeTelegram
# --------------------------------------------------------------------------

TELEGRAM_MAX_TEXT = 4096

_TELEGRAM_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
    "tg-spoiler", "a", "tg-emoji", "code", "pre", "blockquote",
}  # fmt: skip
_TAG_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^<>]*)>")
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_TG_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_telegram_html(text: str) -> tuple[str | None, str]:
    """Validate ``text`` as Telegram ``parse_mode=HTML``.

    Returns ``(error, visible_text)``; ``error`` is ``None`` when Telegram
    would accept the markup, else a description in the style of the real
    API (``"can't parse entities: ..."``). A close approximation of the
    real parser: only Telegram's tags, properly nested; ``<`` must start a
    tag; only &lt; &gt; &amp; &quot; and numeric entities are decoded.
    """
    stack: list[str] = []
    visible: list[str] = []
    i = 0

    def offset(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if not m:
                return (
                    f"can't parse entities: Unexpected end of name token at byte offset {offset(i)}",
                    "",
                )
            closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
            if closing:
                if not stack:
                    return (
                        f"can't parse entities: Unexpected end tag at byte offset {offset(i)}",
                        "",
                    )
                if stack[-1] != name:
                    return (
                        "can't parse entities: Unmatched end tag at byte "
                        f'offset {offset(i)}, expected "</{stack[-1]}>", '
                        f'found "</{name}>"',
                        "",
                    )
                stack.pop()
            else:
                if name not in _TELEGRAM_HTML_TAGS or attrs.rstrip().endswith("/"):
                    return (
                        f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset(i)}',
                        "",
                    )
                if name == "span" and "tg-spoiler" not in attrs:
                    return (
                        'can\'t parse entities: Tag "span" must have class '
                        '"tg-spoiler" at byte offset ' + str(offset(i)),
                        "",
                    )
                stack.append(name)
            i = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(text, i)
            if m and (m.group(1).startswith("#") or m.group(1) in _TG_NAMED_ENTITIES):
                visible.append(html.unescape(m.group(0)))
                i = m.end()
            else:
                visible.append("&")
                i += 1
        else:
            visible.append(ch)
            i += 1
    if stack:
        return (
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"",
            "",
        )
    return None, "".join(visible)


@dataclass
class TelegramReply:
    """A scripted answer for one Bot API call (see :meth:`FakeTelegram.queue`).

    ``status=None`` means "answer normally" (after ``delay``)."""

    status: int | None = None
    description: str = ""
    parameters: dict | None = None
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def ok(cls) -> TelegramReply:
        return cls()

    @classmethod
    def slow(cls, seconds: float) -> TelegramReply:
        return cls(delay=seconds)

    @classmethod
    def drop_connection(cls) -> TelegramReply:
        return cls(drop=True)

    @classmethod
    def error(cls, code: int, description: str, **parameters: Any) -> TelegramReply:
        return cls(code, description, parameters or None)

    @classmethod
    def flood(cls, retry_after: int = 3) -> TelegramReply:
        return cls(
            429,
            f"Too Many Requests: retry after {retry_after}",
            {"retry_after": retry_after},
        )

    @classmethod
    def chat_not_found(cls) -> TelegramReply:
        return cls(400, "Bad Request: chat not found")

    @classmethod
    def cant_parse_entities(cls, detail: str = "") -> TelegramReply:
        return cls(
            400,
            "Bad Request: can't parse entities: " + (detail or 'Unsupported start tag "div" at byte offset 0'),
        )

    @classmethod
    def unauthorized(cls) -> TelegramReply:
        return cls(401, "Unauthorized")

    @classmethod
    def forbidden(cls) -> TelegramReply:
        return cls(403, "Forbidden: bot was blocked by the user")


@dataclass
class TelegramCall:
    """Any Bot API request received (successful or not)."""

    token: str
    method: str
    params: dict[str, Any]
    headers: CIDict
    status: int = 0  # HTTP status answered (0 = connection dropped)


@dataclass
class TelegramMessage:
    """An accepted sendMessage call."""

    token: str
    chat_id: Any
    text: str
    parse_mode: str | None
    message_id: int
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    disable_notification: bool | None = None
    disable_web_page_preview: bool | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def visible_text(self) -> str:
        """The text as a user would see it (tags stripped, entities
        decoded) when parse_mode is HTML."""
        if (self.parse_mode or "").upper() == "HTML":
            return check_telegram_html(self.text)[1]
        return self.text


_BOT_PATH_RE = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")


def _coerce(value: Any) -> Any:
    """Form/query values arrive as strings; decode JSON-looking ones."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeTelegram(_ThreadedHTTPServer):
    """A fake Telegram Bot API server (see the module docstring).

    ``valid_tokens``: if given, other tokens get 401 Unauthorized.
    ``known_chats``: if given, other chat ids get 400 chat not found.
    ``strict``: validate HTML/length like the real API.
    """

    def __init__(
        self,
        valid_tokens: Iterable[str] | None = None,
        known_chats: Iterable[Any] | None = None,
        strict: bool = True,
    ) -> None:
        super().__init__()
        self.valid_tokens = set(valid_tokens) if valid_tokens else None
        self.known_chats = {str(c) for c in known_chats} if known_chats else None
        self.strict = strict
        self.calls: list[TelegramCall] = []
        self.messages: list[TelegramMessage] = []
        self.updates: list[dict] = []
        self._scripts: dict[str, collections.deque] = collections.defaultdict(collections.deque)
        self._ids = itertools.count(1)
        self._patched: list[tuple[Any, str]] = []

    @property
    def api_url(self) -> str:
        """Value for ``NotifyTelegram.notify_url`` (``http://host:port/bot``)."""
        return self.base_url + "/bot"

    # ---- scripting --------------------------------------------------------

    def queue(self, *replies: TelegramReply, method: str = "sendMessage") -> None:
        """Answer the next calls to ``method`` with ``replies`` in order."""
        with self._lock:
            self._scripts[method].extend(replies)

    def add_user_update(self, user_id: int, first_name: str = "User") -> None:
        """Make getUpdates report a private message from ``user_id`` (used
        by apprise to detect the bot owner when no chat id is given)."""
        with self._lock:
            n = len(self.updates) + 1
            self.updates.append(
                {
                    "update_id": 1000 + n,
                    "message": {
                        "message_id": n,
                        "from": {
                            "id": user_id,
                            "is_bot": False,
                            "first_name": first_name,
                        },
                        "chat": {
                            "id": user_id,
                            "first_name": first_name,
                            "type": "private",
                        },
                        "date": int(time.time()),
                        "text": "/start",
                    },
                }
            )

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._scripts.clear()

    # ---- apprise integration ---------------------------------------------

    def patch_apprise(self) -> None:
        """Point apprise's Telegram plugin at this server (undone by
        :meth:`unpatch_apprise` / :meth:`stop`)."""
        from apprise.plugins.telegram import NotifyTelegram

        self._patched.append((NotifyTelegram, NotifyTelegram.__dict__["notify_url"]))
        NotifyTelegram.notify_url = self.api_url

    def unpatch_apprise(self) -> None:
        while self._patched:
            cls, original = self._patched.pop()
            cls.notify_url = original

    def stop(self) -> None:
        self.unpatch_apprise()
        super().stop()

    # ---- request handling -------------------------------------------------

    def _params(self, request: Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: _coerce(v[-1]) for k, v in request.query.items()}
        ctype = (request.headers.get("Content-Type") or "").lower()
        if not request.body:
            return params
        if "json" in ctype or (not ctype and request.body[:1] in b"{["):
            data = json.loads(request.body.decode("utf-8"))
            if isinstance(data, dict):
                params.update(data)
        elif "x-www-form-urlencoded" in ctype:
            for k, v in urllib.parse.parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items():
                params[k] = _coerce(v[-1])
        elif "multipart/form-data" in ctype:
            msg = BytesParser(policy=policy.default).parsebytes(
                b"Content-Type: " + request.headers["Content-Type"].encode() + b"\r\n\r\n" + request.body
            )
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if not name:
                    continue
                if part.get_filename():
                    params[name] = {
                        "filename": part.get_filename(),
                        "content_type": part.get_content_type(),
                        "size": len(part.get_payload(decode=True) or b""),
                    }
                else:
                    params[name] = _coerce(part.get_content().strip())
        return params

    @staticmethod
    def _json(status: int, payload: dict) -> Response:
        return Response(
            status,
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            {"Content-Type": "application/json"},
        )

    @classmethod
    def _error(cls, code: int, description: str, parameters: dict | None = None) -> Response:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": code,
            "description": description,
        }
        if parameters:
            payload["parameters"] = parameters
        return cls._json(code, payload)

    def _respond(self, request: Request) -> Response:
        m = _BOT_PATH_RE.match(request.url_path)
        if not m:
            return self._error(404, "Not Found")
        token, method = m.group("token"), m.group("method")
        try:
            params = self._params(request)
        except (ValueError, UnicodeDecodeError):
            params = {}
            response = self._error(400, "Bad Request: invalid JSON")
        else:
            with self._lock:
                script = self._scripts.get(method)
                reply = script.popleft() if script else None
            if reply is not None and reply.status is not None:
                response = self._error(reply.status, reply.description, reply.parameters)
            else:
                response = self._api(token, method, params)
            if reply is not None:
                response.delay = reply.delay
                response.drop = reply.drop
        call = TelegramCall(
            token,
            method,
            params,
            request.headers,
            0 if response.drop else response.status,
        )
        with self._lock:
            self.calls.append(call)
        return response

    def _bot_user(self, token: str) -> dict:
        bot_id = token.split(":", 1)[0]
        return {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": "Fake Bot",
            "username": "fake_test_bot",
        }

    def _api(self, token: str, method: str, params: dict) -> Response:
        if self.valid_tokens is not None and token not in self.valid_tokens:
            return self._error(401, "Unauthorized")
        if method == "getMe":
            return self._json(200, {"ok": True, "result": self._bot_user(token)})
        if method == "getUpdates":
            with self._lock:
                updates = list(self.updates)
            return self._json(200, {"ok": True, "result": updates})

        chat_id = params.get("chat_id")
        if method.startswith("send") or method in (
            "editMessageText",
            "deleteMessage",
        ):
            if chat_id in (None, ""):
                return self._error(400, "Bad Request: chat_id is empty")
            if self.known_chats is not None and str(chat_id) not in self.known_chats:
                return self._error(400, "Bad Request: chat not found")

        if method != "sendMessage":
            if method.startswith("send"):
                return self._json(200, {"ok": True, "result": self._result(token, chat_id, params)})
            return self._json(200, {"ok": True, "result": True})

        text = params.get("text")
        text = "" if text is None else str(text)
        parse_mode = params.get("parse_mode")
        visible = text
        if self.strict:
            if (parse_mode or "").upper() == "HTML":
                error, visible = check_telegram_html(text)
                if error:
                    return self._error(400, "Bad Request: " + error)
            if not visible.strip():
                return self._error(400, "Bad Request: message text is empty")
            if _utf16_len(visible.strip()) > TELEGRAM_MAX_TEXT:
                return self._error(400, "Bad Request: message is too long")

        result = self._result(token, chat_id, params)
        result["text"] = visible.strip()
        message = TelegramMessage(
            token=token,
            chat_id=chat_id,
            text=text,
            parse_mode=parse_mode,
            message_id=result["message_id"],
            reply_to_message_id=params.get("reply_to_message_id")
            or (params.get("reply_parameters") or {}).get("message_id"),
            message_thread_id=params.get("message_thread_id"),
            disable_notification=params.get("disable_notification"),
            disable_web_page_preview=params.get("disable_web_page_preview"),
            params=params,
        )
        with self._lock:
            self.messages.append(message)
        return self._json(200, {"ok": True, "result": result})

    def _result(self, token: str, chat_id: Any, params: dict) -> dict:
        with self._lock:
            message_id = next(self._ids)
        result = {
            "message_id": message_id,
            "from": self._bot_user(token),
            "chat": {
                "id": chat_id,
                "type": "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup",
            },
            "date": int(time.time()),
        }
        if params.get("message_thread_id"):
            result["message_thread_id"] = params["message_thread_id"]
        return result
