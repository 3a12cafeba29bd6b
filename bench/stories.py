"""Story assignment against story groups labelled by reading: pairwise precision / recall in
random arrival orders, and how many labelled pairs get the same call in every order (issue 15
kind 5: "one event, two stories").

Labels: tests/fixtures/stories/groups.json (68 groups, method in tests/fixtures/stories/README.md).
Articles: the 360-article excerpt in tests/fixtures/saudinewsnet plus, when the full daily dumps
are there (../shared/corpus/saudinewsnet, relative to the project root), the members of the groups
chosen from them (458 articles in all). Without the dumps it says so and scores the excerpt's
groups only. Each order goes through a fresh real Store (SQLite file): copy detection, then story
clustering, one article a minute (all inside the story window).

    python3 bench/stories.py [--orders N] [--seed S] [--show-changed] [--cv] [--whole-corpus]
                             [--summaries SHARE [--summary-words N]] [--pairs] [--pure-pairs]

--summaries: a random SHARE of the articles (seeded) arrive as their feed summary, the title and
the body's first N words (a page that could not be read; redteam15 #9); with --cv the head rule's
HEAD_SIMILARITY is cross-validated on them instead of the full-text rule.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import random
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.dedup.stories import LinkRule, cosine, profile  # noqa: E402
from tests.support.story_labels import (  # noqa: E402
    Labels,
    assign,
    components,
    fixture_articles,
    labels,
    orders,
    pair_facts,
    pair_score,
    stable_share,
)

# the grid --cv chooses from: key-term cosine x title cosine x rare shared title term (None: not needed)
GRID_SIMILARITY = (0.30, 0.32, 0.35, 0.38, 0.40)
GRID_TITLE = (0.10, 0.15, 0.20, 0.25)
GRID_RARE = (None, 400, 200, 100, 50)
GRID_HEAD = (None, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70)  # --summaries --cv: the head rule's cosine
FOLDS = 5
BEFORE = LinkRule(0.35, 0.20, None)  # key terms and titles only (no shared rare title term)


def corpus_dir() -> Path | None:
    """../shared/corpus/saudinewsnet next to the checkout (or MONITOR_SHARED/corpus/saudinewsnet)."""
    cands = [Path(os.environ["MONITOR_SHARED"])] if "MONITOR_SHARED" in os.environ else []
    cands += [ROOT.parent / "shared", ROOT.parents[1] / "shared"]  # a worktree sits one level deeper
    for c in cands:
        if (c / "corpus" / "saudinewsnet").is_dir():
            return c / "corpus" / "saudinewsnet"
    return None


def corpus_articles(ids: set[str], where: Path) -> dict[str, dict]:
    """Articles `snn-YYYYMMDD-NNNN` = item NNNN of that day's JSON list, HTML entities decoded."""
    out: dict[str, dict] = {}
    for path in sorted(where.glob("*.zip")):
        day = path.stem.replace("-", "")
        with zipfile.ZipFile(path) as z:
            items = json.loads(z.read(z.namelist()[0]))
        for i, a in enumerate(items):
            aid = f"snn-{day}-{i:04d}"
            if aid in ids:
                out[aid] = {k: html.unescape(v) if isinstance(v, str) else v for k, v in a.items()}
    return out


def size_line(story: dict) -> str:
    """Story sizes: the largest, how many of 2+, 10+, 20+."""
    sizes = sorted(Counter(story.values()).values(), reverse=True)
    return (
        f"{len(sizes)} stories; largest {sizes[:8]}; of 2+: {sum(s >= 2 for s in sizes)}, "
        f"10+: {sum(s >= 10 for s in sizes)}, 20+: {sum(s >= 20 for s in sizes)}"
    )


def dump_articles(where: Path) -> dict[str, dict]:
    """Every dump article of 150-5,000 characters (as the excerpt), HTML entities decoded."""
    arts: dict[str, dict] = {}
    for path in sorted(where.glob("*.zip")):
        day = path.stem.replace("-", "")
        with zipfile.ZipFile(path) as z:
            for i, a in enumerate(json.loads(z.read(z.namelist()[0]))):
                a = {k: html.unescape(v) if isinstance(v, str) else v for k, v in a.items()}
                if 150 <= len(a["content"]) <= 5000:
                    arts[f"snn-{day}-{i:04d}"] = a
    return arts


