"""OPML feed lists in and out (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from monitor.errors import FeedParseError
from monitor.fetch.netguard import UnsafeURLError, check_url
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
    """``(feeds, warnings)``: read leniently (charset, leading junk, raw ``&``), see `parse_xml_lenient`.

    Attribute names are matched without regard to case (``xmlurl``, ``XMLURL`` as written by
    some exporters). An outline whose URL is not a plain absolute http(s) URL (``file:``,
    ``javascript:``, relative, with credentials), or an outline with neither a URL nor
    outlines under it, is skipped with a warning starting "skipped outline "."""
    root, read_warnings = parse_xml_lenient(content, "OPML file", content_type)
    warnings = list(read_warnings)
    if local(root.tag) != "opml":
        raise FeedParseError(f"not an OPML file (root element <{local(root.tag)}>)")
    out: list[OpmlFeed] = []
    for el in root.iter():
        if local(el.tag) != "outline":
            continue
        attrs = {str(k).lower(): str(v) for k, v in el.attrib.items()}
        url = attrs.get("xmlurl", "").strip()
        if not url:
            if len(el) == 0:  # not a folder of outlines: an entry without a feed URL (issue 18)
                label = " ".join((attrs.get("title") or attrs.get("text") or "(no name)").split())
                warnings.append(f"skipped outline {label[:80]!r}: no xmlUrl (not a feed)")
            continue
        try:
            url = check_url(url)
        except UnsafeURLError as exc:
            warnings.append(f"skipped outline {url[:80]!r}: {str(exc).split(': ', 1)[-1]}")
            continue
        name = " ".join((attrs.get("title") or attrs.get("text") or url).split())
        kind = (attrs.get("type") or DEFAULT_KIND).lower()  # type="rss" in most readers' files, "link" in some
        out.append(
            OpmlFeed(
                name,
                url,
                kind if kind in KINDS else DEFAULT_KIND,
                attrs.get("links") or None,
                attrs.get("linkpattern") or None,
            )
        )
    return out, tuple(warnings)


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
