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
# UTF-8 Arabic read as windows-1256: lead bytes D8/D9 show as ط/ظ, and the continuation
# byte (80-BF) as one of the code page's symbols or Persian letters. ، ؛ ؟ « » and NBSP are
# left out: real Arabic puts them after ط/ظ.
_CP1256_TAIL = "".join(sorted(set(bytes(range(0x80, 0xC0)).decode("windows-1256")) - set("،؛؟«»\u00a0")))
_UTF8_AS_1256 = re.compile("[\u0637\u0638][" + re.escape(_CP1256_TAIL) + "]")
_FALLBACKS = ("windows-1256", "iso-8859-6")
_XML_DECL = re.compile(r"^\s*<\?xml\b[^>]*?\?>", re.I)
_XML_DECL_CHARSET = re.compile(rb"""^\s*<\?xml\b[^>]{0,200}?encoding\s*=\s*["']\s*([A-Za-z0-9_:.-]{1,40})""", re.I)


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
    # Every test but the windows-1256 one needs a letter of U+00C0-U+00FF (Ø-Û, the Latin-1
    # letters, × and ÷ all lie there): a text without one (clean Arabic or English) is settled
    # by that test alone. One search instead of three scans: decode_html 0.49 -> 0.20 ms per
    # page of bench/versus_script.py (bench/extract_stage.py, issue 16).
    latin = _LATIN_HIGH.search(text) is not None
    if latin and len(_UTF8_AS_LATIN.findall(text)) >= 3:
        return True
    as1256 = len(_UTF8_AS_1256.findall(text))
    if as1256 >= 2 and as1256 * 5 >= len(_ARABIC.findall(text)):
        return True
    if not latin:
        return False
    mixed = len(_MIXED.findall(text))
    if mixed >= 3 and mixed * 100 > len(_ARABIC.findall(text)):
        return True
    high = len(_LATIN_HIGH.findall(text))
    if high < 5:
        return False
    # Latin languages use accents sparingly between ASCII letters; Arabic read as
    # latin-1/1252 is almost all high letters.
    return high > len(_ARABIC.findall(text)) and high * 3 > len(_ASCII_LETTER.findall(text))


def repair_mojibake(text: str) -> str | None:
    """Undo UTF-8 bytes read as windows-1252, latin-1 or windows-1256 (``str`` -> ``str``).

    None when that is not what happened: the round trip must be exact and give Arabic
    that no longer looks mis-decoded.
    """
    found = _repair(text)
    return found[0] if found else None


def _encode_as_browser_1252(text: str) -> bytes:
    """`text` back to the bytes a browser read as windows-1252: the five bytes windows-1252
    leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) come through as U+0081... (WHATWG's
    windows-1252 decoder), which Python's strict codec refuses to encode back."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("windows-1252")
        except UnicodeEncodeError:
            if "\x80" <= ch <= "\x9f":
                out.append(ord(ch))
            else:
                raise
    return bytes(out)


def _repair(text: str) -> tuple[str, str] | None:
    for enc in ("windows-1252", "windows-1252/browser", "latin-1", "windows-1256"):
        try:
            raw = _encode_as_browser_1252(text) if enc == "windows-1252/browser" else text.encode(enc)
            fixed = raw.decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if _ARABIC.search(fixed) and not looks_mojibake(fixed):
            return fixed, enc.partition("/")[0]
    return None


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


def repair_runs(text: str) -> tuple[str, int]:
    """Repair each run of non-ASCII characters that is UTF-8 read as a legacy code page.

    Mis-decoding maps UTF-8's multi-byte sequences to non-ASCII characters only, so a
    mis-decoded title inside otherwise clean text is one such run. A run is repaired only
    when it shows the mojibake pattern and the byte round trip is exact. Returns the text
    and how many runs were repaired.
    """
    if not (_UTF8_AS_1256.search(text) or _UTF8_AS_LATIN.search(text)):
        return text, 0
    count = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal count
        run = m.group(0)
        if not (_UTF8_AS_1256.search(run) or _UTF8_AS_LATIN.search(run)):
            return run
        found = _repair(run)
        if found is None:
            return run
        count += 1
        return found[0]

    return _NON_ASCII_RUN.sub(fix, text), count


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


STRAY_BYTES = "stray bytes"  # `_first_clean`'s repaired_from for UTF-8 with a few invalid bytes replaced
STRAY_RATIO = 20  # valid multi-byte characters needed per invalid byte to still call a text UTF-8


def mostly_utf8(data: bytes) -> str | None:
    """`data` as UTF-8 with its few invalid bytes replaced (U+FFFD), when it is UTF-8 with
    stray bytes (one latin-1 byte pasted into a UTF-8 page); None when the invalid bytes are
    too many for that (a legacy code page: windows-1256 Arabic is almost all invalid UTF-8).
    A text with no multi-byte character at all is never taken for UTF-8 this way."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    if not bad:
        return text
    wide = sum(1 for ch in text if ch > "\x7f") - bad
    return text if wide >= STRAY_RATIO * bad else None