def whole(where: Path, lab: Labels, sample: int, seed: int) -> None:
    """Every dump article (150-5,000 characters, as the excerpt) in date order, one a minute: how
    many stories and how big (single-link stories can chain), and the pairwise precision / recall
    of the labelled articles among all the others (every other article a distractor)."""
    arts = dump_articles(where)
    order = sorted(arts, key=lambda k: (arts[k]["date_extracted"], k))
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        story = assign(arts, order, Path(tmp) / "whole.db")
    cpu = time.process_time() - t0
    universe = set(lab.fixture) | set(lab.group_of) | set(lab.extra_singletons)
    s = pair_score({k: v for k, v in story.items() if k in universe}, lab)
    print(f"whole corpus: {len(arts)} articles -> {size_line(story)}")
    print(
        f"whole corpus, the {sum(k in universe for k in story)} labelled-universe articles among them: "
        f"precision {s.precision:.3f} recall {s.recall:.3f} F1 {f1(s.precision, s.recall):.3f} "
        f"(predicted {s.predicted}, true {s.true})"
    )
    print(f"whole corpus placement: cpu {cpu:.1f}s ({cpu / len(arts) * 1000:.1f} ms/article)")
    by: dict[int, list[str]] = {}
    for k in sorted(story):
        by.setdefault(story[k], []).append(k)
    pairs = [p for members in by.values() for p in itertools.combinations(members, 2)]
    prof = {k: profile(arts[k]["title"], arts[k]["content"]) for m in by.values() if len(m) > 1 for k in m}
    weak = sum(cosine(prof[a], prof[b]) < 0.2 for a, b in pairs)
    print(
        f"whole corpus same-story pairs: {len(pairs)}; with key-term cosine < 0.2 (held together only "
        f"through other articles): {weak} ({weak / max(1, len(pairs)):.1%})"
    )
    if sample:
        print(f"{sample} random same-story pairs (seed {seed}) to read:")
        for a, b in random.Random(seed).sample(pairs, min(sample, len(pairs))):
            print(f"  {a} {b} || {arts[a]['title'][:70]} || {arts[b]['title'][:70]}")


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def folds(arts: dict[str, dict], lab: Labels, k: int, seed: int) -> list[set[str]]:
    """`k` folds over story groups: a labelled group's articles all in one fold, every other article
    (its own story) in a random one."""
    rng = random.Random(seed)
    groups = sorted({lab.group_of[a] for a in arts if a in lab.group_of})
    rng.shuffle(groups)
    fold_of = {g: i % k for i, g in enumerate(groups)}
    out: list[set[str]] = [set() for _ in range(k)]
    for a in sorted(arts):
        out[fold_of[lab.group_of[a]] if a in lab.group_of else rng.randrange(k)].add(a)
    return out


def summarized(arts: dict[str, dict], share: float, n_words: int, seed: int) -> tuple[dict[str, dict], set[str]]:
    """`arts` with a random `share` of them (seeded) cut to their title and first `n_words` body words
    (a feed summary); also which."""
    rng = random.Random(seed)
    cut = {k for k in sorted(arts) if rng.random() < share}
    out = {
        k: {**a, "content": " ".join(a["content"].split()[:n_words]), "text_source": "summary"} if k in cut else a
        for k, a in arts.items()
    }
    return out, cut


def pure_pairs(lab: Labels) -> None:
    """The tests' labelled pairs (the excerpt and tests/fixtures/labelled, as
    tests/integration/test_redteam15_stories reads them), with the pure rule (copy or
    `clustering.alike`, symmetric: the same in both orders) and the rule without the head rule:
    of the pairs linked with full text, how many with the first / second cut to 20, 40, 80 words."""
    from monitor.config.schema import Dedup
    from monitor.dedup import neardup
    from monitor.dedup import stories as clustering
    from tests.integration.test_redteam15_stories import _articles

    arts = _articles()
    ids = sorted(a for a in arts if a in lab.group_of)
    pairs = [(a, b) for a, b in itertools.combinations(ids, 2) if lab.same(a, b)]

    def linked(x: dict, y: dict, rule: LinkRule) -> bool:
        fx, fy = (neardup.fingerprint(neardup.article_text(a["title"], a["content"])) for a in (x, y))
        if neardup.best_copy(fx, [(1, fy.shingles)], Dedup().copy_jaccard) is not None:
            return True
        mx, my = (
            clustering.Member(
                clustering.profile(a["title"], a["content"]),
                clustering.title_profile(a["title"]),
                clustering.echoes(a["title"], a["content"]),
                clustering.head(a["title"], a["content"]),
                len(a["content"].split()) if a.get("text_source") == "summary" else None,
            )
            for a in (x, y)
        )
        return clustering.alike(mx, my, rule) is not None

    def cut(a: dict, n: int) -> dict:
        return {**a, "content": " ".join(a["content"].split()[:n]), "text_source": "summary"}

    before, after = LinkRule(head_similarity=None), LinkRule()
    full = [(a, b) for a, b in pairs if linked(arts[a], arts[b], before)]
    print(f"tests' labelled pairs {len(pairs)}; linked with full text {len(full)}")
    for n in (20, 40, 80):
        for name, rule in (("before", before), ("after", after)):
            first = sum(linked(cut(arts[a], n), arts[b], rule) for a, b in full)
            second = sum(linked(arts[a], cut(arts[b], n), rule) for a, b in full)
            print(f"  {n} words, {name}: linked with the first / second cut {first} / {second} of {len(full)}")


