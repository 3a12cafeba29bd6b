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
