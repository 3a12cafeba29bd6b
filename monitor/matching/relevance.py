"""Relevance: is the topic a main subject of the article, or only mentioned? (pure)

A topic's boolean rule (every `all` group, one `any` term, every `near`
clause, no `none` term) says the article MENTIONS the topic. The score says
how central it is, EMM-style: every hit of a positive group counts its term's
weight, times TITLE_FACTOR in the title or LEAD_FACTOR in the first
LEAD_WORDS words of the body; the k-th best hit of the same term counts 1/k
(a repeated term adds less and less, different terms add in full); when two or more groups are hit, NEAR_BONUS
is added if the title, or some body window of NEAR_WORDS words, holds a hit
of every group.
A topic matches when the rule holds and score >= min_score. Unset, min_score
is DEFAULT_PER_GROUP times the number of positive groups (all groups, `any`,
near groups): 7 for the usual `all` + `any` topic, 3.5 for an `any`-only one
(a title hit and one more mention, or two different terms in the lead). 0 turns scoring off.
`min_group_score` (default 0) also asks every positive group to reach it on
its own: stricter, for topics whose groups are often named in passing.

The constants were chosen on tests/fixtures/labelled/ with bench/relevance.py
(table in tests/fixtures/labelled/README.md, "Relevance scoring").
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.models import TermHit

if TYPE_CHECKING:
    from monitor.matching.rules import TopicRule

TITLE_FACTOR = 3.0
LEAD_FACTOR = 2.0
LEAD_WORDS = 50
NEAR_WORDS = 20
NEAR_BONUS = 1.0
DEFAULT_PER_GROUP = 3.5


@dataclass(frozen=True)
class Verdict:
    matched: bool
    reason: str
    score: float
    threshold: float


def hit_value(hit: TermHit) -> float:
    """What one occurrence is worth: its weight times where it stands."""
    if hit.field == "title":
        return hit.weight * TITLE_FACTOR
    return hit.weight * (LEAD_FACTOR if hit.token < LEAD_WORDS else 1.0)


def distinct(hits: Sequence[TermHit]) -> list[TermHit]:
    """Hits of one group without overlaps (الاتفاق النووي and النووي at the same place count once)."""
    kept: list[TermHit] = []
    taken: set[tuple[str, int]] = set()
    for h in sorted(hits, key=lambda h: (-(h.end - h.start), -h.weight)):
        span = {(h.field, c) for c in range(h.start, h.end)}
        if span & taken:
            continue
        taken |= span
        kept.append(h)
    return kept


def term_scores(hits: Sequence[TermHit]) -> dict[str, float]:
    """{term as the user wrote it: its part of the score}, terms in order of first hit: its
    hit values (:func:`hit_value`, overlaps dropped by :func:`distinct`) best first, the k-th
    counting 1/k. Every spelling the term matched (clitics, a name's variants) is one term."""
    by_term: dict[str, list[float]] = {}
    for h in sorted(hits, key=lambda h: (h.field != "title", h.token)):
        by_term.setdefault(h.term, [])
    for h in distinct(hits):
        by_term[h.term].append(hit_value(h))
    return {
        term: sum(v / k for k, v in enumerate(sorted(values, reverse=True), start=1))
        for term, values in by_term.items()
    }


def group_score(hits: Sequence[TermHit]) -> float:
    """Per term, its hit values best first with the k-th counting 1/k; summed over terms
    (:func:`term_scores`). Different terms add up in full (many weak signals), a repeated
    term less and less.
    """
    return sum(term_scores(hits).values())


def window(groups: Sequence[Sequence[TermHit]], field: str = "body") -> int | None:
    """Smallest number of words spanning one hit of every group in `field`, or None."""
    lists = [sorted({h.token for h in g if h.field == field}) for g in groups]
    if not lists or any(not pos for pos in lists):
        return None
    heap = [(pos[0], gi, 0) for gi, pos in enumerate(lists)]
    heapq.heapify(heap)
    high = max(pos[0] for pos in lists)
    best = high - heap[0][0]
    while True:
        low, gi, idx = heapq.heappop(heap)
        best = min(best, high - low)
        if idx + 1 == len(lists[gi]):
            return best
        nxt = lists[gi][idx + 1]
        high = max(high, nxt)
        heapq.heappush(heap, (nxt, gi, idx + 1))


def _near_ok(groups: Sequence[Sequence[TermHit]], within: int) -> bool:
    spans = [window(groups, field) for field in ("title", "body")]
    return any(s is not None and s <= within for s in spans)


def default_min_score(rule: TopicRule) -> float:
    """DEFAULT_PER_GROUP per positive group of the rule."""
    n = len(rule.all) + bool(rule.any) + sum(len(near.groups) for near in rule.near)
    return DEFAULT_PER_GROUP * max(1, n)


def judge(rule: TopicRule, groups: Mapping[str, Sequence[TermHit]]) -> Verdict:
    """Apply the rule and the score to one topic's hits (group label -> hits)."""
    threshold = default_min_score(rule) if rule.min_score is None else float(rule.min_score)
    positive = [label for label in groups if label != "none" and groups[label]]
    per_group = {label: group_score(groups[label]) for label in positive}
    score = sum(per_group.values())
    scored = [groups[label] for label in positive]
    if len(scored) >= 2 and _near_ok(scored, NEAR_WORDS):
        score += NEAR_BONUS
    score = round(score, 3)

    def verdict(matched: bool, reason: str) -> Verdict:
        return Verdict(matched, reason, score, threshold)

    if groups.get("none"):
        return verdict(False, "vetoed by none: " + ", ".join(sorted({h.term for h in groups["none"]})))
    missing = [f"all[{gi}]" for gi in range(len(rule.all)) if not groups.get(f"all[{gi}]")]
    if missing:
        return verdict(False, "no term of " + ", ".join(missing))
    if rule.any and not groups.get("any"):
        return verdict(False, "no term of any")
    for ni, near in enumerate(rule.near):
        labels = [f"near[{ni}][{gi}]" for gi in range(len(near.groups))]
        if not _near_ok([groups.get(label, ()) for label in labels], near.within):
            return verdict(False, f"near[{ni}] not within {near.within} words")
    weak = sorted(label for label, s in per_group.items() if s < rule.min_group_score)
    if weak:
        return verdict(False, f"group {', '.join(weak)} below min_group_score {rule.min_group_score:g}")
    if score < threshold:
        return verdict(False, f"score {score:g} below min_score {threshold:g}")
    return verdict(True, f"all groups satisfied, score {score:g} >= {threshold:g}")
