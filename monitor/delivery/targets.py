"""One delivery target per recipient: an apprise URL that fans out to several chats or
mailboxes is split into one URL per chat/mailbox, so each has its own progress on an
outbox row (a retry resends only to the recipient that lacks the alert) and, for Telegram,
its own per-chat rate limit.

:func:`expand` is pure string work (urllib only), no I/O. Split: ``tgram://TOKEN/CHAT1/CHAT2[?opts]`` (one
URL per chat, options kept) and ``mailto[s]://...`` with several recipients in its path
or its ``to=`` (one URL per recipient, ``to=`` holding it, other options kept). Not split:
a mail URL with ``cc=``/``bcc=`` (those copies belong to one message; split, each copy
would come once per recipient) and other services' multi-target URLs (their target
syntax differs per service: such a URL stays one target, retried as a whole).

Rebuilt from public reports: BitBotFactory/MikaLendingBot#318 (two Telegram chat ids in
one notifier, one failing: every retry re-sent to both, "causing spam"); the review of
xxynet/KiraAI#21 (a failure on the second element replays the already-sent first).
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from monitor.delivery import telegram
from monitor.delivery.ratelimit import RateLimiter
from monitor.storage.progress import DeliveryProgress, Mark

__all__ = ["Target", "expand", "inherit", "mail_recipients"]

_MAIL_SCHEMES = ("mailto", "mailtos")
_SPLIT_RE = re.compile(r"[\s,;]+")


def mail_recipients(url: str) -> list[str]:
    """The recipients a ``mailto[s]://`` URL names in its path and its ``to=``, in order,
    once each ([] for another URL, or one naming none: apprise then mails the sender)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return []
    if parts.scheme.lower() not in _MAIL_SCHEMES:
        return []
    found = [urllib.parse.unquote(p) for p in parts.path.split("/") if "@" in urllib.parse.unquote(p)]
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() == "to":
            found += [v for v in _SPLIT_RE.split(value) if v]
    return list(dict.fromkeys(found))


def _one_recipient(url: str, recipient: str) -> str:
    parts = urllib.parse.urlsplit(url)
    path = "/".join(p for p in parts.path.split("/") if "@" not in urllib.parse.unquote(p))
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "to"]
    query.append(("to", recipient))
    return urllib.parse.urlunsplit(parts._replace(path=path, query=urllib.parse.urlencode(query)))


def expand(url: str) -> list[str]:
    """``url`` as one URL per recipient (``[url]`` when it names one, or cannot be split:
    see the module docstring). The order is the URL's own; a repeated recipient once."""
    chats = telegram.chats(url)
    if len(chats) > 1:
        return [telegram.only_chat(url, c) for c in dict.fromkeys(chats)]
    rcpts = mail_recipients(url)
    if len(rcpts) > 1:
        query = urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query, keep_blank_values=True)
        if not any(k.lower() in ("cc", "bcc") and v for k, v in query):
            return [_one_recipient(url, r) for r in rcpts]
    return [url]


@dataclass
class Target:
    """One delivery target of a channel: its progress key (a hash of `url`), its URL, its
    own rate limiter, and ``whole``: the key of the configured URL it was split from by
    :func:`expand` ("" when not split)."""

    key: str
    url: str
    limiter: RateLimiter
    whole: str = ""


def inherit(progress: DeliveryProgress, split: list[Target]) -> DeliveryProgress:
    """`progress` with what a split target's whole URL had (recorded before URLs naming
    several recipients were split) counted as had by each of its recipients: an alert
    pending across that upgrade is not resent to a chat that got it. Refusals are not
    inherited (a re-queue drops them anyway)."""
    for t in split:
        had = [m for m in progress.marks if t.whole and m.target == t.whole and not m.refused]
        for m in had:
            progress = progress.add(Mark(t.key, m.part))
    return progress
