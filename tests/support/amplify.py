"""Inputs whose cost grows faster than their size if a reader is careless (issue 14, kind 1).

Each generator takes a target size in bytes (or a count where named) and returns bytes.
They rebuild the kinds of public reports in README "Fetching" (quadratic regexes holding
the GIL, DOCTYPEs hidden from a stripper, entity and alias bombs, gzip bodies inflating
past the cap, huge flat pages) with ASCII markup only: no Arabic is invented here.
`AMPLIFIERS` lists the feed-shaped ones with the reader they target; bench/hostile_costs.py
measures them at several sizes.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable

HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<link>http://127.0.0.1/</link><description>d</description>"
)
TAIL = b"</channel></rss>"
ITEM = b"<item><title>%s</title><link>http://127.0.0.1/a%d.html</link><guid>g%d</guid></item>"


def _fill(prefix: bytes, unit: bytes, size: int, suffix: bytes = b"") -> bytes:
    n = max(1, (size - len(prefix) - len(suffix)) // len(unit))
    return prefix + unit * n + suffix


def healthy_item(i: int = 0, title: bytes = b"healthy") -> bytes:
    return ITEM % (title, i, i)


def comment_open_flood(size: int) -> bytes:
    """`<!--` repeated, never closed (field case 03)."""
    return _fill(HEAD + healthy_item(), b"<!--", size)


def cdata_open_flood(size: int) -> bytes:
    return _fill(HEAD + healthy_item(), b"<![CDATA[", size)


def pi_open_flood(size: int) -> bytes:
    return _fill(HEAD + healthy_item(), b"<?x", size)


def tag_open_flood(size: int) -> bytes:
    """`<a` repeated with no `>` anywhere."""
    return _fill(HEAD + healthy_item(), b"<a", size)


def quote_open_flood(size: int) -> bytes:
    """An attribute quote that never closes, then `<a x="` repeated."""
    return _fill(HEAD + healthy_item(), b'<a x="', size)


def lt_flood_summary(size: int) -> bytes:
    """A description of `&lt;` repeated: feedparser unescapes it to '<<<<' for the tag strip."""
    return _fill(
        HEAD + b"<item><title>x</title><link>http://127.0.0.1/a.html</link><description>",
        b"&lt;",
        size,
        b"</description></item>" + TAIL,
    )


def _entity_doctype(levels: int, fan: int = 10) -> bytes:
    ents = [b'<!ENTITY e0 "ha">'] + [
        b'<!ENTITY e%d "%s">' % (i, (b"&e%d;" % (i - 1)) * fan) for i in range(1, levels + 1)
    ]
    return b"<!DOCTYPE rss [" + b"".join(ents) + b"]>"


def doctype_bomb(size: int, *, levels: int = 3, hider: bytes = b"<!-- <x> -->") -> bytes:
    """An entity-defining DOCTYPE hidden behind `hider` (field case 04: a comment holding `<x>`),
    then items each referencing the top entity."""
    head = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        + hider
        + _entity_doctype(levels)
        + b'<rss version="2.0"><channel><title>t</title><link>http://127.0.0.1/</link><description>d</description>'
    )
    unit = b"<item><title>x&e%d;</title><link>http://127.0.0.1/a.html</link></item>" % levels
    return _fill(head, unit, size, TAIL)


def doctype_bomb_pi(size: int) -> bytes:
    """Hidden behind a processing instruction whose pseudo-attribute holds `a<b`."""
    return doctype_bomb(size, hider=b'<?xml-stylesheet href="a<b.xsl" type="text/xsl"?>')


def doctype_bomb_entity_value(size: int) -> bytes:
    """Markup inside a quoted entity value of the internal subset."""
    return doctype_bomb(size, hider=b"").replace(b'<!ENTITY e0 "ha">', b'<!ENTITY e0 "<b>ha</b>">', 1)


def utf16(data: bytes, *, bom: bool = True, big_endian: bool = False, width: int = 16) -> bytes:
    """The same document in UTF-16 or UTF-32 (declaration rewritten), with or without a BOM."""
    text = data.decode("utf-8").replace('encoding="utf-8"', f'encoding="utf-{width}"')
    codec = f"utf-{width}-{'be' if big_endian else 'le'}"
    body = text.encode(codec)
    return ("\ufeff".encode(codec) + body) if bom else body


def deep_feed(depth: int) -> bytes:
    """`<x>` nested `depth` deep inside the channel, beside one healthy item."""
    return HEAD + b"<x>" * depth + b"</x>" * depth + healthy_item() + TAIL


def many_items_feed(count: int) -> bytes:
    return HEAD + b"".join(ITEM % (b"t%d" % i, i, i) for i in range(count)) + TAIL


def sitemap_xml(count: int) -> bytes:
    url = b"<url><loc>http://127.0.0.1/s%d.html</loc><news:news><news:title>t%d</news:title></news:news></url>"
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        + b"".join(url % (i, i) for i in range(count))
        + b"</urlset>"
    )


def gz_sitemap_bomb(inflated: int) -> bytes:
    """A sitemap served as a raw .gz body: a valid urlset padded with spaces to `inflated` bytes."""
    doc = sitemap_xml(3)
    body = doc[: -len(b"</urlset>")] + b" " * max(0, inflated - len(doc)) + b"</urlset>"
    return gzip.compress(body, 9)


def gz_multimember(inflated: int, members: int = 8) -> bytes:
    """The same, split over several gzip members (each must count against one budget)."""
    raw = gzip.decompress(gz_sitemap_bomb(inflated))
    step = max(1, len(raw) // members)
    return b"".join(gzip.compress(raw[i : i + step], 9) for i in range(0, len(raw), step))


def flat_p_page(size: int) -> bytes:
    """An article page of bare `<p>` tags."""
    return _fill(b"<html><head><title>t</title></head><body>", b"<p>", size, b"</body></html>")


def deep_page(depth: int, tag: bytes = b"div") -> bytes:
    return b"<html><body>" + (b"<%s>" % tag) * depth + b"x" + (b"</%s>" % tag) * depth + b"</body></html>"


def yaml_alias_bomb(levels: int = 9, fan: int = 10) -> str:
    lines = ["l0: &l0 [%s]" % ",".join(['"lol"'] * fan)]
    for i in range(1, levels):
        lines.append("l%d: &l%d [%s]" % (i, i, ",".join(["*l%d" % (i - 1)] * fan)))
    return "\n".join(lines) + "\n" + CONFIG_TAIL


CONFIG_TAIL = (
    "feeds: [{name: a, url: 'http://example.org/'}]\nchannels: {c: 'json://127.0.0.1:9/x'}\n"
    "topics: [{id: t, name: T, any: [x], notify: [c]}]\n"
)


def yaml_deep(depth: int, open_: str = "[", close: str = "]") -> str:
    return CONFIG_TAIL + "x: " + open_ * depth + close * depth + "\n"


def yaml_deep_block(depth: int) -> str:
    """Block-style mappings nested `depth` deep."""
    return (
        CONFIG_TAIL + "x:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(depth)) + "  " * (depth + 1) + "v\n"
    )


AMPLIFIERS: dict[str, Callable[[int], bytes]] = {
    "comment_open_flood": comment_open_flood,
    "cdata_open_flood": cdata_open_flood,
    "pi_open_flood": pi_open_flood,
    "tag_open_flood": tag_open_flood,
    "quote_open_flood": quote_open_flood,
    "lt_flood_summary": lt_flood_summary,
    "doctype_bomb": doctype_bomb,
    "doctype_bomb_pi": doctype_bomb_pi,
    "doctype_bomb_entity_value": doctype_bomb_entity_value,
    "doctype_bomb_utf16": lambda n: utf16(doctype_bomb(n)),
    "many_items_feed": lambda n: many_items_feed(max(1, n // 80)),
}