def pair_runs(arts: dict[str, dict], lab: Labels, n_words: int) -> None:
    """Each labelled same-story pair alone, in both orders: joined with full text, and with the
    first / second article (by id) cut to `n_words` body words."""
    pairs = [(a, b) for a, b in itertools.combinations(sorted(arts), 2) if lab.same(a, b)]

    def cut(a: dict) -> dict:
        return {**a, "content": " ".join(a["content"].split()[:n_words]), "text_source": "summary"}

    tally: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, (a, b) in enumerate(pairs):
            calls = {}
            for what, pair in (("full", {a: arts[a], b: arts[b]}), ("first", {a: cut(arts[a]), b: arts[b]})):
                calls[what] = all(
                    len(set(assign(pair, order, Path(tmp) / f"p{n}{what}{k}.db").values())) == 1
                    for k, order in enumerate(([a, b], [b, a]))
                )
            second = {a: arts[a], b: cut(arts[b])}
            calls["second"] = all(
                len(set(assign(second, order, Path(tmp) / f"p{n}s{k}.db").values())) == 1
                for k, order in enumerate(([a, b], [b, a]))
            )
            tally["pairs"] += 1
            for what, joined in calls.items():
                tally[what] += joined
                tally[f"{what}&full"] += joined and calls["full"]
    print(
        f"labelled pairs placed alone: {tally['pairs']}; joined in both orders with full text {tally['full']}; "
        f"with the first cut to {n_words} words {tally['first']} ({tally['first&full']} of the full-text joins), "
        f"with the second cut {tally['second']} ({tally['second&full']} of them)"
    )


