"""The article's text folded once (monitor.text.folded.FoldedText) gives every stage exactly
what it computed on its own before: matching, the near-duplicate fingerprint, the story profile.

Real SaudiNewsNet articles (tests/fixtures), each also rewritten in ways that move word and
whitespace boundaries apart: punctuation glued between words, harakat and tatweel inside
words, zero-width joiners, a body under 20 words (the fingerprint then reads the title too)
and one over 400 (the profile reads only the lead).
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from monitor.dedup import neardup, stories
from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule
from monitor.text.folded import LEAD_WORDS, FoldedText
from monitor.text.normalize import tokenize
from tests.support import corpus_pages as cp

ARTICLES = [a for day in cp.DAYS for a in cp.saudinewsnet_articles(day, limit=12) if a.get("title")]


def _glued(text: str) -> str:
    return "،".join(text.split(" "))  # Arabic comma instead of spaces: fewer pieces than words


def _marked(text: str) -> str:
    return text.replace("ا", "اَ").replace("ل", "لـ").replace("م", "م\u200c")  # fatha, tatweel, ZWNJ


def _short(text: str) -> str:
    return " ".join(text.split()[:12])


def _long(text: str) -> str:
    rest = " ".join(a["content"] for a in ARTICLES[:3])
    return f"{text}\n\n{rest}"


def _long_odd_spaces(text: str) -> str:
    """Long, its spaces rotated through other whitespace (no-break, em, ideographic, a tab and
    line break, a line separator): the lead and the rest are folded apart (FoldedText.of)."""
    spaces = ("\u00a0", "\u2003", "\u3000", "\t\n", "\u2028", " ")
    parts = _marked(_long(text)).split(" ")
    return "".join(p + spaces[i % len(spaces)] for i, p in enumerate(parts)).rstrip()


VARIANTS = {
    "as is": lambda t: t,
    "glued": _glued,
    "marked": _marked,
    "short": _short,
    "long": _long,
    "long, odd spaces": _long_odd_spaces,
}


def _old_words(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def _old_terms(text: str) -> list[str]:
    return [k for k in (stories.key_term(w) for w in _old_words(text)) if k]


def _old_top(counts: Counter[str]) -> dict[str, float]:
    weights = {t: (1 + math.log(c)) * stories.idf(t) for t, c in counts.items()}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: stories.ARTICLE_TERMS]
    norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
    return {t: w / norm for t, w in top if w > 0}


def _old_lead(body: str) -> list[str]:
    return _old_terms(" ".join(body.split()[:LEAD_WORDS]))


def _old_profile(title: str, body: str) -> dict[str, float]:
    """The profile as computed before FoldedText (tokenize, then the lead re-joined)."""
    counts = Counter(_old_terms(title) * 2)
    counts.update(_old_lead(body))
    return _old_top(counts)


def _old_echoes(title: str, body: str) -> frozenset[str]:
    """The echoes as computed before the one key-term pass: the title's terms the lead repeats."""
    lead = set(_old_lead(body))
    return frozenset(t for t in _old_terms(title) if t in lead)


def _old_head(title: str, body: str) -> dict[str, float]:
    """The head as computed before the one key-term pass: the title twice and the lead's first
    HEAD_WORDS words."""
    lead_words = _old_words(" ".join(body.split()[:LEAD_WORDS]))[: stories.HEAD_WORDS]
    counts = Counter(_old_terms(title) * 2)
    counts.update(k for k in map(stories.key_term, lead_words) if k)
    return _old_top(counts)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_folded_text_gives_each_stage_what_it_computed_alone(variant):
    rewrite = VARIANTS[variant]
    assert len(ARTICLES) >= 30
    long_seen = short_seen = 0
    for a in ARTICLES:
        title, body = a["title"], rewrite(a["content"])
        f = FoldedText.of(title, body)
        assert list(f.title) == _old_words(title)
        assert list(f.body) == _old_words(body)
        assert list(f.lead) == _old_words(" ".join(body.split()[:LEAD_WORDS]))
        assert f.body_pieces == len(body.split())
        old_fp = neardup.fingerprint(neardup.article_text(title, body))
        new_fp = neardup.fingerprint_words(neardup.article_words(f))
        assert new_fp.bands == old_fp.bands and new_fp.shingles.tolist() == old_fp.shingles.tolist()
        assert stories.profile_folded(f) == _old_profile(title, body) == stories.profile(title, body)
        one_pass = stories.story_terms_folded(f)
        old = (_old_profile(title, body), _old_echoes(title, body), _old_head(title, body))
        assert (one_pass.profile, one_pass.echoes, one_pass.head) == old
        assert list(one_pass.profile) == list(old[0]) and list(one_pass.head) == list(old[2])  # order too
        assert (stories.profile_folded(f), stories.echoes_folded(f), stories.head_folded(f)) == old
        long_seen += len(body.split()) > LEAD_WORDS
        short_seen += len(body.split()) < 20
    if variant.startswith("long"):
        assert long_seen == len(ARTICLES)  # the lead cut was exercised
    if variant == "short":
        assert short_seen == len(ARTICLES)  # the title joined the fingerprinted text


def test_matcher_with_shared_folded_text_matches_the_same():
    topics = [
        TopicRule("saudi", "s", any=("السعودية", "الرياض", "~المملكة"), min_score=0),
        TopicRule("yemen", "y", all=(("اليمن", "صنعاء", "عدن"), ("الحوثي", "التحالف"))),
        TopicRule("oil", "o", any=("أسعار النفط", "أوبك"), none=("كرة القدم",)),
    ]
    matcher = compile_topics(topics)
    hits = 0
    for a in ARTICLES:
        for rewrite in VARIANTS.values():
            title, body = a["title"], rewrite(a["content"])
            alone = matcher.match(title, body)
            shared = matcher.match(title, body, folded=FoldedText.of(title, body))
            assert shared == alone
            hits += len(alone)
    assert hits > 0
