"""One real article as pages of different markup (issue 15 kind 5: "one event, two stories ...
must not depend on page markup").

Every text comes from tests/fixtures (the article, its byline, other real headlines as read-also,
related and caption lines); only markup and UI labels are written here. `PAGE_VARIANTS` names each
way an outlet may dress the same wire story; `variant_page` builds it around `article_page` (or, for
the app shell, a page whose text is only in its schema.org JSON-LD).
"""

from __future__ import annotations

import html
import json

from tests.support.corpus_pages import (
    CHROME_WORDS,
    article_page,
    other_titles,
    split_paragraphs,
    titles_mentioning,
)

# (id, what the page adds or changes; cited reports of the same kind from other tools where found)
PAGE_VARIANTS: tuple[tuple[str, str], ...] = (
    ("plain", "the article alone in a WordPress layout: the control"),
    ("read-also-box", "two in-body 'اقرأ أيضاً' boxes naming other stories (Drupal layout); mediacloud/backend#41"),
    ("related-list", "a related-stories list with teasers below the article (alaraby-like); codelucas/newspaper#128"),
    ("captions", "photo captions inside the body (alaraby-like layout, figure/figcaption)"),
    ("byline-date", "a byline and dateline block above the lead, as the outlet printed it"),
    ("share-tags", "share bar, print link and a tag box (ASP.NET form layout)"),
    ("standfirst", "the lead paragraph set apart as a standfirst above the body"),
    ("appended-story", "another story appended below (infinite scroll), as in the aawsat seed page"),
    ("legacy-table", "table layout, <br> paragraphs, no og:site_name"),
    ("hashed-classes", "hashed CSS classes, related heading inside the body"),
    ("jsonld-only", "an app shell: the text only in schema.org JSON-LD articleBody; mozilla/readability#846"),
)


def _json_ld_page(title: str, paragraphs: list[str], *, outlet: str, url: str, published: str) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "datePublished": f"{published}T08:00:00+03:00",
        "publisher": {"@type": "Organization", "name": outlet},
        "mainEntityOfPage": url,
        "articleBody": "\n\n".join(paragraphs),
    }
    e = html.escape
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{e(title)} - {e(outlet)}</title>'
        f'<meta property="og:title" content="{e(title)}"><meta property="og:site_name" content="{e(outlet)}">'
        f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
        f'<body><div id="root"><header><a href="/">{e(outlet)}</a></header><div class="spinner"></div></div>'
        f'<script src="/static/app.js"></script></body></html>'
    )


def variant_page(variant: str, art: dict, url: str, *, other: dict | None = None) -> str:
    """`art` (a corpus article: source, title, content, author, date_extracted) as a page of
    `variant`; `other` is the story appended below for "appended-story"."""
    title, paragraphs, outlet = art["title"], split_paragraphs(art["content"]), art["source"]
    published = art.get("date_extracted", "2015-07-21")[:10]
    if variant == "jsonld-only":
        return _json_ld_page(title, paragraphs, outlet=outlet, url=url, published=published)
    chrome = [t for t in titles_mentioning(CHROME_WORDS) if t != title]
    others = other_titles(6, exclude=title, day="2015-07-23")
    kw: dict = {"style": 0}
    if variant == "read-also-box":
        kw = {"style": 1, "read_also": [(t, f"/read/{k}") for k, t in enumerate(chrome[:2])]}
    elif variant == "related-list":
        kw = {"style": 3, "related": [(t, f"/rel/{k}", s) for k, (t, s) in enumerate(zip(others, chrome))]}
    elif variant == "captions":
        kw = {"style": 3, "captions": chrome[:1]}
    elif variant == "share-tags":
        kw = {"style": 2, "tags": others[:3]}
    elif variant == "appended-story":
        assert other is not None
        kw = {"style": 0, "appended_story": (other["title"], tuple(split_paragraphs(other["content"])[:3]))}
    elif variant == "legacy-table":
        kw = {"style": 4}
    elif variant == "hashed-classes":
        kw = {"style": 5, "read_also": [(t, f"/r/{k}") for k, t in enumerate(chrome[:2])]}
    elif variant not in ("plain", "byline-date", "standfirst"):
        raise ValueError(f"unknown page variant {variant!r}")
    page = article_page(title, paragraphs, outlet=outlet, url=url, published=published, **kw)
    if variant == "byline-date" and art.get("author"):
        block = f'<div class="byline"><span class="author">{html.escape(art["author"])}</span> <time>{published}</time></div>'
        page = page.replace("</header><div", f"{block}</header><div", 1)
    elif variant == "standfirst" and len(paragraphs) > 1:
        lead = f"<p>{html.escape(paragraphs[0])}</p>"
        page = page.replace(lead, "", 1).replace(
            '<div class="entry-content">',
            f'<p class="standfirst"><strong>{html.escape(paragraphs[0])}</strong></p><div class="entry-content">',
            1,
        )
    return page
