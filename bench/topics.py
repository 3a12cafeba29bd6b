#!/usr/bin/env python3
"""Matching cost per article against the number of topics and terms.

    python3 bench/topics.py [--topics 1000] [--terms-per-topic 20] [--articles 50] [--repeat 5] [--check]

Terms are real corpus vocabulary, never invented: words and 2-3 word phrases
drawn (seeded) from the SaudiNewsNet articles' folded tokens, skipping the 300
most frequent words (function words no one watches) and words seen fewer than 3
times; 10% of terms are marked as names (~, loose variants). Each topic has two
`all` groups of 5 terms, 8 `any` terms and 2 `none` terms. Corpus: the full
corpus at ../shared/corpus/saudinewsnet when present (says so when it falls back
to tests/fixtures). Articles: real articles of 4.5-5.5 KB of text (UTF-8 bytes).

Timing: time.process_time() (CPU), Matcher.match(title, body) per article
(folding, tokenizing, index look-ups, phrase checks, scoring), best of K passes
after one warm-up pass; the cold first pass is printed too. Repeated at 10, 100
and N topics to show the cost does not grow with the number of topics.
Target: <= 1.0 ms mean per 5 KB article at 1,000 topics / 20,000 terms (--check exits 1 if missed).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import all_articles  # noqa: E402
from monitor.matching.matcher import compile_topics  # noqa: E402
from monitor.matching.rules import TopicRule  # noqa: E402
from monitor.text.normalize import tokenize  # noqa: E402

TARGET_MS = 1.0
SKIP_TOP = 300


def load_corpus() -> tuple[list[dict], str]:
    return all_articles()


def vocabulary(arts: list[dict], rng: random.Random, n_terms: int) -> list[str]:
    """n_terms distinct real terms: 70% words, 25% two-word and 5% three-word phrases."""
    words: Counter[str] = Counter()
    phrases: Counter[tuple[str, ...]] = Counter()
    for a in arts:
        toks = [t.text for t in tokenize(a.get("content") or "")]
        words.update(toks)
        phrases.update(zip(toks, toks[1:]))
        phrases.update(zip(toks, toks[1:], toks[2:]))
    common = {w for w, _ in words.most_common(SKIP_TOP)}
    single = [w for w, c in words.items() if c >= 3 and w not in common and len(w) >= 3 and not w.isdigit()]
    multi2 = [p for p, c in phrases.items() if len(p) == 2 and c >= 3 and not set(p) & common]
    multi3 = [p for p, c in phrases.items() if len(p) == 3 and c >= 2 and not set(p) & common]
    terms = set(rng.sample(single, min(len(single), int(n_terms * 0.70))))
    terms |= {" ".join(p) for p in rng.sample(multi2, min(len(multi2), int(n_terms * 0.25)))}
    terms |= {" ".join(p) for p in rng.sample(multi3, min(len(multi3), n_terms - len(terms)))}
    out = sorted(terms)
    rng.shuffle(out)
    return out[:n_terms]


def build_topics(terms: list[str], n_topics: int, per_topic: int, rng: random.Random) -> list[TopicRule]:
    rules = []
    for i in range(n_topics):
        ts = [terms[(i * per_topic + k) % len(terms)] for k in range(per_topic)]
        ts = [("~" + t) if rng.random() < 0.10 else t for t in ts]
        rules.append(
            TopicRule(
                f"t{i}",
                f"topic {i}",
                all=(tuple(ts[0:5]), tuple(ts[5:10])),
                any=tuple(ts[10:18]),
                none=tuple(ts[18:20]),
            )
        )
    return rules


def time_matcher(rules: list[TopicRule], articles: list[dict], repeat: int) -> dict:
    matcher = compile_topics(rules)
    cold = []
    for a in articles:
        t0 = time.process_time()
        matcher.match(a["title"], a["content"])
        cold.append(time.process_time() - t0)
    best = None
    per_article: list[float] = []
    for _ in range(repeat):
        run = []
        for a in articles:
            t0 = time.process_time()
            matcher.match(a["title"], a["content"])
            run.append(time.process_time() - t0)
        if best is None or sum(run) < best:
            best, per_article = sum(run), run
    touched = [len(matcher.evaluate(a["title"], a["content"], only_hits=True)) for a in articles]
    matched = sum(len(matcher.match(a["title"], a["content"])) for a in articles)
    return {
        "mean_ms": 1000 * statistics.mean(per_article),
        "p95_ms": 1000 * sorted(per_article)[int(0.95 * (len(per_article) - 1))],
        "cold_ms": 1000 * statistics.mean(cold),
        "touched": statistics.mean(touched),
        "matched": matched,
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--topics", type=int, default=1000)
    ap.add_argument("--terms-per-topic", type=int, default=20)
    ap.add_argument("--articles", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    rng = random.Random(20150721)
    arts, source = load_corpus()
    print(f"corpus: {source}")
    sized = [a for a in arts if 4500 <= len((a.get("content") or "").encode()) <= 5500 and a.get("title")]
    articles = rng.sample(sized, min(args.articles, len(sized)))
    n_terms = args.topics * args.terms_per_topic
    terms = vocabulary(arts, rng, n_terms)
    print(
        f"articles: {len(articles)} of 4.5-5.5 KB (mean {statistics.mean(len(a['content'].encode()) for a in articles) / 1024:.2f} KiB, "
        f"{statistics.mean(len(tokenize(a['content'])) for a in articles):.0f} words)"
    )
    print(
        f"terms: {len(terms)} distinct real terms ({sum(' ' in t for t in terms)} phrases), "
        f"{args.terms_per_topic} per topic, 10% marked as names"
    )
    print(
        f"{'topics':>7} {'terms':>7} {'compile s':>9} {'mean ms':>8} {'p95 ms':>7} {'cold ms':>8} "
        f"{'topics hit':>10} {'matches':>8}"
    )
    result = None
    for n in sorted({10, 100, args.topics}):
        rules = build_topics(terms, n, args.terms_per_topic, random.Random(n))
        t0 = time.process_time()
        compile_topics(rules)
        compile_s = time.process_time() - t0
        result = time_matcher(rules, articles, args.repeat)
        print(
            f"{n:7d} {n * args.terms_per_topic:7d} {compile_s:9.2f} {result['mean_ms']:8.3f} "
            f"{result['p95_ms']:7.3f} {result['cold_ms']:8.3f} {result['touched']:10.1f} {result['matched']:8d}"
        )
    assert result is not None
    ok = result["mean_ms"] <= TARGET_MS
    print(
        f"target: mean <= {TARGET_MS} ms per 5 KB article at {args.topics} topics: "
        f"{'met' if ok else 'MISSED'} ({result['mean_ms']:.3f} ms)"
    )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
