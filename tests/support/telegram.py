"""A fake Telegram Bot API for tests (:class:`FakeTelegram`), its scripted replies
(:class:`TelegramReply`) and records (:class:`TelegramCall`, :class:`TelegramMessage`),
and :func:`check_telegram_html`, the parse check the real API applies to HTML text.

The fake binds to 127.0.0.1 on a free (kernel-chosen) port, runs in background
threads (on :class:`tests.support.web.ThreadedHTTPServer`), is a context manager
and is also the pytest fixtures ``fake_telegram`` (apprise pointed at it) and
``fake_telegram_unpatched`` in ``tests/conftest.py``.


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

Migrated groups: ``FakeTelegram(migrated={"-4012345678": -1004012345678})`` (or
``fake.migrated[...] = ...``) answers every send to the old chat as the real API
does for a group upgraded to a supergroup: 400 "Bad Request: group chat was
upgraded to a supergroup chat" with ``parameters.migrate_to_chat_id``; the new
chat works normally.
"""

from __future__ import annotations

import collections
import html
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any

from tests.support.web import CIDict, Request, Response, ThreadedHTTPServer

__all__ = [
    "TELEGRAM_MAX_TEXT",
    "TelegramReply",
    "TelegramCall",
    "TelegramMessage",
    "FakeTelegram",
    "check_telegram_html",
]


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


class FakeTelegram(ThreadedHTTPServer):
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
        migrated: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.migrated: dict[str, int] = {str(k): int(v) for k, v in (migrated or {}).items()}
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
            if str(chat_id) in self.migrated:
                return self._error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self.migrated[str(chat_id)]},
                )
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
