#!/usr/bin/env python3
"""Precision and recall of the labelled-set rules per min_score (and naive baseline).

    python3 bench/relevance.py [--thresholds 0,1,2,3,4,5,6] [--names]

Reads tests/fixtures/labelled/ (377 real articles labelled by reading them; no
../shared needed). For each topic of its topics.yaml it prints precision /
recall of the plain substring baseline (naive.py), of our matcher with scoring
off (min_score 0) and at each threshold, plus micro-averaged totals: the table
the default relevance.DEFAULT_MIN_SCORE was chosen from. `--names` marks the
foreign-name terms of each rule with ~ (loose spelling variants) first.
`--holdout` also picks the per-group threshold on three topics (best F1) and
scores it on the fourth, for each topic: is the default only fitted to this set?
`--holdout-set DIR` scores any directory in this format (articles.jsonl,
labels.json, topics.yaml) as a user would, matcher at its defaults against
the naive baseline, and lists every false alert and miss with its reasons
(bench/relevance_holdout.py; `--corpus DIR2` also lists the alerts on the
whole corpus days that fall outside the set).
`--fit` (issue 15) reports P / R / F1 per topic and macro, per article and per
copy group (articles whose word-3-shingle Jaccard reaches dedup's COPY_JACCARD
are one group: it is found when any member matches, relevant when any member
is), at the shipped default; then leave-one-topic-out twice: the per-group
threshold alone (shipped K1, B, LENGTH_CAP, NEAR_BONUS), and every constant
(K1, B, LENGTH_CAP, NEAR_BONUS, threshold) chosen on the other topics by macro F1.
A group the headline names passes (relevance.group_score's title floor), as in the product.
`--errors` (with --fit) lists every false alert and miss at the leave-one-topic-out
threshold, with the verdict `monitor explain` gives and the label's reason.
`--nine DIR` (issue 15, held-out recall) scores the six topics and DIR's together,
every constant chosen leave-one-topic-out over all of them (bench/relevance_nine.py);
`--families` adds candidate scoring families, each chosen the same way (nested).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LABELLED = ROOT / "tests" / "fixtures" / "labelled"
sys.path.insert(0, str(LABELLED))

import yaml  # noqa: E402
from naive import naive_match  # noqa: E402

from monitor.config.load import rule_from_dict  # noqa: E402
from monitor.matching.matcher import compile_topics  # noqa: E402


def load():
    arts = [json.loads(line) for line in (LABELLED / "articles.jsonl").read_text(encoding="utf-8").splitlines()]
    labels = json.loads((LABELLED / "labels.json").read_text(encoding="utf-8"))
    topics = yaml.safe_load((LABELLED / "topics.yaml").read_text(encoding="utf-8"))["topics"]
    return arts, labels, topics


def counts(pred, gold):
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    return tp, fp, fn


def pr(tp, fp, fn):
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--thresholds", default="0,3,4,5,6,7,8")
    ap.add_argument("--group-min", default="0,2,3", help="min_group_score values to show")
    ap.add_argument("--names", action="store_true", help="use topics-names.yaml (~ on names)")
    ap.add_argument("--holdout", action="store_true", help="leave-one-topic-out threshold choice")
    ap.add_argument("--fit", action="store_true", help="issue 15: F1 per topic/copy group, constants chosen LOTO")
    ap.add_argument("--holdout-set", type=Path, help="score this labelled directory at the defaults, list errors")
    ap.add_argument("--corpus", type=Path, help="with --holdout-set: list alerts on these corpus zips outside the set")
    ap.add_argument("--errors", action="store_true", help="with --fit: list false alerts and misses (LOTO threshold)")
    ap.add_argument("--nine", type=Path, help="LOTO over the tuned topics and this directory's (relevance_nine.py)")
    ap.add_argument("--families", action="store_true", help="with --nine: nested LOTO of candidate scoring families")
    args = ap.parse_args()
    if args.nine:
        from relevance_nine import run

        run([LABELLED, args.nine], copy_groups, args.families)
        return 0
    if args.holdout_set:
        from relevance_holdout import corpus_alerts, score_dir

        held = score_dir(args.holdout_set, copy_groups)
        if args.corpus:
            corpus_alerts(args.holdout_set, args.corpus, held)
        return 0
    arts, labels, topics = load()
    if args.fit:
        fit(arts, labels, topics, args.errors)
        return 0
    plain = {t["id"]: t for t in topics}  # the naive baseline always uses the plain terms
    if args.names:
        topics = yaml.safe_load((LABELLED / "topics-names.yaml").read_text(encoding="utf-8"))["topics"]
    thresholds = [float(t) for t in args.thresholds.split(",")]
    totals: dict[str, list[int]] = {}
    print(f"{'topic':22} {'rule':>12} {'TP':>4} {'FP':>4} {'FN':>4} {'P':>6} {'R':>6}")
    for topic in topics:
        gold = [labels.get(topic["id"], {}).get(a["id"], {}).get("relevant", False) for a in arts]
        rows = [("naive", [naive_match(plain[topic["id"]], a["title"], a["content"]) for a in arts])]
        base = rule_from_dict(topic)
        m = compile_topics([replace(base, min_score=0.0)])
        results = [m.evaluate(a["title"], a["content"])[0] for a in arts]  # scored once
        rows.append(("default", [compile_topics([base]).evaluate(a["title"], a["content"])[0].matched for a in arts]))
        for t in thresholds:
            rows.append((f"min {t:g}", [r.matched and r.score >= t for r in results]))
        for g in [float(x) for x in args.group_min.split(",") if float(x) > 0]:
            m = compile_topics([replace(base, min_group_score=g)])
            rows.append((f"default g{g:g}", [m.evaluate(a["title"], a["content"])[0].matched for a in arts]))
        for name, pred in rows:
            tp, fp, fn = counts(pred, gold)
            tot = totals.setdefault(name, [0, 0, 0])
            tot[0] += tp
            tot[1] += fp
            tot[2] += fn
            p, r = pr(tp, fp, fn)
            print(f"{topic['id']:22} {name:>12} {tp:4d} {fp:4d} {fn:4d} {p:6.3f} {r:6.3f}")
    for name, (tp, fp, fn) in totals.items():
        p, r = pr(tp, fp, fn)
        print(f"{'ALL (micro)':22} {name:>12} {tp:4d} {fp:4d} {fn:4d} {p:6.3f} {r:6.3f}")
    if args.holdout:
        holdout(arts, labels, topics)
    return 0


def holdout(arts, labels, topics) -> None:
    """Per topic: the per-group threshold with the best F1 on the OTHER topics, scored here."""
    rows: dict[str, list[tuple[bool, bool, float]]] = {}
    for topic in topics:
        rule = rule_from_dict(topic)
        groups = len(rule.all) + bool(rule.any) + sum(len(n.groups) for n in rule.near)
        m = compile_topics([replace(rule, min_score=0.0)])
        rows[topic["id"]] = []
        for a in arts:
            r = m.evaluate(a["title"], a["content"])[0]
            gold = labels.get(topic["id"], {}).get(a["id"], {}).get("relevant", False)
            rows[topic["id"]].append((gold, r.matched, r.score / groups))

    def f1(data, th):
        pred = [m and s >= th for _, m, s in data]
        p, r = pr(*counts(pred, [g for g, _, _ in data]))
        return 2 * p * r / max(1e-9, p + r), p, r

    grid = [x / 4 for x in range(25)]
    print("\nleave-one-topic-out: per-group threshold chosen on the other topics (best F1)")
    for held, data in rows.items():
        train = [x for k, v in rows.items() if k != held for x in v]
        best = max(grid, key=lambda th: (f1(train, th)[0], -th))
        shown = "  ".join(
            f"{label} F1 {f:.3f} P {p:.3f} R {r:.3f}"
            for label, (f, p, r) in ((f"chosen {best:g}", f1(data, best)), ("mention", f1(data, 0.0)))
        )
        print(f"{held:22} {shown}")


def copy_groups(arts) -> list[int]:
    """Per article, the index of its copy group (union of pairs at or above COPY_JACCARD)."""
    from monitor.dedup.neardup import COPY_JACCARD, article_text, fingerprint, jaccard

    prints = [fingerprint(article_text(a["title"], a["content"])).shingles for a in arts]
    parent = list(range(len(arts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(arts)):
        for j in range(i + 1, len(arts)):
            if prints[i].size >= 10 and prints[j].size >= 10 and jaccard(prints[i], prints[j]) >= COPY_JACCARD:
                parent[root(j)] = root(i)
    return [root(i) for i in range(len(arts))]


def prf(pred, gold) -> tuple[float, float, float]:
    p, r = pr(*counts(pred, gold))
    return p, r, 2 * p * r / max(1e-9, p + r)


def by_group(pred, gold, group) -> tuple[list[bool], list[bool]]:
    found: dict[int, list[bool]] = {}
    for p, g, k in zip(pred, gold, group):
        f = found.setdefault(k, [False, False])
        f[0] |= p
        f[1] |= g
    return [f[0] for f in found.values()], [f[1] for f in found.values()]


def fit(arts, labels, topics, errors: bool = False) -> None:
    """Issue 15 figures: default per article and per copy group, then LOTO choices."""
    import itertools

    from monitor.matching import relevance as rel
    from monitor.text.normalize import words

    group = copy_groups(arts)
    print(f"{len(arts)} articles in {len(set(group))} copy groups")
    data: dict[str, list[tuple[bool, bool, list[tuple[float, float, bool]], bool, int, bool]]] = {}
    verdicts: dict[str, list] = {}
    print(f"{'topic':22} {'unit':>7} {'P':>6} {'R':>6} {'F1':>6}")
    macro: dict[str, list[float]] = {"article": [], "group": []}
    for topic in topics:
        rule = rule_from_dict(topic)
        gold = [labels.get(topic["id"], {}).get(a["id"], {}).get("relevant", False) for a in arts]
        default = compile_topics([rule])
        pred = [default.evaluate(a["title"], a["content"])[0].matched for a in arts]
        for unit, (pp, gg) in (("article", (pred, gold)), ("group", by_group(pred, gold, group))):
            p, r, f = prf(pp, gg)
            macro[unit].append(f)
            print(f"{topic['id']:22} {unit:>7} {p:6.3f} {r:6.3f} {f:6.3f}")
        m = compile_topics([replace(rule, min_score=0.0)])
        rows = []
        verdicts[topic["id"]] = []
        for a, g in zip(arts, gold):
            r = m.evaluate(a["title"], a["content"])[0]
            verdicts[topic["id"]].append(r)
            hits: dict[str, list] = {}
            for h in r.hits:
                if h.group != "none":
                    hits.setdefault(h.group, []).append(h)
            close = len(hits) >= 2 and rel._near_ok(list(hits.values()), rel.NEAR_WORDS)
            lead = [[h for h in v if h.field == "title" or h.token < rel.LEAD_WORDS] for v in hits.values()]
            split = [
                (rel.evidence(f), rel.evidence(v) - rel.evidence(f), any(h.field == "title" for h in v))
                for f, v in zip(lead, hits.values())
            ]
            summary = rel.headline_and_lead(list(hits.values()))  # the headline and lead name every group
            rows.append((g, r.matched, split, close, len(words(a["content"])), summary))
        data[topic["id"]] = rows
    for unit, fs in macro.items():
        print(f"{'macro':22} {unit:>7} {'':6} {'':6} {sum(fs) / len(fs):6.3f}")

    def weakest(rows, k1, b, cap, near):
        out = []
        for g, matched, tfs, close, n, summary in rows:
            length = 1 - b + b * min(n, cap) / rel.AVG_WORDS
            ss = []
            for fixed, body, headline in tfs:
                tf = fixed + body / length + (near if close else 0)
                ss.append(float("inf") if headline or summary else tf * (k1 + 1) / (tf + k1))
            out.append((g, matched, min(ss) if ss else 0.0))
        return out

    def f1(scored, th):
        return prf([m and s >= th for _, m, s in scored], [g for g, _, _ in scored])

    grid = list(
        itertools.product(
            [0.5, 1.0, 1.5, 2.0, 3.0], [0.0, 0.25, 0.5, 0.75], [300, 600, 1000, 2000, 3000, 10**9], [0.0, 1.0]
        )
    )
    thetas = [x / 20 for x in range(10, 60)]
    scored = {c: {t: weakest(rows, *c) for t, rows in data.items()} for c in grid}
    shipped = (rel.K1, rel.B, rel.LENGTH_CAP, rel.NEAR_BONUS)
    scored.setdefault(shipped, {t: weakest(rows, *shipped) for t, rows in data.items()})
    chosen: dict[str, float] = {}
    for title, choices in (("threshold only", [shipped]), ("every constant", list(scored))):
        print(f"\nleave-one-topic-out, {title}: chosen on the other topics (macro F1), scored on the held-out one")
        fs = []
        for held in data:
            train = [t for t in data if t != held]
            best = max(
                ((c, th) for c in choices for th in thetas),
                key=lambda ct: (sum(f1(scored[ct[0]][t], ct[1])[2] for t in train), -abs(ct[1] - rel.GROUP_THRESHOLD)),
            )
            p, r, f = f1(scored[best[0]][held], best[1])
            fs.append(f)
            chosen.setdefault(held, best[1])
            pred = [m and s >= best[1] for _, m, s in scored[best[0]][held]]
            gold = [g for g, _, _ in scored[best[0]][held]]
            fg = prf(*by_group(pred, gold, group))[2]
            easy = [
                i for i, a in enumerate(arts) if "hard call" not in labels.get(held, {}).get(a["id"], {}).get("why", "")
            ]
            fe = prf([pred[i] for i in easy], [gold[i] for i in easy])[2]
            print(
                f"{held:22} K1 B cap near {best[0]} threshold {best[1]:g}: P {p:.3f} R {r:.3f} F1 {f:.3f}"
                f" | copy groups F1 {fg:.3f} | without hard calls F1 {fe:.3f}"
            )
        print(f"{'macro':22} F1 {sum(fs) / len(fs):.3f}, lowest {min(fs):.3f}")
    if errors:
        print_errors(arts, labels, data, verdicts, scored[shipped], chosen)


def print_errors(arts, labels, data, verdicts, scored, chosen) -> None:
    """Every false alert and miss at each topic's leave-one-topic-out threshold, explain-style."""
    for topic, th in chosen.items():
        print(f"\n{topic}: errors at the held-out threshold {th:g} (FN miss, FP false alert)")
        for a, (gold, _, s), r in zip(arts, scored[topic], verdicts[topic]):
            pred = r.matched and s >= th
            if pred == gold:
                continue
            why = labels.get(topic, {}).get(a["id"], {}).get("why", "")
            groups = " ".join(f"{label} {v:g}" for label, v in r.groups)
            state = f"weakest {s:.2f}" if r.matched else r.reason
            print(f"  {'FN' if gold else 'FP'} {a['id']} {a['source']}: {state}; groups {groups}")
            print(f"     {a['title'][:90]}")
            print(f"     label: {why}")


if __name__ == "__main__":
    sys.exit(main())
