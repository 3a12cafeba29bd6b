"""Red team of issue 15 (redteam15b), story heads: short articles of DIFFERENT events that open
with the same agency boilerplate must not join one story.

Since stories15b a short article (at most SHORT_WORDS = 100 body words) is also compared by its
head (title + first 40 words) and joins when the heads share 3 terms at cosine >= 0.5, with no
title or rare-echo condition. Wire boilerplate fills a 40-word head: «بعث خادم الحرمين الشريفين
الملك سلمان ... برقية تهنئة لفخامة الرئيس ...», «أقامت ... حفل معايدة لمنسوبيها بمناسبة عيد الفطر
المبارك ...», «توقعت الرئاسة العامة للأرصاد وحماية البيئة في تقريرها عن حالة الطقس ...». Two
such items are two events; joined, an `alert: per-story` topic that matches both alerts on the
first only (the second is a follow-up of a story already alerted), the worst outcome: a missed
alert. The template words are rare in the corpus (تمنيات, واطيب, مفدي under 25 articles of 6,340),
so a rare-shared-term condition does not separate them either (/tmp scan, see the report).

Fixed (after the red team): only a feed summary (an item whose page could not be read) is compared
by its head, and only with another outlet's articles (dedup/stories.Member.words, .outlet); a short
page is compared by its full text as before stories15b. Each row runs twice: as two pages, and with
the second read as its feed summary (its first 40 words). Still open (strict xfail): 3 summaries
of another event join, and 3 short page reports of one event stay two stories (a repeated
per-story alert, not a missed one).

Over the three public days, 240 pairs were linked by the head rule and not by the full-text rule
(every short article against every article); the rows below are read from them. Articles:
tests/fixtures/redteam15b/short_heads.jsonl (SaudiNewsNet, CC BY-NC-SA 4.0).

The same kind reported elsewhere, rebuilt here on corpus text: distinct documents sharing only a
template collapse into one near-duplicate cluster
(https://github.com/marin-community/marin/issues/6851); text shared across many documents needs
a global document-frequency filter, which a per-source one does not give
(https://github.com/marin-community/marin/issues/7126); a false merge claims two newsrooms
corroborated each other, so grouping should weigh shared facts, not shared words
(https://github.com/011-sam-110/Provenance/pull/257).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.story_labels import assign

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent.parent / "fixtures" / "redteam15b" / "short_heads.jsonl"
# Fixed: only a feed summary (an item whose page could not be read) is compared by its head; a short
# page is compared by its full text, as before stories15b. The cost: two short page reports of one
# event that only the head rule linked stay two stories (a repeat of a per-story alert, not a miss;
# 31 of a sample of 40 head-only links were one event).
# Still open: a feed summary of another event joins (8 rows: 5 held by the one-outlet condition)
_ACROSS = "a feed summary of another outlet's item with the same boilerplate opening joins by its head"
SUMMARY_JOIN_ROWS = {
    "cable-oman-vs-egypt": "the full-text rule links a 40-word summary by its title (as before stories15b)",
    "weather-22-vs-23-july": _ACROSS,  # alriyadh / sabq
    "baha-accidents-72h-vs-24h": _ACROSS,  # okaz / sabq
}
FULL_TEXT_LINKS = {"us-sanctions-hezbollah"}  # two pages the full-text rule links
PAGES_APART = "a short page is compared by its full text only: one event in two short page reports stays two stories"


def _articles() -> dict[str, dict]:
    rows = (json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines())
    return {a["id"]: a for a in rows}


def _apart(first: str, second: str, why: str, *, summary: bool = False):
    """Different events; `summary`: the second read as its feed summary (its first 40 words)."""
    marks = (
        [pytest.mark.xfail(strict=True, reason=SUMMARY_JOIN_ROWS[why])] if summary and why in SUMMARY_JOIN_ROWS else []
    )
    return pytest.param(first, second, False, summary, marks=marks, id=why + ("-summary" if summary else ""))


def _again(row):
    """`row` with its second article read as a feed summary."""
    first, second, one_story, _ = row.values
    why = row.id
    return (_together if one_story else _apart)(first, second, why, summary=True)


def _together(first: str, second: str, why: str, *, summary: bool = False):
    """The same event; `summary`: the second read as its feed summary (its first 40 words)."""
    marks = [] if summary or why in FULL_TEXT_LINKS else [pytest.mark.xfail(strict=True, reason=PAGES_APART)]
    return pytest.param(first, second, True, summary, marks=marks, id=why + ("-summary" if summary else ""))


ROWS = [
    # different events, same outlet and day, one template opening (the brief's «SPA: the Custodian ... »)
    _apart("snn-20150722-0929", "snn-20150722-1302", "cable-colombia-vs-egypt"),  # alriyadh, heads 0.51
    _apart("snn-20150722-1300", "snn-20150723-0700", "cable-oman-vs-egypt"),  # alriyadh, 0.68
    _apart("snn-20150723-0326", "snn-20150723-0328", "eid-party-transport-vs-riyadh-municipality"),  # aljazirah, 0.60
    _apart("snn-20150722-2004", "snn-20150722-2017", "eid-party-civil-defence-hq-vs-jeddah"),  # sabq, 0.52
    _apart("snn-20150723-0521", "snn-20150723-0525", "governor-asir-vs-riyadh-well-wishers"),  # almadina, 0.51
    # the daily weather report of two days: with a 3-day story window every day's report joins
    _apart("snn-20150722-0872", "snn-20150723-1288", "weather-22-vs-23-july"),  # alriyadh / sabq, 0.50
    _apart("snn-20150721-2608", "snn-20150722-1937", "baha-accidents-72h-vs-24h"),  # okaz / sabq, 0.57
    _apart("snn-20150721-1359", "snn-20150723-0662", "promotion-colonel-vs-major-general"),  # alriyadh, 0.54
    # the same event in two outlets, one side short (controls): joined when the short side is a feed
    # summary; two pages stay apart unless the full-text rule links them
    _together("snn-20150721-0028", "snn-20150721-2536", "chechen-president-arrives"),
    _together("snn-20150722-0475", "snn-20150722-0771", "us-sanctions-hezbollah"),
    _together("snn-20150723-0141", "snn-20150723-0674", "carter-visits-iraq"),
    _together("snn-20150721-1966", "snn-20150722-0682", "coalition-23-strikes"),
]
ROWS += [_again(p) for p in list(ROWS)]


@pytest.mark.parametrize(("first", "second", "one_story", "summary"), ROWS)
def test_boilerplate_heads_of_different_events_stay_apart(tmp_path, first, second, one_story, summary):
    arts = _articles()
    b = arts[second]
    if summary:
        b = {**b, "content": " ".join(b["content"].split()[:40]), "text_source": "summary"}
    pair = {first: arts[first], second: b}
    for n, order in enumerate(([first, second], [second, first])):
        story = assign(pair, order, tmp_path / f"s{n}.db")
        assert (story[first] == story[second]) is one_story, order
