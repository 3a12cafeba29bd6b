"""Score any labelled directory as a user would: `python3 bench/relevance.py --holdout-set DIR`.

DIR holds articles.jsonl, labels.json and topics.yaml in the format of
tests/fixtures/labelled/ (README there). For each topic of DIR/topics.yaml it
prints precision / recall / F1 of the plain substring baseline (naive.py, the
rule's terms with `~` dropped) and of our matcher at its defaults (the rule
as written, no min_score), per article and per copy group (a group is found
when any member matches, relevant when any member is), with and without the
labels marked "hard call"; then every false alert and every miss of the
matcher with the reasons `monitor explain` gives (score, groups, weakest
group, near miss, first hits).

`--corpus DIR2` (e.g. ../shared/corpus/saudinewsnet) also runs both over
every article of the SaudiNewsNet zips in DIR2 and lists the alerts whose
article is not in the set: precision over the whole days needs each of them
read and labelled. Only this option reads outside the repository; it says so
when DIR2 is absent.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import yaml
from naive import naive_match

from monitor.cli.explain import near_miss
from monitor.config.load import rule_from_dict
from monitor.matching.matcher import compile_topics
from monitor.models import TopicResult


def load_dir(directory: Path):
    arts = [json.loads(x) for x in (directory / "articles.jsonl").read_text(encoding="utf-8").splitlines() if x]
    labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
    topics = yaml.safe_load((directory / "topics.yaml").read_text(encoding="utf-8"))["topics"]
    return arts, labels, topics


def plain(topic: dict) -> dict:
    """The rule's terms as plain strings (no `~`): what a substring script searches for."""

    def strip(term):
        return str(term).lstrip("~")

    out = dict(topic)
    out["all"] = [[strip(t) for t in (g if isinstance(g, list) else [g])] for g in topic.get("all") or []]
    out["any"] = [strip(t) for t in topic.get("any") or []]
    out["none"] = [strip(t) for t in topic.get("none") or []]
    return out


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / max(1, tp + fp)
    r = tp / max(1, tp + fn)
    return p, r, 2 * p * r / max(1e-9, p + r)


def tally(pred, gold, keep) -> tuple[int, int, int]:
    rows = [(p, g) for p, g, k in zip(pred, gold, keep) if k]
    return (
        sum(p and g for p, g in rows),
        sum(p and not g for p, g in rows),
        sum(g and not p for p, g in rows),
    )


def grouped(pred, gold, keep, group):
    found: dict[int, list[bool]] = {}
    for p, g, k, c in zip(pred, gold, keep, group):
        if k:
            f = found.setdefault(c, [False, False])
            f[0] |= p
            f[1] |= g
    return [f[0] for f in found.values()], [f[1] for f in found.values()], [True] * len(found)


def reasons(result: TopicResult) -> str:
    groups = ", ".join(f"{g} {s:.3g}" for g, s in result.groups)
    hits = "; ".join(f"{h.group}:{h.matched}@{h.field}{h.token}" + ("~v" if h.variant else "") for h in result.hits[:6])
    close = near_miss(result)
    return (
        f"{result.reason} | score {result.score:g}/{result.threshold:g} [{groups}]"
        + (f" weakest {result.weakest}" if result.weakest else "")
        + (f" | {close}" if close else "")
        + (f" | hits {hits}" if hits else "")
    )


