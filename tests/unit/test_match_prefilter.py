"""The matcher's cheap test of a new word (``Matcher._may_start``, issue 16) never rules out a
word that can start a term: what each word may start is compared with computing it in full.

Words: every word of the labelled articles (tests/fixtures/labelled/articles.jsonl, real
SaudiNewsNet text) and stacked clitics. Topic sets: the labelled topics as written and with
names marked ``~``, and seeded sets drawn from the same words: names (their skeletons and,
when long, the joined heads of split-written names) and ordinary words (their derived forms).
The first version of the test missed words whose hamza seat ئ reads as the vowel و
(الاجرائي, لاجئا: a joined head's consonants); the ``seeded names`` rows found it. The story
profile's key terms skip the same words' stems where none can count (last test).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from monitor.matching.matcher import NO_CANDIDATES, Matcher, compile_topics
from monitor.matching.rules import TopicRule
from monitor.text.normalize import CLITICS_MAX, stems, words
from monitor.text.variants import consonants, head, skeleton

LABELLED = Path(__file__).resolve().parent.parent / "fixtures" / "labelled"
ARTICLES = [json.loads(line) for line in (LABELLED / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
STACKED = ["وللالعاب", "فبالاتفاق", "وكالاجرائي", "لللاجئين", "والمسئولين", "وبيونغيانغ", "بالشئون", "ورؤساء"]


def _words() -> list[str]:
    found: dict[str, None] = dict.fromkeys(STACKED)
    for a in ARTICLES:
        found.update(dict.fromkeys(words(a.get("title") or "")))
        found.update(dict.fromkeys(words(a.get("content") or a.get("body") or "")))
    return list(found)


WORDS = _words()


def _labelled(name: str) -> list[TopicRule]:
    from monitor.config.load import parse_config

    topics = yaml.safe_load((LABELLED / name).read_text(encoding="utf-8"))["topics"]
    for t in topics:
        t["notify"] = ["sink"]
    config = {"feeds": [{"name": "f", "url": "http://127.0.0.1/f.xml"}], "channels": {"sink": "json://127.0.0.1/x"}}
    text = yaml.safe_dump({**config, "topics": topics}, allow_unicode=True)
    return parse_config(text, need_secrets=False).rules()


def _seeded(seed: int, names: bool) -> list[TopicRule]:
    rng = random.Random(seed)
    vocab = sorted(w for w in WORDS if len(w) >= 3 and not w.isdigit())
    rules = []
    for i in range(150):
        picked = rng.sample(vocab, 6)
        mark = "~" if names else ""
        rules.append(
            TopicRule(
                f"t{i}",
                f"t{i}",
                any=tuple(f"{mark}{w}" for w in picked[:4]) + (f"{picked[4]} {picked[5]}",),
                min_score=0,
            )
        )
    return rules


TOPIC_SETS = {
    "labelled": lambda: _labelled("topics.yaml"),
    "labelled, names": lambda: _labelled("topics-names.yaml"),
    "seeded names 1": lambda: _seeded(1, names=True),
    "seeded names 2": lambda: _seeded(2, names=True),
    "seeded words": lambda: _seeded(3, names=False),
}


@pytest.mark.parametrize("topics", sorted(TOPIC_SETS))
def test_the_prefilter_rules_out_only_words_that_start_nothing(topics):
    rules = TOPIC_SETS[topics]()
    filtered = compile_topics(rules)
    full = Matcher(rules)
    full._may_start = lambda word: True  # type: ignore[method-assign]
    missed = [w for w in WORDS if filtered._candidates(w) != full._candidates(w)]
    assert missed == []
    ruled_out = sum(not filtered._may_start(w) for w in WORDS)
    starting = sum(full._candidates(w) is not NO_CANDIDATES for w in WORDS)
    assert starting > 0 and ruled_out > 0


def test_what_the_prefilter_relies_on():
    """Every stem is a suffix of its word, at most CLITICS_MAX letters shorter; a suffix's
    consonants end the word's; equal skeletons (and heads) mean equal consonants."""
    assert "عاب" in stems("وللالعاب")  # five letters stripped: و + لل + ال
    for w in WORDS:
        c = consonants(w)
        assert consonants(skeleton(w)) == c
        assert consonants(head(w)) == c
        for s in stems(w):
            assert w.endswith(s) and len(w) - len(s) <= CLITICS_MAX
            assert c.endswith(consonants(s))


def test_the_prefilter_stops_where_it_rules_out_little():
    """With terms that end most words (here: 6,000 words of the set, as names, in 200 topics)
    nearly every word passes the test, which then only costs: it stops after PREFILTER_TRIAL
    new words. With the labelled topics it rules out most words and stays on."""
    from monitor.matching.matcher import PREFILTER_TRIAL

    texts = [(a.get("title") or "", a.get("content") or a.get("body") or "") for a in ARTICLES]
    vocab = [w for w in WORDS if len(w) >= 3 and not w.isdigit()][:6000]
    broad = compile_topics(
        [TopicRule(f"b{i}", f"b{i}", any=tuple(f"~{w}" for w in vocab[i::200]), min_score=0) for i in range(200)]
    )
    labelled = compile_topics(_labelled("topics.yaml"))
    full = Matcher(labelled.rules)
    full._may_start = lambda word: True  # type: ignore[method-assign]
    for title, body in texts[:150]:
        broad.match(title, body)
        assert labelled.match(title, body) == full.match(title, body)
    assert broad._tried >= PREFILTER_TRIAL and broad._prefilter is False
    assert labelled._prefilter is True and labelled._ruled_out > labelled._tried / 2


def _key_term_with_every_stem(token: str) -> str:
    """stories.key_term as it was: the stems of every Arabic word read (issue 16 skips words that
    do not start with a clitic letter: none of their stems is 3+ letters long)."""
    from monitor.dedup import stories

    if token.isdigit():
        return ""
    base = stories.base_term(token)
    if token and "\u0600" <= token[0] <= "\u06ff" and base == token:
        table = stories.document_frequency()[1]
        known = table.get(token, 0)
        for cand in stems(token)[1:]:
            if len(cand) >= 3 and table.get(cand, 0) > max(known, 7):
                base, known = cand, table[cand]
        if base == token and known == 0 and token[0] in "وف" and len(token) >= 5:
            base = stories.base_term(token[1:])
    return base if len(base) >= 3 else ""


def test_story_key_terms_skip_only_stems_that_cannot_count():
    from monitor.dedup import stories

    extra = ["الحج", "الحجاج", "اليوم", "لليمن", "كالعادة", "فالاتفاق", "بوتين", "ولي", "وزارة", "بيونغ"]
    for w in WORDS + extra:
        assert stories.key_term(w) == _key_term_with_every_stem(w), w
