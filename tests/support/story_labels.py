"""Story groups labelled by reading (tests/fixtures/stories/groups.json) and how story assignment
is scored against them: pairwise precision / recall and order stability (issue 15 kind 5).

The labelled universe is every article of the SaudiNewsNet excerpt (tests/fixtures/saudinewsnet)
plus the members of the groups chosen from the full daily dumps; an article in no group is its
own story. Articles go through the real Store (SQLite file), as the daemon places them: copy
detection, then story clustering (monitor.storage.stories.place).
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from monitor.config.schema import Dedup
from monitor.storage import Store
from monitor.storage.stories import StoryRules
from tests.support.corpus_pages import SNN_DIR, saudinewsnet_articles
from tests.support.story_helpers import T0, put_story_article, story_members

GROUPS = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "groups.json"


@dataclass(frozen=True)
class Labels:
    group_of: dict[str, str]  # article id (snn-YYYYMMDD-NNNN) -> group id, members of a group only
    borderline: frozenset[str]  # articles whose place in (or out of) a group is a hard call
    fixture: dict[str, str]  # article id -> "2015-07-21.jsonl:43" (line in the excerpt)
    extra_singletons: tuple[str, ...]

    def same(self, a: str, b: str) -> bool:
        ga, gb = self.group_of.get(a), self.group_of.get(b)
        return ga is not None and ga == gb


def labels() -> Labels:
    raw = json.loads(GROUPS.read_text(encoding="utf-8"))
    group_of = {m: g["id"] for g in raw["groups"] for m in g["members"]}
    borderline = frozenset(m for g in raw["groups"] for m in g["borderline"] + g.get("borderline_outside", []))
    return Labels(group_of, borderline, dict(raw["fixture"]), tuple(raw["extra_singletons"]))


def fixture_articles(lab: Labels) -> dict[str, dict]:
    """The excerpt's articles by corpus id."""
    lines = {
        f"{day}.jsonl:{i}": a
        for day in ("2015-07-21", "2015-07-22", "2015-07-23")
        for i, a in enumerate(saudinewsnet_articles(day))
    }
    assert SNN_DIR.is_dir()
    return {aid: lines[where] for aid, where in lab.fixture.items()}


def daemon_rules() -> StoryRules:
    """The story rules the daemon runs with by default (config `dedup`, as pipeline.py builds them)."""
    d = Dedup()
    return StoryRules(
        timedelta(seconds=d.window),
        d.copy_jaccard,
        timedelta(seconds=d.story_window),
        d.story_similarity,
        timedelta(seconds=d.follow_up_gap),
    )


def assign(arts: dict[str, dict], order: list[str], db: Path) -> dict[str, int]:
    """Article id -> story id after placing `order` one by one (a minute apart) in a fresh store,
    with the daemon's default rules."""
    store = Store(f"sqlite:///{db}")
    rules = daemon_rules()
    try:
        row_of = {
            aid: put_story_article(store, arts[aid], n, T0 + timedelta(minutes=n), rules) for n, aid in enumerate(order)
        }
        members = story_members(store)
    finally:
        store.close()
    return {aid: members[row][0] for aid, row in row_of.items()}