def score_dir(directory: Path, copy_groups) -> dict[tuple[str, str], tuple[int, int, int]]:
    """Print the tables and the error list; return (topic, rule) -> (TP, FP, FN) per article, all labels."""
    arts, labels, topics = load_dir(directory)
    counts: dict[tuple[str, str], tuple[int, int, int]] = {}
    group = copy_groups(arts)
    print(f"{directory}: {len(arts)} articles in {len(set(group))} copy groups")
    print(f"{'topic':20} {'rule':8} {'unit':8} {'labels':9} {'TP':>4} {'FP':>4} {'FN':>4} {'P':>6} {'R':>6} {'F1':>6}")
    macro: dict[tuple[str, str, str], list[float]] = {}
    errors: list[str] = []
    for topic in topics:
        tl = labels.get(topic["id"], {})
        gold = [bool(tl.get(a["id"], {}).get("relevant", False)) for a in arts]
        hard = [tl.get(a["id"], {}).get("why", "").startswith("hard call") for a in arts]
        naive = [naive_match(plain(topic), a["title"], a["content"]) for a in arts]
        m = compile_topics([rule_from_dict(topic)])
        results = [m.evaluate(a["title"], a["content"])[0] for a in arts]
        ours = [r.matched for r in results]
        bare = compile_topics([replace(rule_from_dict(topic), min_score=0.0)])
        mention = [bare.evaluate(a["title"], a["content"])[0].matched for a in arts]
        for name, pred in (("naive", naive), ("mention", mention), ("default", ours)):
            for lab, keep in (("all", [True] * len(arts)), ("no-hard", [not h for h in hard])):
                for unit in ("article", "group"):
                    pp, gg, kk = (pred, gold, keep) if unit == "article" else grouped(pred, gold, keep, group)
                    tp, fp, fn = tally(pp, gg, kk)
                    if unit == "article" and lab == "all":
                        counts[(topic["id"], name)] = (tp, fp, fn)
                    p, r, f = prf(tp, fp, fn)
                    macro.setdefault((name, unit, lab), []).append(f)
                    print(
                        f"{topic['id']:20} {name:8} {unit:8} {lab:9} {tp:4d} {fp:4d} {fn:4d} {p:6.3f} {r:6.3f} {f:6.3f}"
                    )
        for a, g, h, n, r in zip(arts, gold, hard, naive, results):
            if r.matched != g:
                kind = "FALSE ALERT" if r.matched else "MISS"
                mark = " (hard call)" if h else ""
                errors.append(
                    f"{topic['id']} {kind}{mark} {a['id']} [{a['source']}] naive={'hit' if n else 'no'} "
                    f"«{a['title'][:70]}»\n    why label: {tl.get(a['id'], {}).get('why', 'not listed: irrelevant')}\n"
                    f"    ours: {reasons(r)}"
                )
    print()
    for (name, unit, lab), fs in sorted(macro.items()):
        print(f"macro F1 {name:8} {unit:8} {lab:9} {sum(fs) / len(fs):.3f}")
    print(f"\n{len(errors)} errors of the matcher at its defaults:")
    for e in errors:
        print(e)
    return counts


def corpus_alerts(directory: Path, corpus: Path, counts: dict[tuple[str, str], tuple[int, int, int]]) -> None:
    """Alerts on every article of the corpus days that are not in the labelled set.

    Then precision over the whole days, counting each such alert as false: right
    only when every relevant article of those days is in the set (the set's
    README says how its candidates were searched and read; read this list).
    """
    zips = sorted(corpus.glob("*.zip"))
    if not zips:
        print(f"\n--corpus: no SaudiNewsNet zip in {corpus} (../shared absent?); skipped")
        return
    arts, labels, topics = load_dir(directory)
    known = {a["id"] for a in arts}
    rules = [(t, compile_topics([rule_from_dict(t)])) for t in topics]
    print(f"\nalerts over {', '.join(z.name for z in zips)} whose article is not in {directory.name}:")
    total = 0
    outside: dict[tuple[str, str], int] = {}
    for z in zips:
        day = z.stem.replace("-", "")
        with zipfile.ZipFile(z) as f:
            items = json.loads(f.read(f.namelist()[0]))
        for i, item in enumerate(items):
            aid = f"snn-{day}-{i:04d}"
            if aid in known:
                continue
            title, content = item.get("title") or "", item.get("content") or ""
            for topic, m in rules:
                ours = m.evaluate(title, content)[0].matched
                naive = naive_match(plain(topic), title, content)
                if ours or naive:
                    total += 1
                    outside[(topic["id"], "default")] = outside.get((topic["id"], "default"), 0) + ours
                    outside[(topic["id"], "naive")] = outside.get((topic["id"], "naive"), 0) + naive
                    print(
                        f"  {topic['id']} {aid} ours={'hit' if ours else 'no'} naive={'hit' if naive else 'no'} «{title[:70]}»"
                    )
    print(f"{total} alerts outside the set")
    print("\nover the whole days, per article (alerts outside the set counted as false alerts):")
    macro: dict[str, list[float]] = {}
    for (tid, name), (tp, fp, fn) in counts.items():
        extra = outside.get((tid, name), 0)
        p, r, f = prf(tp, fp + extra, fn)
        macro.setdefault(name, []).append(f)
        print(
            f"{tid:20} {name:8} TP {tp:4d} FP {fp + extra:4d} (outside {extra:3d}) FN {fn:4d}  P {p:.3f} R {r:.3f} F1 {f:.3f}"
        )
    for name, fs in macro.items():
        print(f"macro F1 {name:8} {sum(fs) / len(fs):.3f}")
