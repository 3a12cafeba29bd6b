#!/usr/bin/env python3
"""What loose spelling variants find, and what they cost, on the corpus.

    python3 bench/variants.py [--top N]

Reads the full SaudiNewsNet corpus at ../shared/corpus/saudinewsnet/*.zip when
present (says so when it falls back to tests/fixtures/saudinewsnet + the
labelled set). Prints:
  1. per name term of tests/fixtures/labelled/topics-names.yaml and config.yaml:
     articles hit by the exact term, articles hit ONLY through a variant, and
     the variant spellings seen (so a reader can check each one is the name);
  2. the cost of making looseness automatic: the N most frequent corpus words
     (4+ letters) taken as names; for how many of them a variant hit is a
     DIFFERENT word, with examples. This is why only terms marked `~` are loose.
No timing: figures are counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bench.corpus import all_articles  # noqa: E402
from monitor.matching.matcher import compile_topics  # noqa: E402
from monitor.matching.rules import Term, TopicRule, as_term  # noqa: E402
from monitor.text.normalize import fold, tokenize  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "labelled"


def load_corpus() -> tuple[list[dict], str]:
    labelled = (LABELLED / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    return all_articles([json.loads(line) for line in labelled])


def name_terms() -> list[str]:
    names: dict[str, None] = {}
    for path in (LABELLED / "topics-names.yaml", ROOT / "config.yaml"):
        for t in yaml.safe_load(path.read_text(encoding="utf-8"))["topics"]:
            groups = list(t.get("all") or []) + [t.get("any") or [], t.get("none") or []]
            for g in groups:
                for term in [g] if isinstance(g, str) else g:
                    if isinstance(term, str) and term.startswith("~"):
                        names[as_term(term).text] = None
    return list(names)


def variant_report(arts: list[dict], terms: list[str]) -> None:
    rules = [TopicRule(f"t{i}", t, any=(Term(t, name=True),), min_score=0) for i, t in enumerate(terms)]
    matcher = compile_topics(rules)
    exact = Counter()
    only_variant = Counter()
    spellings: dict[str, Counter] = defaultdict(Counter)
    for a in arts:
        for r in matcher.evaluate(a.get("title") or "", a.get("content") or "", only_hits=True):
            kinds = {h.variant for h in r.hits}
            if False in kinds:
                exact[r.topic_name] += 1
            else:
                only_variant[r.topic_name] += 1
            for h in r.hits:
                if h.variant:
                    spellings[r.topic_name][fold(h.matched)] += 1
    print("\n1. name terms: articles with the exact spelling / articles found ONLY through a variant")
    print(f"{'term':24} {'exact':>6} {'+var':>5}  variant spellings (count)")
    for t in terms:
        seen = ", ".join(f"{w} ({n})" for w, n in spellings[t].most_common(6))
        print(f"{t:24} {exact[t]:6d} {only_variant[t]:5d}  {seen}")
    print(
        f"total: {sum(exact.values())} exact-term article hits, "
        f"{sum(only_variant.values())} more articles found only through a variant"
    )


def automatic_cost(arts: list[dict], top: int) -> None:
    freq = Counter(
        t.text
        for a in arts
        for t in tokenize(a.get("content") or "")
        if len(t.text) >= 4 and "\u0600" <= t.text[0] <= "\u06ff"
    )
    words = [w for w, _ in freq.most_common(top)]
    rules = [TopicRule(f"w{i}", w, any=(Term(w, name=True),), min_score=0) for i, w in enumerate(words)]
    matcher = compile_topics(rules)
    merged: dict[str, Counter] = defaultdict(Counter)
    hits = variant_hits = 0
    for a in arts:
        for r in matcher.evaluate("", a.get("content") or "", only_hits=True):
            for h in r.hits:
                hits += 1
                if h.variant:
                    variant_hits += 1
                    merged[r.topic_name][fold(h.matched)] += 1
    print(f"\n2. looseness made automatic: the {top} most frequent words (4+ letters) as names")
    print(
        f"words that pick up another spelling: {len(merged)} of {top}; "
        f"variant hits {variant_hits} of {hits} ({100 * variant_hits / max(1, hits):.1f}%)"
    )
    print("examples (word -> other words it would match, count):")
    for w, c in sorted(merged.items(), key=lambda kv: -sum(kv[1].values()))[:25]:
        print(f"  {w} -> " + ", ".join(f"{x} ({n})" for x, n in c.most_common(4)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=1000, help="frequent words tried as names (part 2)")
    args = ap.parse_args()
    arts, source = load_corpus()
    print(f"corpus: {source}")
    variant_report(arts, name_terms())
    automatic_cost(arts, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