def _first_clean(data: bytes, candidates: list[str | None]) -> tuple[str | None, str, str, list[str]]:
    """The first candidate reading that is not mojibake (or repairs cleanly).

    ``(text, codec, repaired_from, tried)``: `repaired_from` names the code page UTF-8
    had been read through when the text was repaired ("" otherwise); text is None when
    no candidate reads cleanly. Valid multi-byte UTF-8 that looks mis-decoded and cannot
    be repaired stops the search: it is not a legacy code page read wrong.
    """
    tried: list[str] = []
    for enc in dict.fromkeys(c for c in candidates if c):
        tried.append(enc)
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            if enc == "utf-8":
                mostly = mostly_utf8(data)
                if mostly is not None:  # a few stray bytes in a UTF-8 document: never a code page
                    return mostly, enc, STRAY_BYTES, tried
            continue
        if not looks_mojibake(text):
            return text, enc, "", tried
        found = _repair(text)
        if found is not None:
            return found[0], enc, found[1], tried
        if enc == "utf-8":
            break
    return None, "", "", tried


def decode_html(data: bytes, content_type: str = "") -> str:
    """Decode a page; raise MojibakeError when no reading gives clean text."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, "replace")
    candidates = ["utf-8", _codec(http_charset(content_type)), _codec(meta_charset(data)), *_FALLBACKS]
    text, _enc, _repaired, tried = _first_clean(data, candidates)
    if text is not None:
        return text
    raise MojibakeError(
        f"text does not decode cleanly as any of {', '.join(tried)} "
        f"(declared: {http_charset(content_type) or meta_charset(data) or 'none'})"
    )


def xml_charset(data: bytes) -> str | None:
    """The encoding an XML declaration names (leading whitespace and a BOM allowed), or None."""
    m = _XML_DECL_CHARSET.search(data[:512].lstrip(b"\xef\xbb\xbf"))
    return m.group(1).decode("ascii") if m else None


def _declared(data: bytes, content_type: str) -> tuple[str | None, str]:
    """(codec, "label (where)") of the charset the bytes claim: HTTP first, then the XML declaration."""
    for label, where in ((http_charset(content_type), "HTTP"), (xml_charset(data), "XML declaration")):
        codec = _codec(label)
        if codec:
            return codec, f"{label} ({where})"
    return None, ""


WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE_SNIFF = (  # XML 1.0 appendix F: '<?' in each encoding, no BOM
    (b"\x3c\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00\x3c", "utf-32-be"),
    (b"\x3c\x00\x3f\x00", "utf-16-le"),
    (b"\x00\x3c\x00\x3f", "utf-16-be"),
)


def wide_codec(content: bytes) -> str | None:
    """The codec of a UTF-16/UTF-32 document (BOM, else the XML appendix-F sniff); None otherwise."""
    for bom, name in WIDE_BOMS:
        if content.startswith(bom):
            return name
    for head, name in _WIDE_SNIFF:
        if content.startswith(head):
            return name
    return None


def decode_xml(data: bytes, content_type: str = "") -> tuple[str, tuple[str, ...]]:
    """Decode a feed, sitemap or OPML file: ``(text, warnings)``; never raises.

    Same order of evidence as pages: a BOM; valid UTF-8; the HTTP charset; the XML
    declaration's encoding; windows-1256; ISO-8859-6. Every candidate must decode
    strictly and not look like mojibake (UTF-8 read as windows-1252/1256 is repaired).
    A warning names the declaration the bytes contradict. When nothing reads cleanly
    the text is UTF-8 with U+FFFD replacements and a warning says so.
    """
    declared, where = _declared(data, content_type)
    if data.startswith(codecs.BOM_UTF8):
        text = data.decode("utf-8-sig", "replace")
        return text, _contradicts(data, text, declared, where, "utf-8 (byte order mark)")
    wide = wide_codec(data)  # UTF-16/32: by BOM, else by how '<?' is written (XML 1.0 appendix F)
    if wide:
        bom = next((len(b) for b, n in WIDE_BOMS if n == wide and data.startswith(b)), 0)
        text = data[bom:].decode(wide, "replace")
        how = " (byte order mark)" if bom else ""
        return text, _contradicts(data, text, declared, where, wide + how)
    found, enc, repaired_from, tried = _first_clean(data, ["utf-8", declared, _codec(xml_charset(data)), *_FALLBACKS])
    if found is not None and repaired_from == STRAY_BYTES:
        return found, (f"{found.count(chr(0xFFFD))} bytes that are not UTF-8 in a UTF-8 text were replaced",)
    if found is not None and repaired_from:
        return found, (f"text was UTF-8 read as {_DISPLAY.get(repaired_from, repaired_from)} at the source: repaired",)
    if found is not None:
        warnings = _contradicts(data, found, declared, where, enc)
        found, fixed = repair_runs(found)
        if fixed:
            warnings += (f"{fixed} pieces of text were UTF-8 read as a legacy code page at the source: repaired",)
        return found, warnings
    text = data.decode("utf-8", "replace")
    text, fixed = repair_runs(text)
    if fixed:
        return text, (f"{fixed} pieces of text were UTF-8 read as a legacy code page at the source: repaired",)
    return text, (f"feed text looks mis-decoded: no clean reading as {', '.join(tried)}",)


_DISPLAY = {"cp1256": "windows-1256", "cp1252": "windows-1252", "iso8859-6": "iso-8859-6", "iso8859-1": "iso-8859-1"}


def _contradicts(data: bytes, text: str, declared: str | None, where: str, chosen: str) -> tuple[str, ...]:
    """A warning when reading the bytes as declared would have given other text."""
    if declared is None:
        if chosen.startswith("utf-8"):
            return ()
        return (f"no charset declared; bytes read as {_DISPLAY.get(chosen, chosen)}",)
    try:
        if data.decode(declared).lstrip("\ufeff") == text.lstrip("\ufeff"):
            return ()
    except (UnicodeDecodeError, LookupError):
        pass
    return (f"declared {where} would have mis-decoded the text; bytes read as {_DISPLAY.get(chosen, chosen)}",)


def xml_bytes_utf8(text: str) -> bytes:
    """Decoded XML text -> UTF-8 bytes a parser cannot mis-decode.

    Drops a BOM and whatever whitespace precedes the document, and writes (or
    replaces) the XML declaration as ``encoding="utf-8"``.
    """
    body = _XML_DECL.sub("", text.lstrip("\ufeff \t\r\n"), count=1).lstrip("\ufeff \t\r\n")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8", "replace")
