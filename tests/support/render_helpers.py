"""Real articles and matches for render tests: rows of the SaudiNewsNet excerpt in
tests/fixtures, a Match built from a real occurrence of a term, and small readers of
rendered alerts.
"""

from __future__ import annotations

import glob
import json
import os
import re

from monitor.models import Article, Match, TermHit

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures")


ENTITY_OK = re.compile(r"&(?:amp|lt|gt|quot|#x27|#\d+);")


def load_articles() -> list[dict]:
    rows = []
    for path in sorted(glob.glob(os.path.join(FIXTURES, "saudinewsnet", "*.jsonl"))):
        with open(path, encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


ARTICLES = load_articles()


def find_article(pred) -> dict:
    for row in ARTICLES:
        if pred(row):
            return row
    raise LookupError("no fixture article matches")


def match_for(row: dict, term: str, topic: str = "كوريا الشمالية", pattern: str | None = None) -> Match:
    """A Match built from a real occurrence of ``term`` (possibly with an
    attached clitic, as the text spells it) in the article."""
    content = row["content"]
    m = re.search(pattern or (r"\S*" + re.escape(term) + r"\S*"), content)
    assert m, term
    word = m.group(0).strip("«»\"'.,،:()")
    hit = TermHit(term=term, matched=word, field="body", token=0, start=m.start(), end=m.end(), group="any")
    lo = content.rfind(" ", 0, max(0, m.start() - 120)) + 1
    hi = content.find(" ", m.end() + 120)
    snippet = "… " + " ".join(content[lo : hi if hi > 0 else None].split()) + " …"
    return Match("topic", topic, (hit, hit), snippet)


def article_of(row: dict, title: str | None = None, url: str | None = None) -> Article:
    return Article(
        url=url or row["url"],
        url_key=row["url"],
        feed=row["source"],
        title=title if title is not None else row["title"],
        body=row["content"],
    )


def html_lines(markup: str) -> list[str]:
    return markup.split("\n")


KOREA = find_article(lambda r: r["title"].startswith("99.97"))  # title starts with digits
