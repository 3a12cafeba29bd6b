"""One registry of secrets and one `redact()`, for log lines, apprise's logs and printed text.

Secrets come from three places: values substituted from `${VAR}` in config
(`add_secrets`, any length), the secret parts of channel URLs (`add_urls`:
userinfo, password, a Telegram bot token, query values whose name looks like a
key) and of configured feed URLs (`add_feed_urls`). Known values of 4
characters or more are replaced wherever they appear, in their plain and
percent-encoded forms (`quote`, `quote_plus`, either hex case). Inside every
http(s) URL of the text (`mask_url`), by position: the userinfo, every query
or fragment value whose name looks like a key or token (`secret_name`:
apikey, token, key, secret, sig, auth, password, session ...) whatever its
length or encoding, and every path segment or query value equal to a known
secret whatever its length. Besides these, shapes that are secret wherever
they appear are masked: Telegram bot tokens (also inside ``/bot<token>/``
request paths), ``user:password@`` in URLs and the body of an apprise URL
(``tgram://``, ``mailtos://``, ...: their path is credentials). Every
replacement is ``***``. `RedactingFilter` applies the same to log records and
`RedactingWriter` to a text stream (the CLI's stdout and stderr).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any, TextIO

MASK = "***"

_SECRET_QUERY_KEYS = re.compile(
    r"(pass|pwd|token|secret|key|auth|apikey|api_key|access|webhook|sig|session|credential|jwt)", re.I
)
MIN_LITERAL = 4  # known values at least this long are replaced anywhere; shorter ones where they stand in a URL
# URLs whose userinfo and key-named query values are masked by position: web and database URLs
_HTTP_URL = re.compile(r"(?i)\b(?:https?|wss?|ftp|postgres(?:ql)?(?:\+\w+)?|mysql(?:\+\w+)?|sqlite)://[^\s'\"<>]+")
# (pattern, replacement) applied after the known values, in this order
_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/bot)\d+:[^/\s'\"]+"), r"\1" + MASK),  # Bot API request paths
    (re.compile(r"(?<![0-9])\d{5,12}:[A-Za-z0-9_-]{20,}"), MASK),  # bot tokens
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\":]*:[^/@\s'\"]*@"), r"\1" + MASK + "@"),  # user:password@
    (
        re.compile(
            r"(?<![\w+.-])(?!(?:https?|sqlite|postgresql|file)\b)([a-z][a-z0-9]*)(?=(?:\+[a-z0-9]+)?://)"
            r"((?:\+[a-z0-9]+)?)://[^\s'\"<>`]+"
        ),
        r"\1\2://" + MASK,
    ),  # apprise URLs
)

_lock = threading.Lock()
# every secret seen so far, longest first, with their encoded forms; replaced as a whole so readers need no lock
_secrets: tuple[str, ...] = ()
# every secret seen so far (all lengths, decoded): matched against URL components
_components: frozenset[str] = frozenset()


def secret_name(name: str) -> bool:
    """Whether a query/fragment parameter name looks like it carries a key or token (any encoding)."""
    return bool(_SECRET_QUERY_KEYS.search(urllib.parse.unquote_plus(name)))


def _forms(value: str) -> set[str]:
    """A value with its percent-encoded forms (`quote`, `quote_plus`, upper and lower hex)."""
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value), urllib.parse.quote(value)}
    forms |= {json.dumps(f, ensure_ascii=False)[1:-1] for f in list(forms)}  # as `--json` output writes it
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), f) for f in list(forms)}
    return forms


def add_secrets(values: Iterable[str]) -> None:
    """Remember secret values (e.g. what `${VAR}` expanded to), of any length; empty ones are ignored."""
    global _secrets, _components
    new = {v for v in values if v}
    literal = {f for v in new if len(v) >= MIN_LITERAL for f in _forms(v)}
    with _lock:
        _secrets = tuple(sorted(set(_secrets) | literal, key=len, reverse=True))
        _components = _components | new | {urllib.parse.unquote_plus(v) for v in new}


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
        if _SECRET_QUERY_KEYS.search(key):
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


def feed_url_secrets(url: str) -> set[str]:
    """The secret parts of a configured feed URL: its password and every query value whose name
    looks like a key (decoded, any length; the URL itself is not secret)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return set()
    found = set()
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        found.add(urllib.parse.unquote(userinfo.partition(":")[2]))
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=False):
        if secret_name(key):
            found.add(value)
    return {s for s in found if s}


def add_feed_urls(urls: Iterable[str]) -> None:
    """Remember the secret parts of configured feed URLs (see `feed_url_secrets`)."""
    add_secrets(set().union(*(feed_url_secrets(url) for url in urls)))


def _is_secret(component: str, known: frozenset[str]) -> bool:
    return bool(component) and (
        component in known or urllib.parse.unquote(component) in known or urllib.parse.unquote_plus(component) in known
    )


def _mask_params(text: str, known: frozenset[str]) -> str:
    out = []
    for param in text.split("&"):
        name, sep, value = param.partition("=")
        if sep and value and (secret_name(name) or _is_secret(value, known)):
            param = f"{name}={MASK}"
        elif not sep and _is_secret(name, known):
            param = MASK
        out.append(param)
    return "&".join(out)


def mask_url(url: str, extra: Iterable[str] = ()) -> str:
    """A web or database URL for people: userinfo -> ``***@`` (a database URL keeps its user
    name); every query/fragment value whose name looks like a key (`secret_name`) or that
    equals a known secret, and every path segment equal to a known secret, -> ``***``,
    whatever its length or percent-encoding. The rest is kept byte for byte."""
    known = _components | frozenset(e for e in extra if e)
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, hash_, fragment = rest.partition("#")
    rest, query_, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at and scheme.lower().startswith(("http", "ws", "ftp")):
        netloc = f"{MASK}@{hostport}"  # a web URL's userinfo may be a token as a whole
    elif at:  # a database URL: the user name stays (it tells which account), the password goes
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{hostport}" if colon else netloc
    if path:
        path = "/".join(MASK if _is_secret(seg, known) else seg for seg in path.split("/"))
    if query:
        query = _mask_params(query, known)
    if fragment:
        fragment = _mask_params(fragment, known)
    return f"{scheme}://{netloc}{slash}{path}{query_}{query}{hash_}{fragment}"


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every known secret, every `extra` value and every secret shape replaced by ***
    (see the module's docstring: literal values, URL components by position, shapes)."""
    secrets = _secrets
    more = [e for e in extra if e]
    if more:
        forms = {f for e in more if len(e) >= MIN_LITERAL for f in _forms(e)}
        secrets = tuple(sorted(set(secrets) | forms, key=len, reverse=True))
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    if "://" in text:
        text = _HTTP_URL.sub(lambda m: mask_url(m.group(0), more), text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class RedactingWriter:
    """A text stream that `redact`s every write before passing it on (everything else is delegated).

    The CLI wraps stdout and stderr with it, so no verb can print a secret whatever it prints.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


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
