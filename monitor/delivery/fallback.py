"""The plain form of a message a server refused as ours (too big, markup it cannot parse):
every line of the refused part kept, split into as many short messages as it takes.

Pure functions, no I/O. A plain form used to be the first 3,000 characters of the
message (and, for one part of a split Telegram digest, of the WHOLE digest), so the
alerts past the cut were in no message yet marked sent (issue 12, red-team items 3 and 4).
"""

from __future__ import annotations

import html
import re

from monitor.delivery.render import clean, cut_words, utf16_len
from monitor.models import CHANNEL_KINDS, ChannelKind, RenderedAlert

__all__ = ["FALLBACK_SUBJECT", "FALLBACK_TEXT", "part_id", "plain_fallback", "visible_lines"]

FALLBACK_SUBJECT = 60  # characters
FALLBACK_TEXT = 3000  # UTF-16 units per message (Telegram counts so; well under its 4096)

_HREF_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")


def visible_lines(markup: str) -> list[str]:
    """Telegram HTML -> its visible lines, tags dropped and entities decoded; the URL of
    each link goes on its own line after the line that shows the link's text (a plain
    message keeps where every entry leads)."""
    out: list[str] = []
    for line in markup.split("\n"):
        text = html.unescape(_TAG_RE.sub("", line))
        out.append(text)
        out.extend(f"  {u}" for u in dict.fromkeys(html.unescape(h) for h in _HREF_RE.findall(line)) if u not in text)
    return out


def _pieces(line: str, limit: int) -> list[str]:
    """``line`` in pieces of at most ``limit`` UTF-16 units, cut between words when it can
    (a word longer than ``limit`` is cut inside); nothing dropped."""
    if utf16_len(line) <= limit:
        return [line]
    out: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", line):
        while utf16_len(word) > limit:  # one "word" longer than a message: hard cut
            if current:
                out.append(current)
                current = ""
            cut = limit // 2 if any(ord(c) > 0xFFFF for c in word[:limit]) else limit
            out.append(word[:cut])
            word = word[cut:]
        if utf16_len(current + word) > limit:
            out.append(current)
            current = ""
        current += word
    if current:
        out.append(current)
    return out


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into texts of at most ``limit`` UTF-16 units each, cut only between
    lines (a longer line is cut between words by :func:`_pieces`)."""
    out: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for piece in _pieces(line, limit):
            extra = utf16_len(piece) + (1 if current else 0)
            if current and size + extra > limit:
                out.append("\n".join(current))
                current, size, extra = [], 0, utf16_len(piece)
            current.append(piece)
            size += extra
    if current:
        out.append("\n".join(current))
    return [c for c in (c.strip("\n") for c in out) if c.strip()] or [""]


def plain_fallback(part: RenderedAlert, kind: ChannelKind, limit: int = FALLBACK_TEXT) -> list[RenderedAlert]:
    """The plain form of ``part``, sent when a server refused the message itself
    (:attr:`monitor.delivery.failures.Verdict.MESSAGE`): one or more messages of at most
    ``limit`` UTF-16 units of plain text each (every line of the part kept, in order;
    cut between lines, a longer line between words), a short one-line subject ("(2/3)"
    when there are several), and as HTML only that text escaped (line breaks kept: "\\n"
    for Telegram, ``<br>`` for email). A Telegram part's text is read from its own HTML
    (one part of a split message), never from the whole message's text."""
    telegram = CHANNEL_KINDS[kind].telegram_html
    lines = visible_lines(part.html) if telegram else part.text.splitlines()
    texts = _chunks(lines, limit)
    subject = cut_words(clean(part.subject), FALLBACK_SUBJECT)
    out = []
    for k, text in enumerate(texts):
        escaped = [html.escape(line, quote=True) for line in text.splitlines()]
        markup = "\n".join(escaped) if telegram else "<br>\n".join(escaped)
        head = f"{subject} ({k + 1}/{len(texts)})" if len(texts) > 1 else subject
        out.append(RenderedAlert(head, text, markup))
    return out


def part_id(message_id: str, k: int) -> str:
    """The email Message-ID of piece ``k`` of a plain form: the message's own for the
    first, a distinct one after (mail clients drop a second message with the same id)."""
    return message_id if k == 0 else message_id.replace("@", f".plain{k}@", 1)
