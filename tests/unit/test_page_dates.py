"""A publication date from any source (a page's JSON-LD, a news sitemap, a feed) is kept only
when it can be one: placeholders at the calendar's edge (.NET's 0001-01-01, 9999-12-31),
times before 1995 or days ahead are dropped (the item is undated), never an OverflowError
on every try of the item (reading the date, or showing it in a channel's time zone).
Rebuilt from SAP/python-pyodata#80 ("0001-01-01T00:00:00" from a .NET service), jelmer/xandikos#538
(9999-12-31 plus a shift overflows) and level12/webgrid#112 (OverflowError besides ValueError).
The whole path to an alert is tests/integration/test_page_dates.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from monitor.extract.article import extract
from monitor.models import plausible_date
from monitor.sources.sitemap import parse_sitemap
from tests.support.corpus_pages import saudinewsnet_articles

NOW = datetime.now(UTC)
RIYADH = timezone(timedelta(hours=3))

# (variant, the date as written, the UTC time kept or None)
CASES = [
    ("far future, Z", "9999-12-31T23:59:59Z", None),  # xandikos#538
    ("far future, offset", "9999-12-31T23:59:59-05:00", None),
    ("year 1 with an offset", "0001-01-01T00:00:00+03:00", None),  # python-pyodata#80
    ("year 1 naive", "0001-01-01T00:00:00", None),  # webgrid#112
    ("Unix epoch placeholder", "1970-01-01T00:00:00Z", None),
    ("a year ahead", (NOW + timedelta(days=365)).isoformat(), None),
    ("a day ahead (time zones)", (NOW + timedelta(days=1)).replace(microsecond=0).isoformat(), "same"),
    ("an ordinary date", "2015-07-21T10:00:00+03:00", datetime(2015, 7, 21, 7, tzinfo=UTC)),
    ("an ordinary naive date", "2015-07-21T10:00:00", datetime(2015, 7, 21, 10, tzinfo=UTC)),
]
IDS = [c[0] for c in CASES]


def _expected(written: str, kept):
    return datetime.fromisoformat(written).astimezone(UTC) if kept == "same" else kept


@pytest.mark.parametrize(("variant", "written", "kept"), CASES, ids=IDS)
def test_plausible_date(variant, written, kept):
    got = plausible_date(datetime.fromisoformat(written.replace("Z", "+00:00")))
    assert got == _expected(written, kept), variant
    if got is not None:  # what a channel does with it: never an OverflowError
        for tz in (ZoneInfo("Asia/Riyadh"), ZoneInfo("America/New_York"), RIYADH):
            got.astimezone(tz)


@pytest.mark.parametrize(("variant", "written", "kept"), CASES, ids=IDS)
def test_a_page_json_ld_date(variant, written, kept):
    art = next(a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800)
    ld = {"@type": "NewsArticle", "headline": art["title"], "articleBody": art["content"], "datePublished": written}
    page = (
        f'<html><head><title>{art["title"]}</title><script type="application/ld+json">'
        f'{json.dumps(ld, ensure_ascii=False)}</script></head><body><div id="app"></div></body></html>'
    )
    text = extract(page, "https://example.org/a.html")
    assert text.body and text.published == _expected(written, kept), variant


@pytest.mark.parametrize(("variant", "written", "kept"), CASES, ids=IDS)
def test_a_news_sitemap_date(variant, written, kept):
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://example.org/a</loc>'
        f"<news:news><news:publication_date>{written}</news:publication_date><news:title>t</news:title>"
        "</news:news></url></urlset>"
    )
    (item,) = parse_sitemap("s", xml.encode(), "https://example.org/sitemap.xml").items
    assert item.published == _expected(written, kept), variant
