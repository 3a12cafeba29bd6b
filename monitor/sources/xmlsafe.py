"""One lxml XML parser for every XML we read ourselves (sitemaps, OPML), pure.

No DTD loading, no entity resolution (so no external entities and no entity
expansion bombs), no network, libxml2's default depth limit (a deeply nested
document is an error, not a stack overflow).
"""

from __future__ import annotations

from lxml import etree

from monitor.errors import FeedParseError


def parse_xml(content: bytes, what: str) -> etree._Element:
    """Parse bytes into an element tree; FeedParseError naming `what` on any problem."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(content, parser=parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise FeedParseError(f"{what} is not well-formed XML: {exc}") from None
    if root is None:
        raise FeedParseError(f"{what} is empty")
    for ent in root.iter(etree.Entity):  # unresolved entities stay as nodes: drop them
        parent = ent.getparent()
        if parent is not None:
            parent.remove(ent)
    return root


def local(tag: object) -> str:
    """Tag name without its namespace ('' for comments and the like)."""
    return etree.QName(tag).localname if isinstance(tag, str) else ""
