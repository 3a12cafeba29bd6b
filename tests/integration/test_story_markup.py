"""Issue 15 kind 5, "one event, two stories": the same wire story published by two outlets with
different page markup lands in one story, whatever the markup and whichever page comes first.

Real articles of the SaudiNewsNet excerpt (labelled one story in tests/fixtures/stories) are served
as pages by a WebServer on 127.0.0.1: the first outlet's page plain, the second outlet's page in
each markup variant of tests/support/markup_variants (read-also boxes, related lists, captions,
byline, share bar, standfirst, an appended story, table layout, hashed classes, JSON-LD only). The
real pipeline fetches, extracts (monitor.extract) and places them (real SQLite store), in both
orders. A pair of one outlet's reports of two developments stays two stories under every markup.
"""

from __future__ import annotations

import pytest

from tests.integration.test_stories import make_pipeline, run_once
from tests.support.markup_variants import PAGE_VARIANTS, variant_page
from tests.support.story_helpers import T0, Site, close
from tests.support.story_labels import fixture_articles, labels

LAB = labels()
ARTS = fixture_articles(LAB)
TOPIC = {"id": "any", "name": "Any", "any": ["السعودية"], "notify": ["telegram"]}

# (id, first outlet's article, second outlet's article, one story?)
PAIRS = [
    # a wire report and its rewrite (tolls 15 and 25): key-term cosine 0.50
    ("afghan-market-bombing", "snn-20150723-0619", "snn-20150723-1101", True),
    # two outlets' own reports of one incident: cosine 0.62
    ("air-ambulance-crowd", "snn-20150722-0882", "snn-20150722-1826", True),
    # a law reported by two outlets: cosine 0.70
    ("uae-law", "snn-20150721-0034", "snn-20150721-0978", True),
    # one outlet, two developments in one region: two stories whatever the markup
    ("ukraine-two-developments", "snn-20150721-0086", "snn-20150721-0093", False),
]
APPENDED = "snn-20150721-0046"  # the story appended below a page (a royal meeting: another event)


def placed(tmp_path, web, telegram, pages: list[tuple[str, str]]) -> list[int]:
    """Publish (outlet, page) one poll at a time through the real pipeline; the story of each."""
    outlets = [o for o, _ in pages]
    site = Site(web, outlets)
    pipeline = make_pipeline(tmp_path, web, telegram, sorted(set(outlets)), [TOPIC])
    urls = []
    try:
        for outlet, page in pages:
            urls.append(site.publish(outlet, "", [], page=page))
            run_once(pipeline)
        story_of = {a.url: s.id for s in pipeline.store.stories(T0, limit=1000) for a in s.articles}
    finally:
        close(pipeline)
    assert set(urls) <= set(story_of), (urls, story_of)  # every page was extracted and stored
    return [story_of[u] for u in urls]


@pytest.mark.parametrize("first_plain", [True, False], ids=["plain-first", "variant-first"])
@pytest.mark.parametrize("variant", [v for v, _ in PAGE_VARIANTS])
@pytest.mark.parametrize("name,a,b,one", PAIRS, ids=[p[0] for p in PAIRS])
def test_markup_does_not_split_or_join_a_story(
    tmp_path, web_server, fake_telegram_unpatched, name, a, b, one, variant, first_plain
):
    plain = (ARTS[a]["source"], variant_page("plain", ARTS[a], ""))
    dressed = (ARTS[b]["source"] + "-b", variant_page(variant, ARTS[b], "", other=ARTS[APPENDED]))
    pages = [plain, dressed] if first_plain else [dressed, plain]
    stories = placed(tmp_path, web_server, fake_telegram_unpatched, pages)
    assert (stories[0] == stories[1]) == one, (name, variant, stories)
