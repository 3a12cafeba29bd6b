"""Precision and recall of the example rules on the hand-labelled set.

tests/fixtures/labelled/ holds 507 real articles labelled by reading them
(see its README). Thresholds are the figures measured when this test was
written (bench/relevance.py prints them), less a small margin. The naive
baseline (same terms, plain substring search on raw text) must never beat the
matcher's precision, and relevance scoring must win precision over plain
mention matching (min_score 0) at the recall cost measured here.
"""

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from monitor.config.load import rule_from_dict
from monitor.matching.matcher import compile_topics

HERE = Path(__file__).parent.parent / "fixtures" / "labelled"
sys.path.insert(0, str(HERE))
from naive import naive_match  # noqa: E402

ARTICLES = [json.loads(line) for line in (HERE / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
LABELS = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))


def _topics(name):
    return {t["id"]: t for t in yaml.safe_load((HERE / name).read_text(encoding="utf-8"))["topics"]}


TOPICS = _topics("topics.yaml")
NAMED = _topics("topics-names.yaml")  # the same rules with names marked ~

# topic: (min precision, min recall), measured 2026-11-30 with bench/relevance.py on the
# six topics (two added for issue 15). Default scoring (weakest group >= 3.5, kinds H and L,
# LENGTH_CAP 3000; branch rel15): iran 0.928/0.889, yemen 0.980/0.833, turkey 0.957/1.000
# (a football camp in Turkey: headline + lead, kind L), russia-north-korea 1.000/1.000,
# greek-debt 0.937/0.987, mers-coronavirus 0.833/1.000. Before kinds H and L: iran
# 0.935/0.806, yemen 0.920/0.767, turkey 0.978/1.000, greek 0.935/0.960.
DEFAULT = {
    "iran-nuclear-deal": (0.92, 0.88),
    "yemen-war": (0.97, 0.83),
    "turkey-isis": (0.95, 1.0),
    "russia-north-korea": (1.0, 1.0),
    "greek-debt": (0.93, 0.98),
    "mers-coronavirus": (0.83, 1.0),
}
# Mention only (min_score 0): iran 0.740/0.986, yemen 0.753/0.917, turkey 0.750/1.000 (kind H
# lets «الدولة التركية» read as الدولة الإسلامية: two more rules hold), russia-north-korea
# 0.750/1.000, greek-debt 0.773/1.000, mers 0.625/1.000.
MENTION = {
    "iran-nuclear-deal": (0.73, 0.98),
    "yemen-war": (0.75, 0.91),
    "turkey-isis": (0.75, 1.0),
    "russia-north-korea": (0.75, 1.0),
    "greek-debt": (0.77, 1.0),
    "mers-coronavirus": (0.62, 1.0),
}


def counts(predict, topic_id):
    labels = LABELS[topic_id]
    tp = fp = fn = 0
    for art in ARTICLES:
        relevant = labels.get(art["id"], {}).get("relevant", False)
        hit = predict(art)
        tp += hit and relevant
        fp += hit and not relevant
        fn += relevant and not hit
    return tp, fp, fn


def pr(tp, fp, fn):
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def ours(topic, **changes):
    matcher = compile_topics([replace(rule_from_dict(topic), **changes)])
    return lambda a: bool(matcher.match(a["title"], a["content"]))


def naive(topic):
    return lambda a: naive_match(topic, a["title"], a["content"])


@pytest.mark.parametrize("topic_id", sorted(DEFAULT))
def test_default_scoring(topic_id):
    precision, recall = pr(*counts(ours(TOPICS[topic_id]), topic_id))
    naive_p, _ = pr(*counts(naive(TOPICS[topic_id]), topic_id))
    min_p, min_r = DEFAULT[topic_id]
    assert precision >= min_p and recall >= min_r, (precision, recall)
    assert precision > naive_p or precision == 1.0


@pytest.mark.parametrize("topic_id", sorted(MENTION))
def test_mention_matching_beats_naive(topic_id):
    precision, recall = pr(*counts(ours(TOPICS[topic_id], min_score=0), topic_id))
    naive_p, naive_r = pr(*counts(naive(TOPICS[topic_id]), topic_id))
    min_p, min_r = MENTION[topic_id]
    assert precision >= min_p and recall >= min_r, (precision, recall)
    assert precision >= naive_p and recall >= naive_r


@pytest.mark.parametrize("topic_id", sorted(DEFAULT))
def test_names_marked_cost_no_precision_here(topic_id):
    # Marking every proper name ~ (loose variants) on this set adds no false alarm.
    # Recall may differ: a name keeps its endings (~الحوثي does not take «الحوثية»,
    # issue 15 kind F), an ordinary term takes them.
    assert counts(ours(NAMED[topic_id]), topic_id)[1] <= counts(ours(TOPICS[topic_id]), topic_id)[1]


def test_scoring_wins_precision_overall_for_little_recall():
    total = {"default": [0, 0, 0], "mention": [0, 0, 0], "naive": [0, 0, 0]}
    for tid, topic in TOPICS.items():
        for name, predict in (("default", ours(topic)), ("mention", ours(topic, min_score=0)), ("naive", naive(topic))):
            total[name] = [x + y for x, y in zip(total[name], counts(predict, tid))]
    p, r = pr(*total["default"])
    p0, r0 = pr(*total["mention"])
    pn, rn = pr(*total["naive"])
    assert p - p0 >= 0.17 and r0 - r <= 0.09, (p, r, p0, r0)  # measured +0.186 / -0.081
    f1, f0, fn_ = (2 * a * b / (a + b) for a, b in ((p, r), (p0, r0), (pn, rn)))
    assert p > pn and f1 > f0 + 0.04 and f1 > fn_ + 0.05  # F1 0.909 vs mention 0.845, naive 0.806
