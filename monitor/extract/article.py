"""Article title and body from a news page (pure: no network).

trafilatura finds the main text block, but on Arabic news pages that block often
holds "اقرأ أيضاً" boxes, related-story lists, share/print furniture and sometimes a
whole unrelated story appended below. So we clean the lxml tree first (class/id
hints, text labels, link density, story boundaries), run trafilatura on what is
left, then drop furniture lines and trailing boilerplate from its text.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree
from lxml.html import HtmlElement

from monitor.errors import ExtractError
from monitor.extract.structured import noscript_html, structured_article
from monitor.extract.teasers import drop_teasers, in_running_text, remove_keeping_tail
from monitor.fetch.encoding import decode_html
from monitor.models import ExtractedText

if TYPE_CHECKING:
    from trafilatura.settings import Extractor

__all__ = ["extract"]

_DIACRITICS = re.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
# (from, to) pairs: str.replace per pair is ~3x faster than str.translate with a dict table on
# Arabic text (the cleanup norms every element's text: issue 16), same output.
_FOLD = tuple(zip("أإآٱىة", "اااايه"))
_PUNCT = re.compile(r"[^\w\s]+")


def _norm(text: str) -> str:
    """Fold Arabic spelling variants and punctuation so labels compare reliably.

    A text of at most ``NORM_CACHE_CHARS`` characters is cached: the cleanup asks for the same
    texts again and again (an element and its only child, a label in the tree walk and in the
    label pass, the title against each candidate), 67 calls per page for 22 distinct texts over
    bench/versus_script.py's pages (issue 16). A longer text (a paragraph, an <h1> left open
    around the whole article) is not kept: 1,024 of them held ≈ 0.7 MB each for 180,000-character
    paragraphs, up to the page budget each (redteam16 #1, tests/unit/test_redteam16_caches.py).
    Cache: 1,024 entries of at most 300 characters, text and result: under 3 MB (4 bytes a
    character at worst)."""
    return _norm_short(text) if len(text) <= NORM_CACHE_CHARS else _norm_text(text)


NORM_CACHE_CHARS = 300


def _norm_text(text: str) -> str:
    text = _DIACRITICS.sub("", text)
    for variant, letter in _FOLD:
        if variant in text:
            text = text.replace(variant, letter)
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


_norm_short = lru_cache(maxsize=1024)(_norm_text)


# Labels, matched on _norm()ed text. INLINE ones introduce a box inside the article;
# END ones head what follows the article (related lists, tags, most read, comments).
_INLINE = re.compile(
    r"^(?:(?:اقرا|طالع|شاهد|انظر|راجع)\s+(?:ايضا|كذلك|المزيد)|اقرا المزيد|"
    r"للمزيد اقرا|read (?:also|more)|see also)\b"
)
_END = re.compile(
    r"^(?:(?:\w+\s+){0,2}(?:ذات صله|متعلقه|مرتبطه|مشابهه)|"
    r"(?:ال)?كلمات (?:ال)?(?:داله|مفتاحيه)|"
    r"(?:ال)?وسوم|المزيد من\s.{0,30}|(?:ال)?اكثر (?:قراءه|مشاهده|تداولا|تعليقا)|"
    r"(?:ال)?تعليقات|اضف تعليق\w*|related(?: \w+)?|tags|more (?:stories|news|from\s.{0,30})|"
    r"you may also like|most (?:read|popular))$"
)
# Whole lines made only of these words are page furniture (share, print, font size).
_FURNITURE = set(
    _norm(
        "مشاركة شارك طباعة اطبع ارسل لصديق الخط حجم tt a اظهر الملخص المساهمون فيسبوك فيس بوك "
        "تويتر واتساب واتس اب تيليجرام تلغرام لينكدان انستغرام نسخ الرابط اضف تعليق عاجل موافق "
        "x إكس مشاركات تعليقات"
    ).split()
)
# Trailing boilerplate: one strong marker, two weak ones, or one weak one on a short line.
_BOILER_STRONG = re.compile(r"جميع الحقوق محفوظه|لا (?:تعبر|يعبر|تمثل)(?: بالضروره)? عن (?:راي|وجهه)|الاراء الوارده")
_BOILER_WEAK = re.compile(
    r"\b(?:التعليقات|سياسه الخصوصيه|شروط (?:ال)?استخدام|اشترك في|تابعونا|حمل تطبيق|"
    r"ملفات تعريف الارتباط|ارشادات الاستخدام)\b"
)


def _boilerplate(line: str) -> bool:
    low = _norm(line)
    weak = len(set(_BOILER_WEAK.findall(low)))
    return "©" in line or bool(_BOILER_STRONG.search(low)) or weak >= 2 or (weak == 1 and len(line) <= 150)


# class/id hints for non-article blocks: distinctive stems as substrings, short words as tokens.
_JUNK_SUB = re.compile(
    r"related|share|sharing|social|newsletter|subscri|recommend|comment|disqus|outbrain|taboola|"
    r"breadcrumb|cookie|consent|gdpr|popular|most-?_?read|mostview|most-?viewed|trending|ticker|"
    r"breaking|marquee|sidebar|advert|sponsor|more-?_?news|more-?_?stor|read-?_?more|"
    r"next-?_?(?:post|article|story)|infinite|eqra|iqra|ekra|aqra|keyword|tags|tag-?cloud|"
    r"font-?_?size|fontsize|font-tools|print|news-?_?bar|urgent|marq"
)
_JUNK_TOKEN = re.compile(
    r"(?:^|[\s_-])(?:ads?|nav|menu|footer|tools|toolbar|widget|promo|banner|"
    r"popup|modal|tag|author|authors|byline|caption)(?:$|[\s_-])"
)
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "button",
    "select",
    "input",
    "nav",
    "footer",
    "aside",
    "figure",
    "figcaption",
)
_BLOCKS = {
    "div",
    "section",
    "ul",
    "ol",
    "li",
    "p",
    "table",
    "tbody",
    "tr",
    "td",
    "dl",
    "span",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "article",
    "center",
    "font",
}
_PROSE = 100  # a text run this long is article prose, not a headline or a label
_MIN_BEFORE = 300  # prose needed above a label before we believe the article ended there


def extract(html: str | bytes, url: str | None = None) -> ExtractedText:
    """Title and body (paragraphs joined by a blank line) of the article in ``html``.

    When the visible HTML holds no prose paragraph, the body (and title and date) come
    from the page's structured data or ``<noscript>`` copy (see monitor.extract.structured);
    ``ExtractedText.source`` says which ("page", "jsonld", "hydration", "noscript").
    Raises ExtractError naming the cause when the page holds no article text.
    """
    text = decode_html(html) if isinstance(html, bytes) else html
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text or "")
    text = _CONTROL.sub("", text)  # lxml refuses to re-set text holding these
    if not text.strip():
        raise ExtractError(f"page is empty{_at(url)}")
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractError(f"page is not parseable HTML{_at(url)}: {exc}") from exc
    title = _title(root)
    _clean(root, title, url)
    paragraphs = _postprocess(_trafilatura(root, url), title)
    if any(len(p) >= _PROSE for p in paragraphs):
        return ExtractedText(title=title, body="\n\n".join(paragraphs))
    # Our cleaning may have cut too much on an unusual layout, or the page is an app shell
    # whose story sits in its data: look at the raw page, but only accept real prose.
    raw_root = lxml.html.document_fromstring(text, parser=_PARSER)
    found = structured_article(raw_root, url)
    if found is not None:
        body = "\n\n".join(p for p in found.paragraphs if _norm(p) != _norm(found.title or title))
        return ExtractedText(title=found.title or title, body=body, published=found.published, source=found.source)
    shadow = noscript_html(raw_root)
    if shadow is not None:
        inner = lxml.html.document_fromstring(f"<html><body>{shadow}</body></html>", parser=_PARSER)
        _clean(inner, title, url)
        kept = _postprocess(_trafilatura(inner, url), title)
        if any(len(p) >= _PROSE for p in kept):
            return ExtractedText(title=title, body="\n\n".join(kept), source="noscript")
    if not paragraphs:
        raw = _postprocess(_trafilatura(raw_root, url), title)
        paragraphs = raw if any(len(p) >= _PROSE for p in raw) else []
    if not paragraphs:
        raise ExtractError(f"no article text found{_at(url)}: {_why_empty(text)}")
    return ExtractedText(title=title, body="\n\n".join(paragraphs))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# huge_tree: libxml2 otherwise silently drops everything nested deeper than 256 levels
# (page builders do that); the fetcher bounds page size.
_PARSER = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True)


def _at(url: str | None) -> str:
    return f" ({url})" if url else ""


def _why_empty(text: str) -> str:
    root = lxml.html.document_fromstring(text, parser=_PARSER)
    for el in list(root.iter("script", "style", "noscript", "title", "head")):
        el.drop_tree()
    words = len(" ".join(root.itertext()).split())
    links = sum(len(" ".join(a.itertext()).split()) for a in root.iter("a"))
    if words == 0:
        return "the page has no visible text"
    if links >= words / 2:
        return f"{links} of its {words} words are links: navigation or link lists only"
    return f"its {words} words hold no article-like paragraph"


# ---------------------------------------------------------------- title
# One walk of the tree finds what _title reads: <meta> elements with a content (og:site_name,
# og:title, twitter:title) and <title> elements, in document order. It replaces a walk per
# question (a ``//meta[...]`` XPath for each of two or three names and ``//title/text()``: ≈ 0.09
# ms each on bench/versus_script.py's pages, issue 16), with the same answers.
_TITLE_PARTS = etree.XPath("//*[self::meta[@content] or self::title]")
_META_NAMES = ("og:site_name", "og:title", "twitter:title")


def _head_texts(root: HtmlElement) -> tuple[dict[str, str], str]:
    """``({name: content of the first <meta property=name or name=name content=...>}, text of
    the first text node in a <title>)``: the first item of ``//meta[@property=$p or @name=$p]
    /@content`` for each of _META_NAMES found, and of ``//title/text()`` ("" if none)."""
    metas: dict[str, str] = {}
    title: str | None = None
    for el in _TITLE_PARTS(root):
        if el.tag == "meta":
            for key in (el.get("property"), el.get("name")):
                if key in _META_NAMES and key not in metas:
                    metas[key] = el.get("content", "")
        elif title is None:  # its text nodes: its text, then its children's tails
            title = el.text if el.text is not None else next((c.tail for c in el if c.tail is not None), None)
    return metas, title or ""


def _title(root: HtmlElement) -> str:
    """og:title / <h1> / <title>: an <h1> that agrees with the others wins (a lone <h1>
    is often the site logo), then og:title, then <title> without the outlet name."""
    metas, title_text = _head_texts(root)

    def meta(prop: str) -> str:
        return _text(metas.get(prop, ""))

    site, og = meta("og:site_name"), meta("og:title") or meta("twitter:title")
    h1s = [t for t in (_text(h.text_content()) for h in root.iter("h1")) if t and _norm(t) != _norm(site)]
    page = _strip_site(_text(title_text), site, h1s + [og])
    for h in h1s:
        if any(o and (_norm(h) in _norm(o) or _norm(o) in _norm(h)) for o in (og, page)):
            return h
    og = _strip_site(og, site, h1s)
    return next((t for t in (og, page, *h1s) if t and _norm(t) != _norm(site)), "")


def _strip_site(title: str, site: str, others: list[str]) -> str:
    parts = [p.strip() for p in re.split(r"\s+[-|–—:]\s+|\s*\|\s*", title) if p.strip()]
    if len(parts) < 2:
        return title
    keep = [p for p in parts if not (site and (_norm(site) in _norm(p) or _norm(p) in _norm(site)))]
    for p in keep:  # the segment another candidate confirms is the headline
        if any(o and _norm(p) == _norm(o) for o in others):
            return p
    return " - ".join(keep) if site else title


def _text(s: str) -> str:
    return " ".join((s or "").split())


# _text and _norm work character by character (a run of spaces or punctuation becomes one
# space), so what they make of a prefix of a text is never longer than what they make of the
# whole: a prefix can prove an element's text too long to be a label without normalizing all of
# it. Containers hold the whole article; normalizing each one's text in full made the cleanup
# quadratic in the nesting depth (issue 16).
# Each first tries a shorter prefix (enough for running text): by the same argument a prefix
# that proves it proves it for the longer one, so the answer is the same, for half the work.
def _text_longer(raw: str, n: int) -> bool:
    """Whether ``_text(raw)`` is longer than ``n`` characters (False when unsure)."""
    return len(raw) > n and (len(_text(raw[: n + 32])) > n or len(_text(raw[: 2 * n + 64])) > n)


def _norm_longer(raw: str, n: int) -> bool:
    """Whether ``_norm(raw)`` is longer than ``n`` characters (False when unsure)."""
    return len(raw) > n and (len(_norm(raw[: n + n // 4 + 16])) > n or len(_norm(raw[: 4 * n + 64])) > n)


# ---------------------------------------------------------------- tree cleaning
_drop = remove_keeping_tail  # remove an element but keep its tail text (it belongs to the parent)


def _attached(el: HtmlElement, root: HtmlElement) -> bool:
    """False once an ancestor was removed (lists are collected before removing)."""
    return el.getroottree().getroot() is root


def _link_chars(el: HtmlElement) -> int:
    return sum(len(_text(a.text_content())) for a in el.iter("a"))


# Every text and tail inside an element (its own tail excluded) outside any link.
_OUTSIDE_LINKS = etree.XPath(".//text()[not(ancestor::a)]")


def _prose(el: HtmlElement) -> int:
    """Characters of long non-link text runs inside ``el``: each text of an element that is
    not and is not inside an <a>, and each tail of such an element other than ``el`` (one
    XPath; walking every node's ancestors in Python was ≈ 5% of extraction, issue 16)."""
    n = 0
    for s in _OUTSIDE_LINKS(el):
        if len(s) >= _PROSE and len(s.strip()) >= _PROSE and not (s.is_tail and s.getparent().tag == "a"):
            n += len(s.strip())
    return n


def _clean(root: HtmlElement, title: str, url: str | None = None) -> None:
    body = root.find("body")
    if body is None:
        return
    for el in list(body.iter(*_DROP_TAGS)):
        _drop(el)
    for el in list(body.iter("header")):  # page headers (logo, menus, ticker), not article headers
        if not any(a.tag in ("article", "main") for a in el.iterancestors()):
            _drop(el)
    total = _prose(body) or 1
    for el in list(body.iter()):
        # class/id hints; a block holding most of the page's prose is a wrapper, keep it.
        hint = f"{el.get('class', '')} {el.get('id', '')}".lower()
        if (
            hint.strip()
            and (_JUNK_SUB.search(hint) or _JUNK_TOKEN.search(hint))
            and _attached(el, root)
            and _prose(el) < total / 2
        ):
            _drop(el)
    _restructure(body)
    # An <article> holding our headline and prose is the story: what lies outside it
    # (appended stories, teasers without markup hints) is not. Without one, other
    # <article>s (cards, appended stories) go and the one with most prose stays.
    articles = list(body.iter("article"))
    titled = [
        a
        for a in articles
        if _prose(a) >= _PROSE and any(_norm(_text(h.text_content())) == _norm(title) for h in a.iter("h1", "h2"))
    ]
    node = titled[-1] if titled else None
    while node is not None and node is not body:
        for sib in list(node.itersiblings()) + list(node.itersiblings(preceding=True)):
            _drop(sib)
        node = node.getparent()
    if not titled and len(articles) > 1:
        main = max(articles, key=_prose)
        for a in articles:
            if a is not main and main not in a.iterancestors() and a not in main.iterancestors():
                _drop(a)
    _cut_at_boundary(body, title)
    for el in list(body.iter()):
        if _attached(el, root) and el is not body:
            _label_box(el, root)
    drop_teasers(body, url)  # "read also" boxes by structure, whatever their label
    for el in list(body.iter(*_BLOCKS)):
        if _attached(el, root) and el is not body and _is_link_block(el):
            _drop(el)
    # trafilatura drops headings when no known container class matches; subheads that sit
    # among the article's paragraphs are article text, so hand them over as paragraphs.
    for h in list(body.iter("h2", "h3", "h4", "h5", "h6")):
        parent = h.getparent()
        if parent is not None and sum(len(_text(p.text_content())) >= _PROSE for p in parent.iter("p")) >= 2:
            h.tag = "p"


_BLOCK_TAGS = {
    "p",
    "div",
    "table",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "li",
    "dl",
    "pre",
    "form",
    "main",
}


def _restructure(body: HtmlElement) -> None:
    """Layout tables become divs and <br>-separated text becomes <p>s: trafilatura
    flattens both into one run, losing the paragraphs of legacy pages."""
    for table in list(body.iter("table")):
        if _prose(table) >= _PROSE:
            for el in table.iter("table", "thead", "tbody", "tfoot", "tr", "td", "th"):
                el.tag = "div"
    for el in list(body.iter()):
        kids = list(el)
        if sum(k.tag == "br" for k in kids) < 2 or any(k.tag in _BLOCK_TAGS for k in kids):
            continue
        cur = el.makeelement("p", {})
        cur.text, el.text, out = el.text, None, [cur]
        for k in kids:
            el.remove(k)
            if k.tag == "br":
                if len(cur) or (cur.text or "").strip():
                    cur = el.makeelement("p", {})
                    out.append(cur)
                cur.text = (cur.text or "") + (k.tail or "")
            else:
                cur.append(k)
        el.extend(p for p in out if _text(p.text_content()))
        if el.tag == "p":
            el.tag = "div"


def _cut_at_boundary(body: HtmlElement, title: str) -> None:
    """Drop everything after the first END label or foreign headline that follows enough
    prose: past that point come related lists, tags and appended stories."""
    total, before, in_link, marks, since_title = _prose(body), 0, 0, [], None
    our_title = _norm(title)
    for event, el in etree.iterwalk(body, events=("start", "end")):
        if event == "end":
            in_link -= el.tag == "a"
            if el.tail and len(el.tail.strip()) >= _PROSE and not in_link:
                before += len(el.tail.strip())
            continue
        raw = el.text_content()
        headline = _is_headline(el)  # once per element (it was asked up to three times)
        if not headline and _norm_longer(raw, 45):
            own = ""  # neither a headline nor short enough for an END label: no mark
        else:
            own = _norm(_text(raw))
        if headline and own and own == our_title and since_title is None:
            since_title = before
        elif own and ((len(own) <= 45 and _END.match(own)) or headline):
            # after our headline and some prose, a new headline starts another story and a
            # label ends the article (however short it is)
            after_ours = since_title is not None and before - since_title >= _PROSE
            marks.append((el, before, after_ours and headline, after_ours))
        in_link += el.tag == "a"
        if el.text and len(el.text.strip()) >= _PROSE and not in_link:
            before += len(el.text.strip())
    for el, before, new_story, after_ours in marks:
        if new_story or (
            not _text_continues(_box(el)) and (after_ours or (before >= _MIN_BEFORE and before >= (total - before) / 4))
        ):
            node: HtmlElement | None = el
            while node is not None and node is not body:
                parent = node.getparent()
                if parent is not None:
                    for sib in list(node.itersiblings()):
                        parent.remove(sib)
                node.tail = None
                node = parent
            _drop(el)
            return


def _is_headline(el: HtmlElement) -> bool:
    """An <h1>, or a heading classed as a story title (entry-title, node-title...)."""
    return el.tag == "h1" or (
        el.tag in ("h2", "h3") and bool(_HEADLINE_HINT.search(f"{el.get('class', '')} {el.get('id', '')}"))
    )


_HEADLINE_HINT = re.compile(r"title|headline", re.I)


def _box(el: HtmlElement) -> HtmlElement:
    """The block a label heads: climb while the parent adds only links to the label."""
    own, box = _text(el.text_content()), el
    while (up := box.getparent()) is not None and up.tag != "body":
        if len(_text(up.text_content())) - _link_chars(up) - len(own) > 20 or len(_text(up.text_content())) > 600:
            break
        box = up
    return box


def _text_continues(box: HtmlElement) -> bool:
    """Article paragraphs follow the box in the same flow: it is a box inside the body
    (a mid-article "ذات صلة" list), not the end of the article."""
    return any(
        _prose(sib) >= _PROSE and not _is_link_block(sib) and next(sib.iter("h1", "h2", "h3"), None) is None
        for sib in box.itersiblings()
    )


def _label_box(el: HtmlElement, root: HtmlElement) -> None:
    """Remove a "read also"/"related" box: the label, its links, or the list after it."""
    raw = el.text_content()
    if _text_longer(raw, 300) and _norm_longer(raw, len("breaking news")):
        return  # too long for a box label (below) and for a ticker's label
    own = _text(raw)
    low = _norm(own)
    parent = el.getparent()
    if (
        low in ("عاجل", "breaking", "breaking news")
        and parent is not None
        and parent.tag != "body"
        and len(_text(parent.text_content())) < 800
    ):
        _drop(parent)  # a news ticker: the label and the headlines scrolling beside it
        return
    if not own or len(own) > 300 or not (_INLINE.match(low) or (len(own) <= 45 and _END.match(low))):
        return
    box = _box(el)
    has_links = _link_chars(box) > 0
    nxt = box.getnext()
    _drop(box)
    for _ in range(12):  # label alone: the links follow it (list, cards, <a> runs up to a <br>)
        if has_links or nxt is None or nxt.tag == "br":
            break
        following, is_list = nxt.getnext(), _is_link_block(nxt, 0.5)
        if not (is_list or nxt.tag == "a" or _is_card(nxt)):
            break
        _drop(nxt)
        has_links, nxt = is_list, following


def _is_card(el: HtmlElement) -> bool:
    """A teaser: a headline link plus a little text."""
    size = len(_text(el.text_content()))
    return (
        0 < size < 400
        and _link_chars(el) >= 0.2 * size
        and any(len(_text(a.text_content())) >= 15 for a in el.iter("a"))
    )


def _is_link_block(el: HtmlElement, share: float = 0.6) -> bool:
    """Link lists, single-link cards and teaser lists (many short children each led by a link),
    unless their links sit inside sentences (the article's text). The shape is judged first:
    reading the links' context (``in_running_text``) walks the whole block (issue 16)."""
    links = list(el.iter("a"))
    if not links:  # neither a link list nor a card, nor made of cards (each needs a link)
        return False
    txt = _text(el.text_content())
    if not txt:
        return False
    lc = _link_chars(el)
    shaped = (len(links) >= 2 and lc >= share * len(txt)) or (
        len(links) == 1 and len(txt) >= 15 and lc >= 0.9 * len(txt) and el.tag != "span"
    )
    if not shaped:
        kids = [k for k in el if isinstance(k.tag, str) and _text(k.text_content())]
        shaped = len(kids) >= 3 and sum(map(_is_card, kids)) >= 0.75 * len(kids)
    return shaped and not in_running_text(el)


# ---------------------------------------------------------------- trafilatura and text pass
def _trafilatura(root: HtmlElement, url: str | None) -> str:
    """trafilatura's text of ``root``: first its main extractor alone (``fast=True``), and
    only when that finds no prose line again with its fallback extractors (justext,
    readability), which then compete with it. Same text as always running the fallbacks
    on every page we measured (bench/README.md), ~12% less extraction CPU."""
    text = _run_trafilatura(root, url, fast=True)
    if any(len(line) >= _PROSE for line in text.splitlines()):
        return text
    return _run_trafilatura(root, url, fast=False)


# What we ask of trafilatura.extract. Tables stay on: legacy Arabic sites lay whole articles out in <table>.
TRAFILATURA_ARGS: dict[str, object] = {
    "output_format": "txt",
    "include_comments": False,
    "include_tables": True,
    "include_links": False,
    "include_images": False,
    "favor_precision": True,
    "deduplicate": False,
}


def _run_trafilatura(root: HtmlElement, url: str | None, *, fast: bool) -> str:
    # Imported here: a pass with no new article (every feed 304) does not load trafilatura,
    # htmldate, courlan and justext (≈ 80 ms CPU and ≈ 8 MB, issue 16).
    import trafilatura

    return trafilatura.extract(root, options=extractor_options(url, fast=fast)) or ""


def extractor_options(url: str | None, *, fast: bool) -> Extractor:
    """The ``trafilatura.settings.Extractor`` that ``trafilatura.extract(root, url=url, fast=fast,
    **TRAFILATURA_ARGS)`` builds for itself, as a copy of one built once per day: building it reads
    eight settings through configparser, ≈ 0.1 ms a page (12% of trafilatura's time, issue 16).
    A copy differs only in the URL (``url`` and ``source``, set as Extractor does)."""
    from datetime import datetime

    options = copy.copy(_extractor_template(fast, datetime.now().astimezone().strftime("%Y-%m-%d")))
    source = url or None
    options.url = url
    options.source = source and source.encode("utf-8", "replace").decode("utf-8")
    return options


@lru_cache(maxsize=4)
def _extractor_template(fast: bool, day: str) -> Extractor:
    """An Extractor without a URL; ``day``: its date parameters name today's date (``max_date``)."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="txt",
        fast=fast,
        precision=True,
        comments=False,
        tables=True,
        links=False,
        images=False,
        dedup=False,
    )


# A line of only furniture words (at most six) normalizes to at most this many characters.
_FURNITURE_LINE = 6 * max(map(len, _FURNITURE)) + 5


def _postprocess(text: str, title: str) -> list[str]:
    lines: list[str] = []
    prose = 0
    title_low = _norm(title)
    plain = max(len(title_low), _FURNITURE_LINE)  # a line normalizing longer is neither title nor furniture
    for line in (_text(s.strip(" |")) for s in text.splitlines()):
        if len(line) > 300 and _norm_longer(line, plain):
            # a paragraph: none of the tests below can hold for it (labels are short), so it is
            # not normalized whole (that was most of this pass's time, issue 16)
            if not (lines and line == lines[-1]):
                lines.append(line)
                prose += len(line)
            continue
        low = _norm(line)
        if not low or (lines and line == lines[-1]) or low == title_low:
            continue
        if len(low.split()) <= 6 and all(w in _FURNITURE for w in low.split()):
            continue
        if _INLINE.match(low) and len(line) <= 300:
            continue
        if len(line) <= 45 and _END.match(low):
            if prose >= _MIN_BEFORE:
                break  # whatever follows a trailing related/tags heading is not the article
            continue
        lines.append(line)
        prose += len(line) if len(line) >= _PROSE else 0
    while lines and _boilerplate(lines[-1]) and len(lines[-1]) < 600:
        lines.pop()
    return lines
