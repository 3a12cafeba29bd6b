""" "Read also" boxes found by their structure, whatever their label says (pure, lxml).

A teaser box is a block whose words are mostly one to four links to other articles of
the same site, with at most a short label of its own («قد يهمك أيضاً:», «اخترنا لك»,
"Don't miss —") and no prose. Outlets invent new labels all the time, so the label's
wording is only a hint (it lets the label be a little longer); the decision rests on
the structure. Links to other hosts (a source credit) and links inside a prose sentence
are text and stay.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from monitor.text.normalize import fold

__all__ = ["drop_teasers", "in_running_text", "is_teaser_block", "remove_keeping_tail"]

MAX_LINKS = 4
MIN_LINK_CHARS = 15  # a headline, not "more" or an icon
MAX_OWN = 40  # characters of non-link text a teaser may carry (its label)
MAX_OWN_HINTED = 60  # ... when that text reads like a known label
PROSE = 100  # a text run this long is prose, never a label
_BLOCKS = ("p", "div", "li", "section", "ul", "ol", "dl", "h2", "h3", "h4", "h5", "h6", "blockquote", "aside")
# Hints only: labels outlets use for teaser boxes (folded: أ/إ/آ -> ا, ة -> ه, ى -> ي).
_HINT = re.compile(
    r"ايضا|كذلك|اخترنا لك|قد يهمك|يهمك|ذات صله|مواضيع|اخبار متعلقه|متعلقه|مرتبطه|اقرا|طالع|شاهد|"
    r"المزيد|لا تفوت|ننصحك|also|related|don.?t miss|recommended|more on|you may like|must read|read more|see more",
    re.I,
)


def _text(s: str | None) -> str:
    return " ".join((s or "").split())


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class _Site:
    """The page's own site, prepared once per page: which links lead to other articles of it."""

    def __init__(self, page_url: str | None) -> None:
        self.page_url = page_url
        parts = urlsplit(page_url or "")
        self.host = _host(page_url or "")
        self.here = (parts.path.rstrip("/"), parts.query)

    def other_article(self, href: str | None) -> bool:
        href = (href or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")) or href == "/":
            return False
        if self.page_url is None:
            return not urlsplit(href).netloc  # without the page's URL only relative links are known to be ours
        if "//" in href or ":" in href.split("/", 1)[0]:  # absolute (or scheme-relative): compare hosts
            target = urljoin(self.page_url, href)
            if _host(target) != self.host:
                return False
        else:
            target = urljoin(self.page_url, href)
        t = urlsplit(target)
        return (t.path.rstrip("/"), t.query) != self.here and t.path not in ("", "/")


def _own_text(el: etree._Element) -> tuple[str, int]:
    """(non-link text of `el`, its longest single run)."""
    parts: list[str] = []

    def walk(node: etree._Element, in_link: bool) -> None:
        in_link = in_link or node.tag == "a"
        if not in_link and isinstance(node.tag, str) and node.text:
            parts.append(node.text)
        for child in node:
            walk(child, in_link)
            if not in_link and child.tail:
                parts.append(child.tail)

    walk(el, False)
    runs = [t for t in (_text(s) for s in parts) if t]
    return " ".join(runs), max((len(t) for t in runs), default=0)


_LINE_BREAKS = frozenset(_BLOCKS) | {"br", "hr", "tr", "td", "th", "dt", "dd", "table", "article", "header", "footer"}
_LABEL_ELEMENTS = frozenset({"strong", "b", "span", "em", "i", "label", "header", "h2", "h3", "h4", "h5", "h6"})
_WORD = re.compile(r"\w")


def _pieces(el: etree._Element) -> list[tuple[str, str, bool]]:
    """`el` flattened: ("text", s, inside a label-like element) / ("link", "", False) / ("break", "", False)."""
    out: list[tuple[str, str, bool]] = []

    def walk(node: etree._Element, labelled: bool) -> None:
        if not isinstance(node.tag, str):
            return
        if node.tag == "a":
            out.append(("link", "", False))
            return
        breaks = node is not el and node.tag in _LINE_BREAKS
        if breaks:
            out.append(("break", "", False))
        labelled = labelled or (node is not el and node.tag in _LABEL_ELEMENTS)
        if node.text:
            out.append(("text", node.text, labelled))
        for child in node:
            walk(child, labelled)
            if child.tail:
                out.append(("text", child.tail, labelled))
        if breaks:
            out.append(("break", "", False))

    walk(el, False)
    return out


def in_running_text(el: etree._Element) -> bool:
    """True when a link in `el` sits inside a sentence rather than standing as a headline.

    A link is in running text when words follow it before the next link or line break
    (``وأضاف أن <a>مجلس الشورى</a> وافق``), or when plain words run straight into it with
    no separator (``اعتقال <a>…</a>``). A label before a link is not running text: it
    ends in a separator (``:``, ``—``, ``|``), sits in its own element (``<strong>``,
    ``<span>``, a heading, a line of its own), or reads like a known label.
    """
    pieces = _pieces(el)
    for i, (kind, _s, _lab) in enumerate(pieces):
        if kind != "link":
            continue
        after = []
        for k, s, _ in pieces[i + 1 :]:
            if k != "text":
                break
            after.append(s)
        if _WORD.search("".join(after)):
            return True
        before: list[tuple[str, bool]] = []
        for k, s, lab in reversed(pieces[:i]):
            if k != "text":
                break
            before.append((s, lab))
        before.reverse()
        run = [(s, lab) for s, lab in before if s.strip()]
        if not run:
            continue
        last, labelled = run[-1]
        joined = "".join(s for s, _ in run)
        if _WORD.search(last.rstrip()[-1:]) and not labelled and not _HINT.search(fold(joined)):
            return True
    return False


def is_teaser_block(el: etree._Element, page_url: str | None, site: _Site | None = None) -> bool:
    """True when `el` is a teaser: 1-4 same-site article links holding >= 15 link characters,
    no more than a short label of non-link text (40 chars, 60 when it reads like a label),
    no link inside running text (`in_running_text`), and not an unlabelled quotation."""
    if not isinstance(el.tag, str):
        return False
    links = list(el.iter("a"))
    if not 1 <= len(links) <= MAX_LINKS:
        return False
    link_chars = sum(len(_text("".join(a.itertext()))) for a in links)
    if link_chars < MIN_LINK_CHARS:
        return False
    site = site or _Site(page_url)
    if not all(site.other_article(a.get("href")) for a in links):
        return False
    own, longest = _own_text(el)
    if longest >= PROSE or in_running_text(el):
        return False
    if not _HINT.search(fold(own)) and (
        el.tag == "blockquote" or next(el.iterancestors("blockquote"), None) is not None
    ):
        return False  # a quotation that is one linked sentence: quoted text, not a teaser
    limit = MAX_OWN_HINTED if _HINT.search(fold(own)) else MAX_OWN
    return len(own) <= limit


_LABEL_TAGS = ("h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "header")


def _is_label(el: etree._Element) -> bool:
    """A short heading-like block without links: what heads a teaser list on its own line.
    A short paragraph counts only when it reads like a label (it may be the article's last line)."""
    if not isinstance(el.tag, str) or next(el.iter("a"), None) is not None:
        return False
    own = _text("".join(el.itertext()))
    if not 0 < len(own) <= MAX_OWN:
        return False
    return el.tag in _LABEL_TAGS or bool(_HINT.search(fold(own)))


_Stats = tuple[int, int, int, int]  # links, link chars, own (non-link) chars, longest own run


def _stats(root: etree._Element) -> dict[etree._Element, _Stats]:
    """Per element, in one bottom-up pass: what is_teaser_block needs, roughly (a prefilter)."""
    stats: dict[etree._Element, _Stats] = {}
    for _event, el in etree.iterwalk(root, events=("end",)):
        if not isinstance(el.tag, str):
            continue
        links = link_chars = own = longest = 0
        for child in el:
            s = stats.get(child)
            if s is not None:
                links, link_chars, own, longest = links + s[0], link_chars + s[1], own + s[2], max(longest, s[3])
            tail = len((child.tail or "").strip())
            own, longest = own + tail, max(longest, tail)
        if el.tag == "a":
            stats[el] = (links + 1, len(_text("".join(el.itertext()))), 0, 0)
            continue
        text = len((el.text or "").strip())
        stats[el] = (links, link_chars, own + text, max(longest, text))
    return stats


def drop_teasers(root: etree._Element, page_url: str | None) -> int:
    """Remove teaser blocks (and a label block right before one) from `root`; how many went.

    Blocks are tried innermost first, so the smallest teaser goes and the article
    around it stays. One bottom-up pass counts links and text per element, so only
    likely teasers are looked at closely (linear in the page's size).
    """
    stats, site = _stats(root), _Site(page_url)
    dropped, top = 0, root.getroottree().getroot()
    for el in reversed(list(root.iter(*_BLOCKS))):
        s = stats.get(el)
        if s is None or not (1 <= s[0] <= MAX_LINKS and s[1] >= MIN_LINK_CHARS and s[3] < PROSE):
            continue
        if s[2] > 2 * MAX_OWN_HINTED:  # stripped lengths undercount spaces a little: generous bound
            continue
        if el is root or el.getparent() is None or el.getroottree().getroot() is not top:
            continue
        if not is_teaser_block(el, page_url, site):
            continue
        prev = el.getprevious()
        labelled = bool(_own_text(el)[0])
        if prev is not None and not labelled and _is_label(prev) and not (prev.tail or "").strip():
            remove_keeping_tail(prev)
        remove_keeping_tail(el)
        dropped += 1
    return dropped


def remove_keeping_tail(el: etree._Element) -> None:
    """Remove `el`, keeping its tail text in the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)