def orders(ids: list[str], n: int, seed: int = 15) -> list[list[str]]:
    """`n` random arrival orders of `ids` (deterministic for a seed)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        o = sorted(ids)
        rng.shuffle(o)
        out.append(o)
    return out


@dataclass(frozen=True)
class PairScore:
    precision: float
    recall: float
    predicted: int  # pairs put in one story
    true: int  # labelled same-story pairs


def pair_score(story: dict[str, int], lab: Labels, *, skip: frozenset[str] = frozenset()) -> PairScore:
    """Pairwise precision / recall of `story` over every pair of its articles (ids in `skip` left out)."""
    ids = sorted(a for a in story if a not in skip)
    by_story: dict[int, list[str]] = {}
    for a in ids:
        by_story.setdefault(story[a], []).append(a)
    predicted = [p for members in by_story.values() for p in itertools.combinations(members, 2)]
    hit = sum(lab.same(a, b) for a, b in predicted)
    by_group: dict[str, int] = {}
    for a in ids:
        if a in lab.group_of:
            by_group[lab.group_of[a]] = by_group.get(lab.group_of[a], 0) + 1
    true = sum(k * (k - 1) // 2 for k in by_group.values())
    return PairScore(hit / len(predicted) if predicted else 1.0, hit / true if true else 1.0, len(predicted), true)


def stable_share(runs: list[dict[str, int]], lab: Labels) -> tuple[float, int, list[tuple[str, str]]]:
    """Share of the labelled same-story pairs (both in every run) whose together/apart call is the
    same in every run; also how many pairs, and the pairs that changed."""
    ids = sorted(set.intersection(*(set(r) for r in runs)) & set(lab.group_of))
    pairs = [(a, b) for a, b in itertools.combinations(ids, 2) if lab.same(a, b)]
    changed = [(a, b) for a, b in pairs if len({r[a] == r[b] for r in runs}) > 1]
    return (1 - len(changed) / len(pairs) if pairs else 1.0), len(pairs), changed


# ---- the pure link graph: stories as connected groups of alike pairs, without the store -----------
@dataclass(frozen=True)
class PairFacts:
    """What `clustering.alike` and copy detection read of one article pair."""

    shared: int  # shared key terms
    cosine: float
    title_cosine: float
    echo_df: int  # table count of the rarest title key term both titles name and both leads repeat (10**9: none)
    copy: bool  # word-3-shingle Jaccard >= the daemon's copy threshold
    head_shared: int = 0  # shared head terms, when either article is short (`clustering.alike_heads`)
    head_cosine: float = 0.0  # their heads' cosine then (0: neither short)
    short: bool = False  # either article is a short feed summary (clustering.Member.short)


def pair_facts(arts: dict[str, dict], min_cosine: float = 0.0) -> dict[tuple[str, str], PairFacts]:
    """(a, b) with a < b -> facts, for every pair of `arts` that shares a shingle band (a copy
    candidate) or MIN_SHARED key terms with key-term cosine >= `min_cosine`."""
    from collections import Counter

    import numpy as np

    from monitor.dedup import neardup
    from monitor.dedup import stories as clustering

    table = clustering.document_frequency()[1]
    prof = {k: clustering.profile(a["title"], a["content"]) for k, a in arts.items()}
    head = {k: clustering.title_profile(a["title"]) for k, a in arts.items()}
    echo = {k: clustering.echoes(a["title"], a["content"]) for k, a in arts.items()}
    short = {  # a feed summary of few words (clustering.Member.short)
        k
        for k, a in arts.items()
        if a.get("text_source") == "summary" and len(a["content"].split()) <= clustering.SHORT_WORDS
    }
    heads = {k: clustering.head(a["title"], a["content"]) for k, a in arts.items()}
    fps = {k: neardup.fingerprint(neardup.article_text(a["title"], a["content"])) for k, a in arts.items()}
    shared: Counter[tuple[str, str]] = Counter()
    banded: set[tuple[str, str]] = set()
    head_shared: Counter[tuple[str, str]] = Counter()
    for key, into in ((lambda k: prof[k], None), (lambda k: fps[k].bands, banded), (lambda k: heads[k], head_shared)):
        inv: dict[object, list[str]] = {}
        for k in sorted(arts):
            for t in key(k):
                inv.setdefault(t, []).append(k)
        for ks in inv.values():
            for pair in itertools.combinations(ks, 2):
                if into is None:
                    shared[pair] += 1
                elif isinstance(into, Counter):
                    if pair[0] in short or pair[1] in short:
                        into[pair] += 1
                else:
                    into.add(pair)
    jac = Dedup().copy_jaccard
    out = {}
    by_head = {p for p, n in head_shared.items() if n >= clustering.MIN_SHARED}
    for a, b in sorted(banded | by_head | {p for p, n in shared.items() if n >= clustering.MIN_SHARED}):
        cos = clustering.cosine(prof[a], prof[b])
        copy = False
        if (a, b) in banded:
            sa, sb = fps[a].shingles, fps[b].shingles
            copy = len(np.intersect1d(sa, sb)) / max(1, len(np.union1d(sa, sb))) >= jac
        hcos = clustering.cosine(heads[a], heads[b]) if (a, b) in by_head else 0.0
        if copy or (shared[(a, b)] >= clustering.MIN_SHARED and cos >= min_cosine) or hcos > 0:
            out[(a, b)] = PairFacts(
                shared[(a, b)],
                cos,
                clustering.cosine(head[a], head[b]),
                min((table.get(t, 4) for t in echo[a] & echo[b]), default=10**9),
                copy,
                head_shared[(a, b)],
                hcos,
                a in short or b in short,
            )
    return out


def linked(f: PairFacts, rule) -> bool:
    """`clustering.alike` on precomputed facts (rule: a clustering.LinkRule), or a copy."""
    heads = rule.head_similarity is not None and f.short
    return (
        f.copy
        or (
            (not heads or rule.full_when_short)
            and f.shared >= rule.min_shared
            and f.cosine >= rule.similarity
            and f.title_cosine >= rule.title_similarity
            and (rule.title_rare_df is None or f.echo_df <= rule.title_rare_df)
        )
        or (
            heads
            and f.head_shared >= rule.min_shared
            and f.head_cosine >= rule.head_similarity
            and (not rule.head_title or f.title_cosine >= rule.title_similarity)
        )
    )


def components(ids, facts: dict[tuple[str, str], PairFacts], rule) -> dict[str, str]:
    """Article id -> the smallest id of its connected group of linked pairs (union-find)."""
    parent = {k: k for k in ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), f in facts.items():
        if a in parent and b in parent and linked(f, rule):
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {k: root(k) for k in ids}
