"""Realistic Arabic news pages built around real text (fixtures for tests and bench).

All article, headline and teaser text comes from tests/fixtures/ (seed reports and
a SaudiNewsNet excerpt, see tests/fixtures/README.md); only UI labels (menus,
"مشاركة", cookie banner, copyright line) are written here, as outlets write them.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parent.parent / "fixtures"
SEEDS_DIR = FIXTURES / "seeds"
SNN_DIR = FIXTURES / "saudinewsnet"
DAYS = ("2015-07-21", "2015-07-22", "2015-07-23")
STYLES = tuple(range(6))


@dataclass(frozen=True)
class SeedReport:
    """One seed report split into the article and what is not the article."""

    title: str
    body_paragraphs: tuple[str, ...]  # article text, subheads included
    tail_junk: tuple[str, ...]  # related/read-also/appended-story lines (not the article)
    outlet: str
    name: str = ""  # file stem
    url: str = ""
    furniture: tuple[str, ...] = ()  # share/print/font controls seen on the page
    captions: tuple[str, ...] = ()
    read_also: tuple[str, ...] = ()  # in-body related headlines
    related: tuple[tuple[str, str], ...] = ()  # (headline, teaser) below the article
    appended_story: tuple[str, tuple[str, ...]] | None = None  # (title, paragraphs)


# Hand-marked line roles per seed file: (first, last, role), 1-based, inclusive; later
# rows override earlier ones. Blank and nbsp-only lines are ignored.
_SEED_LAYOUT: dict[str, tuple[str, str, list[tuple[int, int, str]]]] = {
    # alaraby.co.uk: summary bullets behind "اظهر الملخص"; lines 17 and 28 are other
    # articles' headlines boxed inside the body (each followed by an nbsp card line).
    "000_96f424c22c679a2e": (
        "العربي الجديد",
        "alaraby",
        [
            (1, 1, "title"),
            (3, 3, "date"),
            (4, 4, "caption"),
            (5, 6, "furniture"),
            (7, 9, "summary"),
            (10, 36, "body"),
            (17, 17, "read_also"),
            (28, 28, "read_also"),
            (37, 37, "furniture"),
        ],
    ),
    # youm7.com: lead caption twice, author, date; empty tags box and share label at the end.
    "002_c4de4682c1a3ca3f": (
        "اليوم السابع",
        "youm7",
        [
            (1, 2, "caption"),
            (5, 5, "title"),
            (7, 7, "author"),
            (9, 9, "date"),
            (10, 98, "body"),
            (99, 99, "furniture"),
            (100, 117, "blank"),
            (118, 118, "furniture"),
        ],
    ),
    # aawsat.com: "TT" font control, captions inside the body, then "مقالات ذات صلة" cards
    # (kicker+caption, headline, teaser, byline) and an unrelated Pakistan story appended.
    "003_06eb678c74ab6c05": (
        "الشرق الأوسط",
        "aawsat",
        [
            (1, 1, "title"),
            (3, 3, "subtitle"),
            (5, 6, "caption"),
            (7, 7, "furniture"),
            (9, 9, "title"),
            (11, 12, "caption"),
            (13, 69, "body"),
            (18, 18, "caption"),
            (30, 30, "caption"),
            (40, 40, "caption"),
            (71, 71, "related_heading"),
            (72, 109, "related"),
            (73, 73, "related_title"),
            (84, 84, "related_title"),
            (91, 91, "related_title"),
            (98, 98, "related_title"),
            (105, 105, "related_title"),
            (79, 79, "related_teaser"),
            (86, 86, "related_teaser"),
            (93, 93, "related_teaser"),
            (100, 100, "related_teaser"),
            (107, 107, "related_teaser"),
            (110, 136, "appended"),
            (111, 111, "appended_title"),
            (122, 136, "appended_body"),
        ],
    ),
}
_JUNK_ROLES = (
    "read_also",
    "related_heading",
    "related",
    "related_title",
    "related_teaser",
    "appended",
    "appended_title",
    "appended_body",
)


def _dedup(items) -> tuple[str, ...]:
    seen: set[str] = set()
    return tuple(x for x in items if not (x in seen or seen.add(x)))


def seed_reports() -> list[SeedReport]:
    """The three seed reports, split by the hand-marked table above."""
    return list(_seed_reports())


@cache
def _seed_reports() -> tuple[SeedReport, ...]:
    out = []
    for stem, (outlet, slug, rows) in _SEED_LAYOUT.items():
        lines = (SEEDS_DIR / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
        roles: dict[int, str] = {}
        for first, last, role in rows:
            roles.update({n: role for n in range(first, last + 1)})
        by: dict[str, list[str]] = {}
        for n, raw in enumerate(lines, 1):
            text = raw.replace("\xa0", " ").strip()
            if text and roles.get(n, "blank") != "blank":
                by.setdefault(roles[n], []).append(text)
        g = lambda role, by=by: by.get(role, [])  # noqa: E731
        related = tuple(zip(g("related_title"), g("related_teaser")))
        appended = None
        if g("appended_title"):
            appended = (g("appended_title")[0], tuple(g("appended_body")))
        junk = [
            t
            for n, raw in enumerate(lines, 1)
            if roles.get(n) in _JUNK_ROLES
            for t in [raw.replace("\xa0", " ").strip()]
            if t
        ]
        out.append(
            SeedReport(
                title=g("title")[0],
                body_paragraphs=tuple(g("body")),
                tail_junk=_dedup(junk),
                outlet=outlet,
                name=stem,
                url=f"https://{slug}.example/article/{stem}",
                furniture=_dedup(g("furniture")),
                captions=_dedup(g("caption")),
                read_also=tuple(g("read_also")),
                related=related,
                appended_story=appended,
            )
        )
    return tuple(out)


def split_paragraphs(content: str, target: int = 450) -> list[str]:
    """Paragraphs of a SaudiNewsNet body: its own line breaks, long blocks cut at sentence ends."""
    out: list[str] = []
    for block in (b.strip() for b in content.split("\n")):
        if not block:
            continue
        cur = ""
        for sent in re.split(r"(?<=[.!؟?])\s+", block):
            cur = f"{cur} {sent}".strip()
            if len(cur) >= target:
                out.append(cur)
                cur = ""
        if cur:
            out.append(cur)
    return out


@cache
def _snn_day(day: str) -> tuple[dict, ...]:
    with open(SNN_DIR / f"{day}.jsonl", encoding="utf-8") as f:
        return tuple(json.loads(line) for line in f if line.strip())


def saudinewsnet_articles(day: str = "2015-07-21", limit: int | None = None) -> list[dict]:
    """Excerpt articles of one day: {source, url, date_extracted, title, author, content}."""
    arts = [dict(a) for a in _snn_day(day)]
    return arts[:limit] if limit is not None else arts


def titles_mentioning(words) -> list[str]:
    """Real headlines (excerpt and seed tail junk) containing any of ``words``."""
    words = [words] if isinstance(words, str) else list(words)
    pool = [a["title"] for d in DAYS for a in _snn_day(d)]
    for s in seed_reports():
        pool += list(s.read_also) + [t for t, _ in s.related]
        pool += [s.appended_story[0]] if s.appended_story else []
    return list(_dedup(t for t in pool if any(w in t for w in words)))


def other_titles(n: int, *, exclude: str = "", day: str = "2015-07-22") -> list[str]:
    """``n`` real headlines for chrome (deterministic)."""
    return [a["title"] for a in _snn_day(day) if a["title"] != exclude][:n]


# ---------------------------------------------------------------- page building
_e = html.escape
_NAV = ("الرئيسية", "أخبار محلية", "عربي ودولي", "اقتصاد", "رياضة", "ثقافة وفنون", "رأي", "فيديو")
_SHARE = ("فيسبوك", "تويتر", "واتساب", "تيليجرام")
_COOKIE = "نستخدم ملفات تعريف الارتباط (الكوكيز) لتحسين تجربتك على الموقع."


def _is_subhead(p: str) -> bool:
    return len(p) < 70 and not re.search(r"[.!؟?:»\"”]$", p)


def _links(items, cls: str = "", wrap: str = "li") -> str:
    return "".join(f'<{wrap}{cls}><a href="{_e(u)}">{_e(t)}</a></{wrap}>' for t, u in items)


def _pairs(items) -> list[tuple[str, str, str]]:
    """Normalize (title, url[, teaser]) tuples."""
    return [(i[0], i[1], i[2] if len(i) > 2 else "") for i in items]


def _chrome_top(outlet: str, style: int, ticker: list[tuple[str, str]]) -> str:
    nav = "".join(f'<li><a href="/section/{k}">{_e(n)}</a></li>' for k, n in enumerate(_NAV))
    tick = "".join(f"<span>{_e(t)}</span>" for t, _ in ticker)
    classes = [
        ("site-header", "main-menu", "breaking-news"),
        ("region-header", "menu", "ticker"),
        ("header", "topMenu", "urgent"),
        ("site-head", "nav-list", "news-bar"),
        ("top", "menu1", "marq"),
        ("css-1x9k2", "css-7hq1a", "css-u3m0"),
    ][style]
    return (
        f'<header class="{classes[0]}"><a class="logo" href="/">{_e(outlet)}</a>'
        f'<nav><ul class="{classes[1]}">{nav}</ul></nav>'
        f'<div class="{classes[2]}"><b>عاجل</b> {tick}</div></header>'
    )


def _chrome_bottom(outlet: str, style: int, most_read: list[tuple[str, str]]) -> str:
    box = ("widget most-read", "block-popular", "mostRead", "side-box", "box3", "css-p0q2r")[style]
    side = f'<aside class="sidebar"><div class="{box}"><h3>الأكثر قراءة</h3><ol>{_links(most_read)}</ol></div></aside>'
    foot = (
        f'<footer><ul>{_links([("من نحن", "/about"), ("اتصل بنا", "/contact"), ("سياسة الخصوصية", "/privacy")])}'
        f"</ul><p>© 2024 {_e(outlet)}. جميع الحقوق محفوظة</p></footer>"
    )
    cookie = f'<div id="cookie-notice"><p>{_COOKIE}</p><button>موافق</button></div>'
    return side + foot + cookie


def _body_blocks(paragraphs, read_also, style: int, captions) -> list[str]:
    """Article paragraphs with in-body read-also boxes placed after ~1/3 and ~2/3."""
    ra = _pairs(read_also)
    slots = {max(1, len(paragraphs) * (k + 1) // (len(ra) + 1)): (k, item) for k, item in enumerate(ra)}
    blocks: list[str] = []
    for i, p in enumerate(paragraphs):
        if i in slots:
            k, (t, u, _) = slots[i]
            blocks.append(
                [
                    f'<p><strong>اقرأ أيضاً:</strong> <a href="{_e(u)}">{_e(t)}</a></p>',
                    f'<div class="related-inline"><h4>اقرأ أيضا</h4><a href="{_e(u)}">{_e(t)}</a></div>',
                    f'<div class="eqraAlso"><span>إقرأ أيضا</span><ul><li><a href="{_e(u)}">{_e(t)}</a></li></ul></div>',
                    f'<div class="card card--inline"><a href="{_e(u)}"><img src="/i/{i}.jpg" alt=""><span>{_e(t)}</span></a></div>',
                    f'<b>إقرأ أيضا:</b> <a href="{_e(u)}">{_e(t)}</a>',
                    # hashed classes: the label inside the link, or a "related" heading mid-body
                    f'<div class="css-q9"><h4>أخبار ذات صلة</h4><ul><li><a href="{_e(u)}">{_e(t)}</a></li></ul></div>'
                    if k % 2
                    else f'<p><a href="{_e(u)}">اقرأ أيضاً: {_e(t)}</a></p>',
                ][style]
            )
        if i == 2 and captions and style in (1, 3):
            blocks.append(f'<figure><img src="/i/c{i}.jpg" alt=""><figcaption>{_e(captions[0])}</figcaption></figure>')
        if style == 4:
            blocks.append(f"<b>{_e(p)}</b>" if _is_subhead(p) else _e(p))
        elif _is_subhead(p):
            blocks.append(f"<p><strong>{_e(p)}</strong></p>" if style == 2 else f"<h2>{_e(p)}</h2>")
        else:
            blocks.append(f"<p>{_e(p)}</p>")
    return blocks


def _related(items, style: int, heading: str) -> str:
    rel = _pairs(items)
    if not rel:
        return ""
    cards = "".join(
        [
            f'<li><a href="{_e(u)}"><img src="/t.jpg" alt=""></a><h4><a href="{_e(u)}">{_e(t)}</a></h4></li>'
            if style == 0
            else f'<div class="views-row"><span class="kicker">عربي ودولي</span><h3><a href="{_e(u)}">{_e(t)}</a></h3>'
            f"<p>{_e(s)}</p></div>"
            if style == 1
            else f'<div class="col"><a href="{_e(u)}">{_e(t)}</a></div>'
            if style == 2
            else f'<li><a href="{_e(u)}">{_e(t)}</a></li>'
            if style == 3
            else f'<tr><td><a href="{_e(u)}">{_e(t)}</a></td></tr>'
            if style == 4
            else f'<a class="css-k2l" href="{_e(u)}"><h3>{_e(t)}</h3><p>{_e(s)}</p></a>'
            for t, u, s in rel
        ]
    )
    return [
        f'<div class="related-posts"><h3 class="block-title">{heading}</h3><ul>{cards}</ul></div>',
        f'<section class="block-related"><h2 class="pane-title">{heading}</h2>{cards}</section>',
        f'<div class="moreNews"><div class="sectionTitle">{heading}</div>{cards}</div>',
        f'<div class="article-more"><h3>{heading}</h3><ul>{cards}</ul></div>',
        f'<table class="tbl2"><tr><td><b>{heading}</b></td></tr>{cards}</table>',
        f'<section class="css-r4d"><h2>{heading}</h2><div class="css-g1">{cards}</div></section>',
    ][style]


def article_page(
    title: str,
    paragraphs,
    *,
    outlet: str,
    url: str,
    related=(),
    read_also=(),
    appended_story=None,
    style: int = 0,
    most_read=None,
    captions=(),
    tags=(),
    published: str = "2015-07-21",
    charset: str = "utf-8",
) -> str:
    """A full news page: header/nav/ticker, the article with in-body read-also boxes,
    share bar, tags, related block, optional appended story, sidebar, footer, cookie banner.

    ``related``/``read_also`` are (title, url) or (title, url, teaser) tuples;
    ``appended_story`` is (title, paragraphs). Styles 0..5 mimic different outlets:
    0 WordPress, 1 Drupal (aawsat-like), 2 ASP.NET form (youm7-like), 3 alaraby-like,
    4 legacy table layout with <br> paragraphs, 5 hashed CSS classes (no hints).
    """
    if style not in STYLES:
        raise ValueError(f"style must be in {STYLES}")
    paragraphs = list(paragraphs)
    rel = list(related)
    most_read = (
        list(most_read)
        if most_read is not None
        else [(t, f"/news/mr{k}") for k, t in enumerate(other_titles(5, exclude=title))]
    )
    ticker = most_read[:2]
    share = "".join(f'<a href="#s{k}">{s}</a>' for k, s in enumerate(_SHARE))
    tag_links = "".join(f'<a href="/tag/{k}">{_e(t)}</a> ' for k, t in enumerate(tags))
    blocks = _body_blocks(paragraphs, read_also, style, list(captions))
    heading = (
        "مقالات ذات صلة",
        "مقالات ذات صلة",
        "أخبار ذات صلة",
        "مواضيع ذات صلة",
        "المزيد من الأخبار",
        "اقرأ المزيد",
    )[style]
    related_html = _related(rel, style, heading)
    app = ""
    if appended_story:
        at, aps = appended_story[0], [f"<p>{_e(p)}</p>" for p in appended_story[1]]
        app = [
            f'<div class="next-post"><article class="post"><h1 class="entry-title">{_e(at)}</h1>'
            f'<div class="entry-content">{"".join(aps)}</div></article></div>',
            f'<div class="infinite-scroll-item"><article class="node"><h1>{_e(at)}</h1>{"".join(aps)}</article></div>',
            f'<div class="articleCont"><h1>{_e(at)}</h1><div id="articleBody2">{"".join(aps)}</div></div>',
            f'<article><h1>{_e(at)}</h1><div class="article-body">{"".join(aps)}</div></article>',
            f'<table><tr><td class="title"><h1>{_e(at)}</h1></td></tr><tr><td class="text">'
            f'{"<br><br>".join(_e(p) for p in appended_story[1])}</td></tr></table>',
            f'<section class="css-a9"><h2 class="css-h">{_e(at)}</h2>{"".join(aps)}</section>',
        ][style]
    meta_title = f"{title}{' | ' if style in (1, 5) else ' - '}{outlet}"
    head = (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="{charset}">'
        f"<title>{_e(meta_title)}</title>"
        f'<meta property="og:title" content="{_e(title)}">'
        + (f'<meta property="og:site_name" content="{_e(outlet)}">' if style != 4 else "")
        + f'<meta property="og:url" content="{_e(url)}"><meta property="og:type" content="article">'
        f"<script>var dataLayer=[];</script><style>.x{{color:red}}</style></head>"
    )
    top = _chrome_top(outlet, style, ticker)
    bottom = _chrome_bottom(outlet, style, most_read)
    tagbox_label = "الكلمات الدالة" if style in (2, 3) else "الوسوم:"
    if style == 0:
        main = (
            f'<div id="content"><article class="post type-post"><header class="entry-header">'
            f'<h1 class="entry-title">{_e(title)}</h1><span class="posted-on">{published}</span></header>'
            f'<div class="share-post">مشاركة {share} <a href="#print">طباعة</a></div>'
            f'<div class="entry-content">{"".join(blocks)}</div>'
            f'<div class="post-tags"><span>{tagbox_label}</span> {tag_links}</div></article>'
            f"{related_html}{app}</div>"
        )
    elif style == 1:
        main = (
            f'<div class="node node-article"><h1 class="node-title">{_e(title)}</h1>'
            f'<div class="font-tools"><a href="#">T</a><a href="#">T</a></div>'
            f'<div class="field field-name-body">{"".join(blocks)}</div>'
            f'<div class="social-links">{share}</div></div>{related_html}{app}'
        )
    elif style == 2:
        main = (
            f'<form id="form1" action="/Story"><div class="articleHeader"><h1>{_e(title)}</h1>'
            f'<span class="newsDate">{published}</span></div>'
            f'<div id="articleBody" class="articleCont">{"".join(blocks)}</div>'
            f'<div class="tags"><h3>{tagbox_label}</h3>{tag_links}</div>'
            f'<div class="shareBar"><span>مشاركة</span>{share}</div>{related_html}{app}</form>'
        )
    elif style == 3:
        main = (
            f'<main><article><header><h1>{_e(title)}</h1><time>{published}</time>'
            f'<div class="font-size">+ الخط -</div></header>'
            f'<div class="article-body">{"".join(blocks)}</div>'
            f'<div class="article-tags"><h3>{tagbox_label}</h3>{tag_links}</div>'
            f'<div class="authors"><h3>المساهمون</h3></div></article>{related_html}{app}</main>'
        )
    elif style == 4:
        main = (
            f'<table width="100%"><tr><td class="mainTitle"><h1>{_e(title)}</h1></td></tr>'
            f'<tr><td><a href="#print">طباعة</a> | <a href="#send">أرسل لصديق</a></td></tr>'
            f'<tr><td class="ArticleText">{"<br><br>".join(blocks)}</td></tr></table>'
            f"{related_html}{app}"
        )
    else:
        main = (
            f'<main class="css-m1"><article class="css-a1"><h1 class="css-t1">{_e(title)}</h1>'
            f'<div class="css-s1"><span>مشاركة</span>{share}</div>'
            f'<div class="css-b1">{"".join(blocks)}</div></article>{related_html}{app}</main>'
        )
    return f"{head}<body>{top}{main}{bottom}</body></html>"


CHROME_WORDS = ("روسيا", "كوريا الشمالية", "بوتين")


def seed_page(seed: SeedReport, style: int) -> str:
    """``article_page`` for a seed report with its own read-also, related and appended story;
    seeds without them get real headlines naming CHROME_WORDS instead."""
    other = [t for t in titles_mentioning(CHROME_WORDS) if t not in seed.tail_junk]
    rel = [(t, f"/related/{k}", s) for k, (t, s) in enumerate(seed.related)] or [
        (t, f"/related/{k}") for k, t in enumerate(other[:4])
    ]
    ra = [(t, f"/read/{k}") for k, t in enumerate(seed.read_also)] or [(other[4], "/read/0")]
    return article_page(
        seed.title,
        seed.body_paragraphs,
        outlet=seed.outlet,
        url=seed.url,
        related=rel,
        read_also=ra,
        appended_story=seed.appended_story,
        style=style,
        captions=seed.captions,
        published="2024-06-21",
    )


def corpus_article_page(arts: list[dict], i: int, url: str, chrome: list[str]) -> str:
    """Article `i` of `arts` as a page for the benches: style `i % len(STYLES)`, four related
    headlines of other corpus articles, one or two read-also lines from `chrome`
    (`titles_mentioning(CHROME_WORDS)`), and every third page another story appended."""
    a = arts[i]
    related = [(arts[(i * 7 + k + 1) % len(arts)]["title"], f"/r/{i}-{k}") for k in range(4)]
    read_also = [(chrome[(i + k) % len(chrome)], f"/ra/{i}-{k}") for k in range(1 + i % 2)]
    appended = None
    if i % 3 == 0:
        other = arts[(i * 11 + 5) % len(arts)]
        appended = (other["title"], tuple(split_paragraphs(other["content"])[:3]))
    return article_page(
        a["title"],
        split_paragraphs(a["content"]),
        outlet=a["source"],
        url=url,
        style=i % len(STYLES),
        related=related,
        read_also=read_also,
        appended_story=appended,
        published=a.get("date_extracted", "2015-07-21")[:10],
    )
