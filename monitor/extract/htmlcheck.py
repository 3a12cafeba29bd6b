"""Refuse pages nested absurdly deep before the extractor walks them (pure).

Real pages nest a few dozen levels (page builders a few hundred); a page nested
thousands deep costs the extractor minutes of CPU, so it is refused with a
clean error instead.
"""

from __future__ import annotations

import lxml.html
from lxml import etree

from monitor.errors import ExtractError

MAX_DEPTH = 1000
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)


def nesting_depth(text: str) -> int:
    """Deepest element nesting of an HTML document (0 if it does not parse)."""
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return 0
    depth = deepest = 0
    for event, _el in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def check_depth(text: str, url: str = "", limit: int = MAX_DEPTH) -> str:
    """Return `text`, or raise ExtractError when it nests deeper than `limit`."""
    depth = nesting_depth(text)
    if depth > limit:
        raise ExtractError(f"page nests {depth} levels deep (limit {limit}){f' ({url})' if url else ''}")
    return text
