"""Red team 15c of the head rule: a feed summary is compared by its head (title + first 40 words),
and only with another outlet's articles (dedup/stories.Member.words, .outlet; commit bfe49d2).

Rows on the real pairs of tests/fixtures/redteam15b/short_heads.jsonl (SaudiNewsNet, CC BY-NC-SA
4.0), each placed in both orders (summary first and second) by the real Store (story_labels.assign).

1. A walled page (consent wall, bot challenge, paywall stub) is read from the feed's summary too
   (pipeline._article: text_source "interstitial"), but only "summary" was compared by its head, so
   a walled outlet's summary-only report of another outlet's event stayed a story of its own: a
   second per-story alert for one event. Fixed: storage.stories.FEED_TEXT_SOURCES. Reports of
   the kind: a paywalled item whose only text is the feed's teaser
   (https://github.com/forcingfx/feedzero/pull/288, https://github.com/fivefilters/ftr-site-config/issues/925,
   https://github.com/PyFeeds/PyFeeds/issues/246).
2. One outlet under two feed names (two section feeds, no `outlet:` in the config): the outlet the
   story keeps is `Config.outlet(feed)` = `feed.outlet or feed.name`, so the one-outlet condition
   did not see them as one and two boilerplate summaries of different events joined again (4 of
   the 5 one-outlet pairs). Fixed: the head rule also reads the site of the articles' URLs
   (clustering.Member.site, `site`). Reports of one site listed by several section feeds
   (https://github.com/spacecowboy/Feeder/issues/753, https://github.com/FreshRSS/FreshRSS/issues/6916,
   https://github.com/feedbin/feedbin/issues/88).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.dedup.stories import site
from monitor.storage import Store
from tests.support.databases import fresh_pg_database, pg_unavailable
from tests.support.story_helpers import T0, put_story_article, story_members
from tests.support.story_labels import assign, daemon_rules

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent.parent / "fixtures" / "redteam15b" / "short_heads.jsonl"


def _articles() -> dict[str, dict]:
    rows = (json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines())
    return {a["id"]: a for a in rows}


def _summary(art: dict, source: str) -> dict:
    """`art` as its feed's summary (its first 40 words) read with `source` (Article.text_source)."""
    return {**art, "content": " ".join(art["content"].split()[:40]), "text_source": source}


# the same event in two outlets, the second read from its feed only (redteam15b's controls)
SAME_EVENT = [
    ("snn-20150721-0028", "snn-20150721-2536", "chechen-president-arrives"),
    ("snn-20150723-0141", "snn-20150723-0674", "carter-visits-iraq"),
    ("snn-20150721-1966", "snn-20150722-0682", "coalition-23-strikes"),
]


@pytest.mark.parametrize("source", ["summary", "interstitial"])
@pytest.mark.parametrize(("first", "second"), [r[:2] for r in SAME_EVENT], ids=[r[2] for r in SAME_EVENT])
def test_a_walled_pages_feed_summary_joins_the_event_like_a_failed_pages(tmp_path, first, second, source):
    arts = _articles()
    pair = {first: arts[first], second: _summary(arts[second], source)}
    for n, order in enumerate(([first, second], [second, first])):
        story = assign(pair, order, tmp_path / f"s{n}.db")
        assert story[first] == story[second], order


# different events of ONE outlet with one boilerplate opening (redteam15b), under one feed name
# (held by the one-outlet condition) and under two section feeds' names (not held)
ONE_OUTLET = [
    ("snn-20150722-0929", "snn-20150722-1302", "cable-colombia-vs-egypt"),  # alriyadh
    ("snn-20150723-0326", "snn-20150723-0328", "eid-party-transport-vs-riyadh-municipality"),  # aljazirah
    ("snn-20150722-2004", "snn-20150722-2017", "eid-party-civil-defence-hq-vs-jeddah"),  # sabq
    ("snn-20150723-0521", "snn-20150723-0525", "governor-asir-vs-riyadh-well-wishers"),  # almadina
    ("snn-20150721-1359", "snn-20150723-0662", "promotion-colonel-vs-major-general"),  # alriyadh
]


def _one_outlet_rows():
    for first, second, why in ONE_OUTLET:
        yield pytest.param(first, second, False, id=why + "-one-feed")
        yield pytest.param(first, second, True, id=why + "-two-feeds")


@pytest.mark.parametrize(("first", "second", "two_feeds"), list(_one_outlet_rows()))
def test_one_outlets_boilerplate_summaries_of_different_events_stay_apart(tmp_path, first, second, two_feeds):
    arts = _articles()
    a, b = arts[first], _summary(arts[second], "summary")
    if two_feeds:  # e.g. feeds "alriyadh-local" and "alriyadh-economy", no `outlet:` set
        a, b = {**a, "source": a["source"] + "-local"}, {**b, "source": b["source"] + "-economy"}
    pair = {first: a, second: b}
    for n, order in enumerate(([first, second], [second, first])):
        story = assign(pair, order, tmp_path / f"s{n}.db")
        assert story[first] != story[second], order


@pytest.mark.parametrize(
    ("url", "want"),
    [
        ("http://www.alriyadh.com/1066713", "alriyadh.com"),  # one outlet's section feeds: one site
        ("https://WWW.Alriyadh.com./economy/1", "alriyadh.com"),
        ("http://sabq.org/y8Cgde", "sabq.org"),
        ("http://www.okaz.com.sa/new/Issues/20150721/Con20150721784716.htm", "okaz.com.sa"),
        ("", None),  # a linkless item: not known, no condition
    ],
)
def test_site_of_an_articles_url(url, want):
    assert site(url) == want


@pytest.mark.parametrize(("first", "second", "why"), ONE_OUTLET[1:3], ids=[r[2] for r in ONE_OUTLET[1:3]])
def test_two_feed_names_of_one_outlet_stay_apart_on_postgresql(first, second, why):
    """The same rows placed by PostgreSQL (row-locked placement, cluster mode's store)."""
    if pg_unavailable():
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    arts = _articles()
    a = {**arts[first], "source": arts[first]["source"] + "-local"}
    b = {**_summary(arts[second], "summary"), "source": arts[second]["source"] + "-economy"}
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            rows = [
                put_story_article(store, art, n, T0 + timedelta(minutes=n), daemon_rules())
                for n, art in enumerate((a, b))
            ]
            members = story_members(store)
        finally:
            store.close()
    assert members[rows[0]][0] != members[rows[1]][0], why
