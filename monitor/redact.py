"""One registry of secrets and one `redact()`, for log lines, apprise's logs and printed text.

Secrets come from two places: values substituted from `${VAR}` in config
(`add_secrets`) and the secret parts of channel URLs (`add_urls`: userinfo,
password, a Telegram bot token, query values whose name looks like a key,
in plain and percent-encoded forms). Besides known values, shapes that are
secret wherever they appear are masked: Telegram bot tokens (also inside
``/bot<token>/`` request paths), ``user:password@`` in URLs and the body of
an apprise URL (``tgram://``, ``mailtos://``, ...: their path is credentials).
Every replacement is ``***``. `RedactingFilter` applies the same to log records.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable

MASK = "***"

_SECRET_QUERY_KEYS = re.compile(r"(pass|pwd|token|secret|key|auth|apikey|api_key|access|webhook|sig)", re.I)
# (pattern, replacement) applied after the known values, in this order
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/bot)\d+:[^/\s'\"]+"), r"\1" + MASK),  # Bot API request paths
    (re.compile(r"(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{20,}"), MASK),  # bot tokens
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\":]*:[^/@\s'\"]*@"), r"\1" + MASK + "@"),  # user:password@
    (
        re.compile(
            r"(?<![\w+.-])(?!(?:https?|sqlite|postgresql|file)\b)([a-z][a-z0-9]*)(?=(?:\+[a-z0-9]+)?://)"
            r"((?:\+[a-z0-9]+)?)://[^\s'\"<>]+"
        ),
        r"\1\2://" + MASK,
    ),  # apprise URLs
)

_lock = threading.Lock()
# every secret seen so far, longest first; replaced as a whole so readers need no lock
_secrets: tuple[str, ...] = ()


def add_secrets(values: Iterable[str]) -> None:
    """Remember literal secret values (e.g. what `${VAR}` expanded to); empty ones are ignored."""
    global _secrets
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | {v for v in values if v}, key=len, reverse=True))


def url_secrets(url: str) -> set[str]:
    """The secret parts of an apprise/channel URL, plain and percent-encoded (plus the URL)."""
    found = {url}
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return found
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if userinfo:
        _user, sep, password = userinfo.partition(":")
        if sep and password:
            found |= {userinfo, password}
    if parts.scheme.lower() == "tgram":  # tgram://{bot_token}/{chat_id}: the token is the host part
        found.add(hostport)
        if hostport.lower().startswith("bot"):
            found.add(hostport[3:])
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=False):
        if _SECRET_QUERY_KEYS.search(key) and len(value) >= 4:
            found.add(value)
    found |= {urllib.parse.unquote(s) for s in list(found)}
    found |= {urllib.parse.quote(s, safe="") for s in list(found)}
    return {s for s in found if s}


def add_urls(urls: Iterable[str]) -> None:
    """Remember the secret parts of these channel URLs (see `url_secrets`)."""
    found: set[str] = set()
    for url in urls:
        found |= url_secrets(url)
    add_secrets(found)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every known secret, every `extra` value and every secret shape replaced by ***."""
    secrets = _secrets
    more = [e for e in extra if e]
    if more:
        secrets = tuple(sorted(set(secrets) | set(more), key=len, reverse=True))
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (and its exception, without traceback) with `redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
            clean = self.redact(message)
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                clean += " exception=" + self.redact(f"{type(exc).__name__}: {exc}")
                record.exc_info = None  # a traceback could quote a URL with its token
        except Exception:  # pragma: no cover - never break logging
            return True
        if clean != message or record.args:
            record.msg, record.args = clean, None
        return True


_URL_OR_ADDRESS = re.compile(r"\S*://\S*|<[^<>]*@[^<>]*>")


def without_urls(text: str) -> str:
    """`text` with every URL and `<name@host>` replaced by `(withheld)`: for apprise's own
    messages, which quote a URL with pieces of its password (`u:p...p@ss`) that no
    registry of whole secrets can catch."""
    return _URL_OR_ADDRESS.sub("(withheld)", text)
