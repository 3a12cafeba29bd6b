"""The held-out labelled set (tests/fixtures/labelled/holdout/) stays well formed.

It is scored only by `python3 bench/relevance.py --holdout-set ...` (its README):
no score threshold is asserted here, so nobody tunes the matcher to it. These rows
check what a scorer relies on: every label names an article of the set, every
label says why, the rules load as config topics, the set stays small.
"""

import json
from pathlib import Path

import pytest
import yaml

from monitor.config.load import rule_from_dict

HOLDOUT = Path(__file__).parent.parent / "fixtures" / "labelled" / "holdout"
ARTICLES = [json.loads(x) for x in (HOLDOUT / "articles.jsonl").read_text(encoding="utf-8").splitlines() if x]
LABELS = json.loads((HOLDOUT / "labels.json").read_text(encoding="utf-8"))
TOPICS = yaml.safe_load((HOLDOUT / "topics.yaml").read_text(encoding="utf-8"))["topics"]
IDS = {a["id"] for a in ARTICLES}


@pytest.mark.parametrize(
    ("check", "holds"),
    [
        ("ids are unique", len(IDS) == len(ARTICLES)),
        (
            "every article has the fields of the main set",
            all(set(a) == {"id", "source", "url", "date", "title", "content"} for a in ARTICLES),
        ),
        ("labels cover exactly the topics of topics.yaml", set(LABELS) == {t["id"] for t in TOPICS}),
        ("every labelled id is an article of the set", all(i in IDS for t in LABELS.values() for i in t)),
        ("every label says why", all(v["why"].strip() for t in LABELS.values() for v in t.values())),
        (
            "each topic has at least 14 positives",
            all(sum(v["relevant"] for v in t.values()) >= 14 for t in LABELS.values()),
        ),
        ("the set stays under 2,000,000 bytes", sum(p.stat().st_size for p in HOLDOUT.iterdir()) < 2_000_000),
    ],
)
def test_holdout_set_is_well_formed(check, holds):
    assert holds, check


@pytest.mark.parametrize("topic", TOPICS, ids=[t["id"] for t in TOPICS])
def test_holdout_rules_load_as_config_topics(topic):
    rule = rule_from_dict(topic)
    assert rule.id == topic["id"]
    assert rule.all or rule.any
