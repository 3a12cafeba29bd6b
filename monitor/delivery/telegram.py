"""A direct Bot API ``sendMessage`` for story threads (first alert and its follow-ups).

apprise's Telegram plugin returns only True/False, so it cannot tell us the
``message_id`` of what it sent, and it cannot send a reply. Alerts of topics
with ``follow_ups: true`` go through this one small call instead, so the first
alert's ``message_id`` is kept and each follow-up is sent with
``reply_to_message_id`` (and ``allow_sending_without_reply``: a deleted first
message does not block the update). Everything else still goes through apprise.

Failures are classified as apprise's are (:func:`monitor.delivery.failures.classify_http`):
429 transient with ``retry_after``; 400/401/403/404 permanent; 5xx, timeouts and
connection errors transient. The bot token is never logged: errors are redacted and httpx's
request log line (which holds ``/bot<token>/``) is redacted on its logger.
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

import httpx

from monitor.delivery.failures import SendResult, classify_http, short
from monitor.redact import RedactingFilter, add_urls, redact

log = logging.getLogger(__name__)

TIMEOUT = 30.0

# channel `link_preview` -> the Bot API's LinkPreviewOptions (https://core.telegram.org/bots/api#linkpreviewoptions)
PREVIEW_OPTIONS: dict[str, dict[str, bool]] = {
    "off": {"is_disabled": True},
    "on": {"is_disabled": False, "show_above_text": False},
    "below": {"is_disabled": False, "show_above_text": False},
    "above": {"is_disabled": False, "show_above_text": True},
}


def with_preview(url: str) -> str:
    """A ``tgram://`` URL apprise sends with a link preview (its ``preview=yes``; apprise can
    only place it below the text). Other URLs unchanged."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() != "tgram":
        return url
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != "preview"]
    query.append(("preview", "yes"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def target(url: str) -> tuple[str, str] | None:
    """(bot token, chat id) of a plain ``tgram://TOKEN/CHAT`` URL; None for anything else
    (several chats, options): such targets keep going through apprise, without threading."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "tgram" or parts.query or parts.fragment:
        return None
    token = urllib.parse.unquote(parts.netloc)
    token = token[3:] if token.lower().startswith("bot") else token
    chats = [c for c in parts.path.split("/") if c]
    if ":" not in token or len(chats) != 1:
        return None
    return token, urllib.parse.unquote(chats[0])


def send(
    url: str,
    html: str,
    *,
    api_url: str | None = None,
    reply_to: str | int | None = None,
    timeout: float = TIMEOUT,
    preview: str = "off",
) -> SendResult:
    """Send one HTML message to the chat of `url` (optionally as a reply).

    ``reply_to``: the Telegram ``message_id`` to reply to; ``timeout``: seconds; ``preview``:
    the channel's ``link_preview`` (a key of :data:`PREVIEW_OPTIONS`).
    Returns a :class:`SendResult` with the sent message's ``message_id``; never raises.
    """
    parsed = target(url)
    if parsed is None:
        return SendResult(False, "tgram: not a single-chat URL", True, failed=(0,))
    token, chat = parsed
    add_urls([url])  # the token is redacted from every log line from now on
    # the channel's one link-preview choice, the same on every message it sends
    payload: dict[str, Any] = {
        "chat_id": chat,
        "text": html,
        "parse_mode": "HTML",
        "link_preview_options": dict(PREVIEW_OPTIONS[preview]),
    }
    if reply_to is not None:
        payload["reply_to_message_id"] = int(reply_to)
        payload["allow_sending_without_reply"] = True
    from monitor.delivery import notify  # apprise: imported by the first send (issue 16)

    try:
        with httpx.Client(timeout=timeout, trust_env=False) as client:
            resp = client.post(f"{notify.telegram_bot_base(api_url)}{token}/sendMessage", json=payload)
    except httpx.HTTPError as exc:
        return SendResult(False, short(redact(f"tgram: {type(exc).__name__}: {exc}")), failed=(0,))
    try:
        decoded: object = resp.json()
    except ValueError:
        decoded = {}
    data: dict[str, Any] = decoded if isinstance(decoded, dict) else {}
    if resp.status_code == 200 and data.get("ok"):
        mid = (data.get("result") or {}).get("message_id")
        return SendResult(True, message_id=int(mid) if mid is not None else None)
    description = redact(str(data.get("description") or resp.reason_phrase))
    params = data.get("parameters") or {}
    retry_after = float(params.get("retry_after") or 0) or None
    migrate = params.get("migrate_to_chat_id")
    failure = classify_http(resp.status_code, description, retry_after, str(migrate) if migrate is not None else None)
    return SendResult.from_failure(failure, prefix="tgram: ")


def chats(url: str) -> list[str]:
    """The chat ids (or @names) a ``tgram://TOKEN/CHAT[/CHAT...]`` URL sends to ([] if none)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return []
    if parts.scheme.lower() != "tgram":
        return []
    return [urllib.parse.unquote(c) for c in parts.path.split("/") if c]


def migrate_chat(url: str, moves: dict[str, str]) -> str:
    """``url`` with each chat id in ``moves`` ({old: new}) replaced by its new id
    (a group upgraded to a supergroup); query and other chats kept."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if parts.scheme.lower() != "tgram" or not moves:
        return url
    path = "/".join(
        urllib.parse.quote(moves[urllib.parse.unquote(c)], safe="@") if urllib.parse.unquote(c) in moves else c
        for c in parts.path.split("/")
    )
    return urllib.parse.urlunsplit(parts._replace(path=path))


def _guard_httpx_logger() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())


_guard_httpx_logger()


def only_chat(url: str, chat: str) -> str:
    """``url`` sending to ``chat`` alone (its other chats dropped; query kept)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(chat, safe="@")))
