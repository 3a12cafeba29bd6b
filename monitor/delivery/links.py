"""Feed text and links made safe to show in an alert (pure functions, no I/O).

* `strip_format(text)` drops every invisible format character (Unicode category
  Cf: LRM/RLM/ALM, bidi embeddings, overrides and isolates, zero-width characters,
  soft hyphen, word joiner, BOM, Unicode tag characters U+E0000-U+E007F...). The
  RLM our own layout puts at the start of Arabic lines is added after this.
* `link_url(url)` is the URL an alert links to and shows: only ``http``/``https``;
  ``user:password@`` removed (the visible "host" of ``https://bank.example@evil.test/``
  is the user name); a host whose label mixes scripts (Latin with Cyrillic, Greek...)
  or is written wholly in Cyrillic or Greek is shown as punycode (``xn--...``) so a
  homograph cannot pass for a Latin name; a host holding a format character (a bidi
  mark) or that IDNA refuses makes no link (""), as does any other scheme. The host
  shown is therefore the host the link opens. ``" ' < > ` `` in the path, query or
  fragment are percent-encoded (same URL; no quote can reach an ``href``). ``" ' < > ` `` in the path, query or
  fragment are percent-encoded (same URL; no quote can reach an ``href``).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

__all__ = ["strip_format", "link_url", "shown_host"]

_CONTROL = re.compile("[\x00-\x20\x7f-\x9f]")
# scripts a Latin name can be faked with, letter by letter
_CONFUSABLE_SCRIPTS = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE"})


# Invisible characters outside category Cf: combining grapheme joiner, Hangul fillers, Khmer
# inherent vowels, Mongolian variation selectors, variation selectors, Braille blank
# (Unicode's Default_Ignorable_Code_Point list plus U+2800, which renders as nothing).
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u2800\u3164\uffa0"
    + "".join(chr(c) for c in range(0xFE00, 0xFE10))
)


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE or 0xE0100 <= ord(ch) <= 0xE01EF


def strip_format(text: str) -> str:
    """`text` without format characters (category Cf) and the other invisible ones
    (`_INVISIBLE`, variation selectors). Linear in its length."""
    if text.isascii():
        return text
    return "".join(ch for ch in text if not _invisible(ch))


def _script(ch: str) -> str | None:
    """The script of a letter, from its Unicode name (None: digit, hyphen, other)."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else "UNKNOWN"


def _needs_punycode(label: str) -> bool:
    scripts = {s for s in map(_script, label) if s}
    return len(scripts) > 1 or bool(scripts & _CONFUSABLE_SCRIPTS)


def shown_host(host: str) -> str | None:
    """`host` as an alert shows it: lower case; labels needing it (see module doc) as
    punycode; None when it holds a format or control character or IDNA refuses it."""
    if any(unicodedata.category(ch) in ("Cc", "Zs", "Zl", "Zp") or _invisible(ch) for ch in host):
        return None
    host = host.lower().rstrip(".")
    if host.isascii():
        return host or None
    labels = []
    for label in host.split("."):
        if label.isascii() or not _needs_punycode(label):
            labels.append(label)
            continue
        try:
            labels.append(label.encode("idna").decode("ascii"))
        except UnicodeError:
            return None
    return ".".join(labels)


def link_url(url: str) -> str:
    """The link an alert carries for `url` ("" when none is safe; see module doc).
    Spaces become %20; control characters are dropped."""
    raw = (url or "").strip()
    try:
        parts = urlsplit(_CONTROL.sub("", raw.replace(" ", "%20")))
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https"):
        return ""
    hostport = parts.netloc.rpartition("@")[2]  # userinfo dropped
    host, port = hostport, ""
    if hostport.startswith("["):  # IPv6 literal
        end = hostport.find("]")
        if end < 0:
            return ""
        host, port = hostport[: end + 1], hostport[end + 1 :]
    elif ":" in hostport:
        host, _, rest = hostport.partition(":")
        port = ":" + rest
    if port and not re.fullmatch(r":\d{1,5}", port):
        return ""
    shown = host.lower() if host.startswith("[") else shown_host(host)
    if not shown:
        return ""
    path, query, fragment = (_quote_unsafe(strip_format(p)) for p in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme.lower(), shown + port, path, query, fragment))


_UNSAFE_IN_HREF = {'"': "%22", "'": "%27", "<": "%3C", ">": "%3E", "`": "%60"}


def _quote_unsafe(part: str) -> str:
    """Percent-encode the characters that end or break an HTML attribute (``"``...):
    the link survives any escaping mistake downstream (apprise 1.9.3-2.0.x broke an
    href holding ``"``) and means the same URL."""
    return "".join(_UNSAFE_IN_HREF.get(ch, ch) for ch in part)
