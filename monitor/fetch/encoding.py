"""Page bytes -> text, for Arabic sites that mislabel their charset (pure).

Order of evidence: a BOM; valid UTF-8 (legacy Arabic bytes almost never
validate); the HTTP charset; a `<meta charset>` anywhere in the head, even
late; then windows-1256 and ISO-8859-6. Each candidate must decode strictly
and must not look like mojibake (Arabic read through a Latin code page, or
UTF-8 read as windows-1252 and re-encoded); UTF-8 mojibake is repaired when
the repair gives Arabic. If nothing passes, MojibakeError: the caller falls
back and records it, so mis-decoded text is never stored silently.
"""

from __future__ import annotations

import codecs
import re

from monitor.errors import ExtractError


class MojibakeError(ExtractError):
    """The page's text could not be decoded reliably."""


_META = re.compile(rb"""<meta\b[^>]{0,500}?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]{1,40})""", re.I)
_HEAD_END = re.compile(rb"</head\s*>|<body\b", re.I)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.-]+)", re.I)
_ARABIC = re.compile(r"[\u0621-\u064a]")
_LATIN_HIGH = re.compile(r"[\u00c0-\u00ff]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
# UTF-8 Arabic read as windows-1252/latin-1: lead bytes D8-DB show as Ø Ù Ú Û.
_UTF8_AS_LATIN = re.compile(
    r"[\u00d8\u00d9\u00da\u00db][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
    r"\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# Arabic letters run together with Latin letters or signs inside one word: the other
# Arabic code page (ISO-8859-6 read as windows-1256 gives "è" for "و").
_MIXED = re.compile(r"[\u0621-\u064a][\u00c0-\u00ff\u00d7\u00f7]|[\u00c0-\u00ff\u00d7\u00f7][\u0621-\u064a]")
_FALLBACKS = ("windows-1256", "iso-8859-6")


def http_charset(content_type: str) -> str | None:
    m = _HTTP_CHARSET.search(content_type or "")
    return m.group(1) if m else None


def meta_charset(data: bytes, limit: int = 256 * 1024) -> str | None:
    """The charset a `<meta>` declares anywhere before the body starts (within `limit` bytes)."""
    head = data[:limit]
    end = _HEAD_END.search(head)
    m = _META.search(head[: end.start() if end else len(head)])
    return m.group(1).decode("ascii") if m else None


def looks_mojibake(text: str) -> bool:
    """True when `text` looks like Arabic decoded with the wrong code page."""
    if "\ufffd" in text and text.count("\ufffd") * 50 > len(text):
        return True
    if len(_UTF8_AS_LATIN.findall(text)) >= 3:
        return True
    mixed = len(_MIXED.findall(text))
    if mixed >= 3 and mixed * 100 > len(_ARABIC.findall(text)):
        return True
    high = len(_LATIN_HIGH.findall(text))
    if high < 5:
        return False
    # Latin languages use accents sparingly between ASCII letters; Arabic read as
    # latin-1/1252 is almost all high letters.
    return high > len(_ARABIC.findall(text)) and high * 3 > len(_ASCII_LETTER.findall(text))


def _repair_utf8(text: str) -> str | None:
    """Undo UTF-8 bytes read as windows-1252 (or latin-1); None if that is not what happened."""
    for enc in ("windows-1252", "latin-1"):
        try:
            fixed = text.encode(enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _ARABIC.search(fixed) and not looks_mojibake(fixed):
            return fixed
    return None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def decode_html(data: bytes, content_type: str = "") -> str:
    """Decode a page; raise MojibakeError when no reading gives clean text."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, "replace")
    candidates = ["utf-8", _codec(http_charset(content_type)), _codec(meta_charset(data))]
    candidates += list(_FALLBACKS)
    tried: list[str] = []
    for enc in dict.fromkeys(c for c in candidates if c):
        if enc in ("latin-1", "iso8859-1", "cp1252") and enc in tried:
            continue
        tried.append(enc)
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if not looks_mojibake(text):
            return text
        repaired = _repair_utf8(text)
        if repaired is not None:
            return repaired
        if enc == "utf-8":  # valid multi-byte UTF-8 is not a legacy code page read wrong
            break
    raise MojibakeError(
        f"text does not decode cleanly as any of {', '.join(tried)} "
        f"(declared: {http_charset(content_type) or meta_charset(data) or 'none'})"
    )
