"""The held-out labelled sets (tests/fixtures/labelled/holdout/, holdout2/) stay well formed.

They are scored only by `python3 bench/relevance.py --holdout-set ...` (their READMEs):
no score threshold is asserted here, so nobody tunes the matcher to them. These rows
check what a scorer relies on: every label names an article of the set, every
label says why, the rules load as config topics, the set stays small.
"""

import json
from pathlib import Path

import pytest
import yaml

from monitor.config.load import rule_from_dict

LABELLED = Path(__file__).parent.parent / "fixtures" / "labelled"
SETS = ["holdout", "holdout2"]


def load(name: str):
    directory = LABELLED / name
    articles = [json.loads(x) for x in (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines() if x]
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    topics = yaml.safe_load((directory / "topics.yaml").read_text(encoding="utf-8"))["topics"]
    return directory, articles, labels, topics


def checks(name: str):
    directory, articles, labels, topics = load(name)
    ids = {a["id"] for a in articles}
    return [
        ("ids are unique", len(ids) == len(articles)),
        (
            "every article has the fields of the main set",
            all(set(a) == {"id", "source", "url", "date", "title", "content"} for a in articles),
        ),
        ("labels cover exactly the topics of topics.yaml", set(labels) == {t["id"] for t in topics}),
        ("every labelled id is an article of the set", all(i in ids for t in labels.values() for i in t)),
        ("every label says why", all(v["why"].strip() for t in labels.values() for v in t.values())),
        (
            "each topic has at least 14 positives",
            all(sum(v["relevant"] for v in t.values()) >= 14 for t in labels.values()),
        ),
        ("the set stays under 2,000,000 bytes", sum(p.stat().st_size for p in directory.iterdir()) < 2_000_000),
    ]


@pytest.mark.parametrize(
    ("name", "check", "holds"),
    [(name, check, holds) for name in SETS for check, holds in checks(name)],
    ids=[f"{name}: {check}" for name in SETS for check, _ in checks(name)],
)
def test_holdout_set_is_well_formed(name, check, holds):
    assert holds, f"{name}: {check}"


@pytest.mark.parametrize(
    ("name", "topic"),
    [(name, t) for name in SETS for t in load(name)[3]],
    ids=[f"{name}-{t['id']}" for name in SETS for t in load(name)[3]],
)
def test_holdout_rules_load_as_config_topics(name, topic):
    rule = rule_from_dict(topic)
    assert rule.id == topic["id"]
    assert rule.all or rule.any
