"""One lxml XML parser for every XML we read ourselves (sitemaps, OPML), pure.

`parse_xml_lenient` (what every reader uses) decodes like a browser, skips leading
junk, repairs raw ``&`` and HTML entities and, as a last resort, recovers, recording a
warning for each fallback instead of failing.

No DTD loading, no entity resolution (so no external entities and no entity
expansion bombs), no network, libxml2's default depth limit (a deeply nested
document is an error, not a stack overflow).
"""

from __future__ import annotations

import html.entities
import re

from lxml import etree

from monitor.errors import FeedParseError
from monitor.fetch.encoding import decode_xml, xml_bytes_utf8


def local(tag: object) -> str:
    """Tag name without its namespace ('' for comments and the like)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""


_HOSTILE = re.compile(r"depth|amplification|huge|entity loop", re.I)
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_AMP = re.compile(r"&(?:(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};)|([A-Za-z][A-Za-z0-9]{0,31});)?")
_DOCTYPE = re.compile(r"<!DOCTYPE\b(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.I | re.S)


_XML_START = re.compile(r"<\?xml\b|<(?:[A-Za-z_][\w.-]*:)?(?:urlset|sitemapindex|opml|rss|feed)\b")


def _without_cut_character(content: bytes) -> bytes:
    """UTF-8 bytes cut inside their last character lose that partial character (so the
    decoder does not take a cut-off file for a mis-encoded one); anything else is unchanged."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(content) - 3:
            return content[: exc.start]
    return content


def _repair_entities(text: str) -> str:
    """A bare ``&`` becomes ``&amp;``; an HTML named entity becomes a numeric reference; an
    unknown name stays as written (``&amp;name;``), so nothing is expanded or lost."""

    def fix(m: re.Match[str]) -> str:
        numeric, name = m.group(1), m.group(2)
        if numeric:
            return m.group(0)
        if name is None:
            return "&amp;"
        if name in _XML_ENTITIES:
            return m.group(0)
        value = html.entities.html5.get(name + ";")
        if value is None:
            return "&amp;" + name + ";"
        return "".join(f"&#{ord(c)};" for c in value)

    return _AMP.sub(fix, text)


def _parser(*, recover: bool) -> etree.XMLParser:
    return etree.XMLParser(
        recover=recover,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
    )


def parse_xml_lenient(content: bytes, what: str, content_type: str = "") -> tuple[etree._Element, tuple[str, ...]]:
    """Parse a sitemap or OPML file the way real servers send it: ``(root, warnings)``.

    Bytes are decoded by :func:`monitor.fetch.encoding.decode_xml` (BOM, UTF-8, declared
    charsets, Arabic code pages); a BOM, leading blank lines and any DOCTYPE are dropped.
    Then a strict parse; if that fails, the text is repaired (raw ``&``, HTML named
    entities) and parsed strictly again; only then does libxml2's recovering parser read
    what it can. Entities are never resolved and the network is never used, in any pass.
    Each fallback adds a warning. FeedParseError naming `what` if nothing gives a root.
    """
    text, warned = decode_xml(_without_cut_character(content), content_type)
    warnings = list(warned)
    start = text.lstrip("\ufeff \t\r\n")
    if start and not start.startswith("<"):  # a PHP warning or other text printed before the XML
        m = _XML_START.search(text)
        if m:
            warnings.append(f"skipped {m.start()} characters of text before the XML")
            text = text[m.start() :]
    head = text[:4096]
    m = _DOCTYPE.search(head)
    if m:
        text = text[: m.start()] + text[m.end() :]
    data = xml_bytes_utf8(text)
    try:
        return _checked(etree.fromstring(data, parser=_parser(recover=False)), what), tuple(warnings)
    except (etree.XMLSyntaxError, ValueError) as exc:
        first = exc
    if _HOSTILE.search(str(first)):  # a resource limit, not sloppiness: never read around it
        raise FeedParseError(f"{what} is not well-formed XML: {first}") from None
    repaired = xml_bytes_utf8(_repair_entities(text))
    if repaired != data:
        try:
            fixed = _checked(etree.fromstring(repaired, parser=_parser(recover=False)), what)
            warnings.append("repaired malformed XML (raw &, HTML entities)")
            return fixed, tuple(warnings)
        except (etree.XMLSyntaxError, ValueError):
            pass
    parser = _parser(recover=True)
    root: etree._Element | None
    try:
        root = etree.fromstring(repaired, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        raise FeedParseError(f"{what} is not well-formed XML: {first}") from None
    line = next((e.line for e in parser.error_log), 0)
    cut = ""
    if len(root) and any("Premature end" in e.message for e in parser.error_log):
        root.remove(root[-1])  # the file ends inside its last entry: that entry is incomplete
        cut = "; the cut-off last entry was dropped"
    warnings.append(f"recovered from malformed XML (parsed up to line {line}{cut}): {first}")
    return _checked(root, what), tuple(warnings)


def _checked(root: etree._Element | None, what: str) -> etree._Element:
    if root is None:
        raise FeedParseError(f"{what} is empty")
    for ent in list(root.iter(etree.Entity)):  # unresolved entities stay as nodes: drop them, keep their tail
        parent = ent.getparent()
        if parent is not None:
            prev = ent.getprevious()
            if ent.tail:
                if prev is not None:
                    prev.tail = (prev.tail or "") + ent.tail
                else:
                    parent.text = (parent.text or "") + ent.tail
            parent.remove(ent)
    return root
