"""Red team of issue 15 (redteam15), promise 4: one event is one story whatever the page gave.

A rewrite whose page could not be read arrives as its feed summary (text_source "summary":
the title and the first sentences). Pairs labelled as one story (tests/fixtures/stories/groups.json,
articles from tests/fixtures/saudinewsnet and tests/fixtures/labelled, SaudiNewsNet CC BY-NC-SA 4.0)
join with their full text in either arrival order; with the second one's body cut to its first
SUMMARY_WORDS words, 20 of 53 pairs became two stories in both orders (S32 is a copy at Jaccard
0.94), so a `per-story` topic alerts twice. Measured over every labelled pair with
tests/support/story_labels.assign (redteam15 report). Held: the same pairs placed in both
orders, and with the rewrite's page rendered in the six markup styles of tests/support/corpus_pages
and extracted, made the same call every time.

Fixed for three of the five pairs (stories15b): a short article is also compared by its head, the
title and first 40 words of each side (monitor.dedup.stories.alike_heads). S04 and S30 stay apart:
their heads' cosine is 0.43 and 0.41, under HEAD_SIMILARITY 0.5, and 0.40 costs 10-12 points of
precision over the corpus (bench/stories.py --summaries 0.3 --cv);
tests/integration/test_story_summaries.py has the whole table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.story_labels import assign, fixture_articles, labels

pytestmark = pytest.mark.integration

SUMMARY_WORDS = 40
LABELLED = Path(__file__).parent.parent / "fixtures" / "labelled"


def _articles() -> dict[str, dict]:
    arts = dict(fixture_articles(labels()))
    for f in (LABELLED / "articles.jsonl", LABELLED / "holdout" / "articles.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            a = json.loads(line)
            arts.setdefault(a["id"], a)
    return arts


PAIRS = [  # (story group, first outlet's article, the rewrite)
    ("S02", "snn-20150722-0259", "snn-20150722-1298"),
    ("S04", "snn-20150721-1454", "snn-20150721-2578"),
    ("S09", "snn-20150721-0034", "snn-20150721-0646"),
    ("S30", "snn-20150722-0279", "snn-20150722-1532"),
    ("S32", "snn-20150722-0385", "snn-20150722-1517"),  # a copy (Jaccard 0.94)
]


def _row(group: str, first: str, rewrite: str, summary: bool):
    marks = []
    if summary and group in ("S04", "S30"):
        why = f"redteam15 #9: {group}'s heads (title + 40 words) are under HEAD_SIMILARITY"
        marks.append(pytest.mark.xfail(strict=True, reason=why))
    return pytest.param(group, first, rewrite, summary, marks=marks, id=f"{group}-{'summary' if summary else 'full'}")


@pytest.mark.parametrize(("group", "first", "rewrite", "summary"), [_row(*p, s) for s in (False, True) for p in PAIRS])
def test_a_rewrite_joins_its_story_in_either_order(tmp_path, group, first, rewrite, summary):
    arts = _articles()
    assert labels().same(first, rewrite), group
    b = arts[rewrite]
    if summary:
        b = {**b, "content": " ".join(b["content"].split()[:SUMMARY_WORDS]), "text_source": "summary"}
    pair = {first: arts[first], rewrite: b}
    for n, order in enumerate(([first, rewrite], [rewrite, first])):
        story = assign(pair, order, tmp_path / f"s{n}.db")
        assert story[first] == story[rewrite], (group, order)