def cross_validate(
    arts: dict[str, dict],
    lab: Labels,
    seed: int,
    store_story: dict[str, int],
    distractors: dict[str, dict],
    *,
    heads: bool = False,
) -> None:
    """Choose the link rule on 4 folds (best pooled F1), score the 5th; stories are the connected
    groups of linked pairs (`components`), checked against the store's for the default rule. With
    `distractors` (the dumps' other articles) the stories are made over all of them, so a rule
    that chains through unlabelled articles pays for it; only the labelled articles are scored."""
    t0 = time.process_time()
    ids = sorted(arts)
    default = LinkRule()
    facts = pair_facts(arts, min(GRID_SIMILARITY))
    pure = components(ids, facts, default)
    same = {frozenset(k for k in ids if pure[k] == r) for r in set(pure.values())} == {
        frozenset(k for k in ids if store_story[k] == r) for r in set(store_story.values())
    }
    print(f"pure link graph = the store's stories for the default rule: {'yes' if same else 'NO'}")
    every = sorted(set(ids) | set(distractors))
    if distractors:
        facts = pair_facts({k: v for k, v in distractors.items() if k not in arts} | arts, min(GRID_SIMILARITY))
        print(f"cv stories made over {len(every)} articles (the dumps' as distractors), labelled ones scored")
    rules = [LinkRule(s, t, r) for s in GRID_SIMILARITY for t in GRID_TITLE for r in GRID_RARE]
    families = [
        ("whole grid", rules),
        ("grid without the echo condition (the rule family before)", [r for r in rules if r.title_rare_df is None]),
    ]
    if heads:  # the full-text rule as it is, the head rule's similarity chosen
        rules = [
            LinkRule(head_similarity=h, head_title=t, full_when_short=f)
            for h in GRID_HEAD
            for t in (False, True)
            for f in (True, False)
            if h is not None or (not t and f)
        ]
        families = [("head similarity (short articles)", rules)]
    fold_of = {a: i for i, part in enumerate(folds(arts, lab, FOLDS, seed)) for a in part}
    true_pairs = Counter(
        frozenset((fold_of[a], fold_of[b])) for a, b in itertools.combinations(ids, 2) if lab.same(a, b)
    )
    counts = {}  # rule -> {folds of the pair's two articles: (right, predicted)}
    for rule in rules:
        story = components(every, facts, rule)
        by: dict[str, list[str]] = {}
        for a in ids:
            by.setdefault(story[a], []).append(a)
        tally: dict[frozenset[int], list[int]] = {}
        for members in by.values():
            for a, b in itertools.combinations(members, 2):
                t = tally.setdefault(frozenset((fold_of[a], fold_of[b])), [0, 0])
                t[0] += lab.same(a, b)
                t[1] += 1
        counts[rule] = tally

    def pooled(rule: LinkRule, which: list[int], *, touching: bool = False) -> tuple[float, float, float]:
        """P/R/F1 over the pairs with both articles in folds `which` (`touching`: with either)."""
        keep = (lambda fs: bool(fs & set(which))) if touching else (lambda fs: fs <= set(which))
        h = sum(v[0] for fs, v in counts[rule].items() if keep(fs))
        p = sum(v[1] for fs, v in counts[rule].items() if keep(fs))
        t = sum(n for fs, n in true_pairs.items() if keep(fs))
        pr, rc = (h / p if p else 1.0), (h / t if t else 1.0)
        return pr, rc, f1(pr, rc)

    def name(r: LinkRule) -> str:
        return (
            f"cos>={r.similarity:.2f} title>={r.title_similarity:.2f} rare echo<={r.title_rare_df} "
            f"head>={r.head_similarity}{' +title' if r.head_title else ''}"
            f"{'' if r.full_when_short else ' (heads only when short)'}"
        )

    for family, grid in families:
        print(f"-- {family}: {len(grid)} rules")
        choose_and_score(grid, pooled, counts, true_pairs, name)
    if heads:
        for rule in rules:
            dp = pooled(rule, list(range(FOLDS)))
            print(f"  {name(rule)}: on all folds P/R/F1 {dp[0]:.3f} {dp[1]:.3f} {dp[2]:.3f}")
    for what, rule in (("the default", default), ("the rule before issue 15's fix of chaining", BEFORE)):
        if rule not in counts:
            continue
        dp = pooled(rule, list(range(FOLDS)))
        print(f"  {what} {name(rule)}: on all folds P/R/F1 {dp[0]:.3f} {dp[1]:.3f} {dp[2]:.3f}")
    print(f"cv cpu {time.process_time() - t0:.1f}s ({len(facts)} article pairs sharing a key term or a band)")


