"""bench/relevance_nine.py re-scores the matcher's hits with other constants: at the shipped
constants it must give the product's verdict on every labelled article, or its leave-one-topic-out
figures (bench/README.md, issue 15 held-out recall) would describe another scorer."""

import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests" / "fixtures" / "labelled"
sys.path[:0] = [str(ROOT / "bench"), str(LABELLED)]

from relevance_nine import SHIPPED, load_topics, strength  # noqa: E402

from monitor.matching.relevance import GROUP_THRESHOLD  # noqa: E402


def no_copies(arts):
    return list(range(len(arts)))


@cache
def topics(directory):
    return load_topics(directory, no_copies)


@pytest.mark.parametrize("directory", [LABELLED, LABELLED / "holdout"], ids=["tuned", "holdout"])
def test_the_bench_scores_like_the_product_at_the_shipped_constants(directory):
    data = topics(directory)
    verdicts = [(t, r.default, strength(r, SHIPPED) >= GROUP_THRESHOLD) for t, rows in data.items() for r in rows]
    assert sum(shipped for _, shipped, _ in verdicts) > 20  # the comparison has matches to agree on
    assert [v for v in verdicts if v[1] != v[2]] == []


@pytest.mark.parametrize(
    ("change", "value"),
    [("anchor", 2.0), ("alpha", 1.0), ("beta", 1.0), ("K1", 2.5)],
)
def test_each_family_constant_moves_some_verdict(change, value):
    # A family whose constant changed nothing would be measured as "no gain" for the wrong reason.
    data = topics(LABELLED / "holdout")
    constants = dict(SHIPPED, **{change: value}, anchor_idf=0.0)
    rows = [r for rows in data.values() for r in rows if r.holds]
    assert any((strength(r, SHIPPED) >= GROUP_THRESHOLD) != (strength(r, constants) >= GROUP_THRESHOLD) for r in rows)
