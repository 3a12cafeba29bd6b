"""OPML feed lists in and out (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from monitor.errors import FeedParseError
from monitor.sources import DEFAULT_KIND, KINDS
from monitor.sources.xmlsafe import local, parse_xml_lenient


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str
    kind: str = DEFAULT_KIND  # a key of monitor.sources.KINDS
    links: str | None = None
    link_pattern: str | None = None


def parse_opml(content: bytes, content_type: str = "") -> list[OpmlFeed]:
    """Every outline with an xmlUrl, however deeply nested in categories."""
    return read_opml(content, content_type)[0]


def read_opml(content: bytes, content_type: str = "") -> tuple[list[OpmlFeed], tuple[str, ...]]:
    """``(feeds, warnings)``: read leniently (charset, leading junk, raw ``&``), see `parse_xml_lenient`."""
    root, warnings = parse_xml_lenient(content, "OPML file", content_type)
    if local(root.tag) != "opml":
        raise FeedParseError(f"not an OPML file (root element <{local(root.tag)}>)")
    out: list[OpmlFeed] = []
    for el in root.iter():
        url = (el.get("xmlUrl") or "").strip()
        if local(el.tag) != "outline" or not url:
            continue
        name = " ".join((el.get("title") or el.get("text") or url).split())
        kind = (el.get("type") or DEFAULT_KIND).lower()  # type="rss" in most readers' files, "link" in some
        out.append(
            OpmlFeed(
                name,
                url,
                kind if kind in KINDS else DEFAULT_KIND,
                el.get("links") or None,
                el.get("linkPattern") or None,
            )
        )
    return out, warnings


def build_opml(feeds: list[OpmlFeed], title: str = "monitor feeds") -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_esc(title)}</title></head>",
        "  <body>",
    ]
    for f in feeds:
        extra = "".join(f" {k}={quoteattr(v)}" for k, v in (("links", f.links), ("linkPattern", f.link_pattern)) if v)
        lines.append(
            f"    <outline type={quoteattr(f.kind)} text={quoteattr(f.name)} title={quoteattr(f.name)} "
            f"xmlUrl={quoteattr(f.url)}{extra}/>"
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