def choose_and_score(grid, pooled, counts, true_pairs, name) -> None:
    """For each fold: the rule of `grid` with the best F1 on the other folds, scored on it."""
    rules = grid
    held = Counter()
    chosen = Counter()
    for i in range(FOLDS):
        train = [j for j in range(FOLDS) if j != i]
        best = max(
            rules,
            key=lambda r: (
                pooled(r, train)[2],
                r.similarity,
                r.title_similarity,
                r.head_similarity or 1.0,
                r.head_title,
                r.full_when_short,
            ),
        )
        chosen[best] += 1
        p, r, f = pooled(best, [i], touching=True)
        for fs, v in counts[best].items():
            if i in fs:  # a pair across two folds is held out in each
                held["right"] += v[0]
                held["predicted"] += v[1]
        held["true"] += sum(n for fs, n in true_pairs.items() if i in fs)
        print(
            f"fold {i}: chosen on the other {FOLDS - 1} {name(best)} (train F1 {pooled(best, train)[2]:.3f}); "
            f"held out (pairs touching the fold) P {p:.3f} R {r:.3f} F1 {f:.3f}"
        )
    pr, rc = held["right"] / held["predicted"], held["right"] / held["true"]
    print(
        f"cross-validated ({FOLDS} folds over groups, held-out pairs pooled): "
        f"precision {pr:.3f} recall {rc:.3f} F1 {f1(pr, rc):.3f}"
    )
    for rule, n in chosen.most_common():
        print(
            f"  chosen in {n} of {FOLDS} folds: {name(rule)}; on all folds P/R/F1 "
            + " ".join(f"{x:.3f}" for x in pooled(rule, list(range(FOLDS))))
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=5, help="random arrival orders (default 5)")
    ap.add_argument("--seed", type=int, default=15, help="seed of the orders (default 15)")
    ap.add_argument(
        "--cv",
        action="store_true",
        help=f"cross-validate the link rule: choose on {FOLDS - 1} folds of groups, score the held-out one",
    )
    ap.add_argument(
        "--sample-pairs",
        type=int,
        default=0,
        help="with --whole-corpus: print N random same-story pairs' titles to read (pairwise precision by hand)",
    )
    ap.add_argument(
        "--summaries", type=float, default=0.0, help="share of the articles that arrive as their summary (default 0)"
    )
    ap.add_argument("--summary-words", type=int, default=40, help="a summary's body words (default 40)")
    ap.add_argument("--pairs", action="store_true", help="each labelled pair alone, full and as a summary")
    ap.add_argument(
        "--pure-pairs", action="store_true", help="the tests' labelled pairs, pure rule, before / after the head rule"
    )
    ap.add_argument("--show-changed", action="store_true", help="list the labelled pairs whose call changed")
    ap.add_argument(
        "--whole-corpus",
        action="store_true",
        help="also place every dump article in date order: story sizes (chaining)",
    )
    args = ap.parse_args()

    lab = labels()
    if args.pure_pairs:
        pure_pairs(lab)
        return 0
    arts = fixture_articles(lab)
    where = corpus_dir()
    if where is None:
        print("../shared/corpus/saudinewsnet not found: scoring the excerpt's articles and groups only")
    else:
        wanted = (set(lab.group_of) | set(lab.extra_singletons)) - set(arts)
        arts |= corpus_articles(wanted, where)
        print(f"corpus: {where} (+{len(wanted)} articles of the groups chosen from the daily dumps)")
    if args.summaries:
        arts, cut = summarized(arts, args.summaries, args.summary_words, args.seed)
        print(
            f"{len(cut)} articles ({args.summaries:.0%}, seed {args.seed}) arrive as title + {args.summary_words} words"
        )
    in_groups = {lab.group_of[a] for a in arts if a in lab.group_of}
    sizes = [sum(1 for a in arts if lab.group_of.get(a) == g) for g in in_groups]
    print(
        f"articles {len(arts)}; labelled groups {sum(s >= 2 for s in sizes)} with 2+ members here "
        f"({sum(sizes)} articles); labelled same-story pairs {sum(s * (s - 1) // 2 for s in sizes)}"
    )
    if args.pairs:
        pair_runs(arts, lab, args.summary_words)
        return 0
    runs = []
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        for k, order in enumerate(orders(sorted(arts), args.orders, args.seed)):
            story = assign(arts, order, Path(tmp) / f"order{k}.db")
            runs.append(story)
            s = pair_score(story, lab)
            sb = pair_score(story, lab, skip=lab.borderline)
            print(
                f"order {k}: stories {len(set(story.values()))}  pairwise precision {s.precision:.3f} "
                f"recall {s.recall:.3f} (predicted {s.predicted}, true {s.true})  "
                f"without borderline members: P {sb.precision:.3f} R {sb.recall:.3f}"
            )
    share, n, changed = stable_share(runs, lab)
    moved = sum(1 for a, b in itertools.combinations(sorted(arts), 2) if len({r[a] == r[b] for r in runs}) > 1)
    ps = [pair_score(r, lab) for r in runs]
    print(
        f"mean over {len(runs)} orders: precision {sum(p.precision for p in ps) / len(ps):.3f} "
        f"recall {sum(p.recall for p in ps) / len(ps):.3f}"
    )
    print(f"labelled pairs with the same call in every order: {share:.1%} of {n} ({len(changed)} changed)")
    print(f"all article pairs whose call changed between orders: {moved} of {len(arts) * (len(arts) - 1) // 2}")
    print(f"cpu {time.process_time() - t0:.1f}s")
    print(f"labelled universe: {size_line(runs[0])}")
    if args.cv:
        distractors = dump_articles(where) if where is not None else {}
        cross_validate(arts, lab, args.seed, runs[0], distractors, heads=bool(args.summaries))
    if args.whole_corpus and where is not None:
        whole(where, lab, args.sample_pairs, args.seed)
    if args.show_changed:
        for a, b in changed:
            calls = "".join("S" if r[a] == r[b] else "-" for r in runs)
            print(f"  {calls} {lab.group_of[a]} {a} {arts[a]['title'][:50]} || {b} {arts[b]['title'][:50]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
