"""monitor.matching.suggest on the labelled set: the words a topic's author was missing show up."""

import json
from functools import cache
from pathlib import Path

import pytest
import yaml

from monitor.config.load import rule_from_dict
from monitor.matching.matcher import compile_topics
from monitor.matching.suggest import suggest

HERE = Path(__file__).parent.parent / "fixtures" / "labelled"
ARTICLES = [json.loads(line) for line in (HERE / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
RULES = {
    t["id"]: rule_from_dict(t) for t in yaml.safe_load((HERE / "topics.yaml").read_text(encoding="utf-8"))["topics"]
}


@cache  # one pass over the set per topic
def _suggest(topic_id: str):
    rule = RULES[topic_id]
    matcher = compile_topics([rule])
    return suggest(rule, ((a["title"], a["content"], bool(matcher.match(a["title"], a["content"]))) for a in ARTICLES))


# (topic, a word its rule lacks that a reader of the matches would add) — from
# ../shared/field-cases/relevance-kinds.md: outlets write Suruç سوروتش, which the rule misses.
MISSING = [("turkey-isis", "سوروتش"), ("turkey-isis", "كوباني")]


@pytest.mark.parametrize("topic,word", MISSING)
def test_cooccurring_words_name_what_the_rule_lacks(topic, word):
    found = _suggest(topic)
    words = [s.word for s in found.cooccurring]
    assert word in words, words
    s = found.cooccurring[words.index(word)]
    assert s.matched >= 2 and s.matched > s.others


# (topic, term, a form or spelling of it printed in the articles) — الحوثية: alwatan
# snn-20150723-0828; سروج/سوروج: the rule lists both, each is shown as the other's variant.
VARIANTS = [
    ("yemen-war", "الحوثي", "الحوثية"),
    ("turkey-isis", "سوروج", "سروج"),
    ("turkey-isis", "انتحاري", "انتحاريا"),
]


@pytest.mark.parametrize("topic,term,seen", VARIANTS)
def test_variants_of_the_terms_are_listed(topic, term, seen):
    variants = dict(_suggest(topic).variants)
    assert seen in [s.word for s in variants[term]]


def test_words_a_term_covers_are_not_suggested():
    found = _suggest("yemen-war")
    assert not {"الحوثية", "الحوثيين", "اليمن", "عدن"} & {s.word for s in found.cooccurring}
