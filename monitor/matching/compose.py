"""Phrase heads qualified by another group: «الاتفاق مع إيران» for الاتفاق النووي (pure).

Issue 15, kind H. A two-word term made of a noun and a relation adjective
(الاتفاق النووي, الحكومة الشرعية, التحالف العربي, المركزي الأوروبي) names the
thing the noun is. Writers name the same thing by qualifying the noun with the
topic's other subject instead of the adjective: «الاتفاق مع إيران», «اتفاق
إيران النووي», «برنامج طهران النووي», «الحكومة اليمنية», «الرئيس اليمني»,
«المركزي اليوناني». For a topic that requires both groups, that is the phrase.

So the noun (the term's head) counts as a hit of the term's group when the next
word, or the word after one of CONNECTORS (مع ...), is a hit of ANOTHER positive
group of the same topic. The hit is shown as a variant, with the composed words as
written (`monitor explain`). Only ordinary two-word terms whose second word ends
like a relation adjective (ـي، ـية) have a head: a name keeps its words, and a
head alone (الاتفاق, الحكومة) never counts.

Measured on tests/fixtures/labelled/ with bench/relevance.py --fit (bench/README.md,
issue 15 kind H); the known wrong reading is «الدولة التركية» for الدولة الإسلامية
(turkey-isis: figures unchanged).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol, TypeVar

from monitor.matching.rules import Term, term_key
from monitor.text.normalize import is_arabic

# Words that may stand between the head and the qualifying word (folded): "with",
# "about", "concerning", "against".
CONNECTORS = frozenset({"مع", "حول", "بشان", "ضد"})
HEAD_MIN_LETTERS = 3
_ADJECTIVE_ENDINGS = ("ي", "يه")  # folded ـي / ـية
POSITIVE = ("all", "any")  # group labels whose terms may have a head (not none, not near)


def head_of(term: Term) -> str | None:
    """The folded, article-less head word of a term that has one (see module doc), else None."""
    if term.name:
        return None
    key = term_key(term.text)
    if len(key) != 2 or not all(is_arabic(w) for w in key):
        return None
    head, adjective = key
    if len(head) < HEAD_MIN_LETTERS or not adjective.endswith(_ADJECTIVE_ENDINGS):
        return None
    return head


def qualifier(tokens: Sequence[str], i: int) -> int | None:
    """Index of the word that qualifies the head at `i`: the next word, or the one after a connector."""
    q = i + 1
    if q < len(tokens) - 1 and tokens[q] in CONNECTORS:
        q += 1
    return q if q < len(tokens) else None


class HeadRef(Protocol):
    """What `confirm_heads` reads of a hit's term reference (matcher._TermRef)."""

    @property
    def head(self) -> bool: ...

    @property
    def group(self) -> str: ...


R = TypeVar("R", bound=HeadRef)


def confirm_heads(raw: list[tuple[R, str, int, int, bool]]) -> list[tuple[R, str, int, int, bool]]:
    """Raw hits (ref, field, token, end token, variant) without the head hits whose qualifying
    word (the hit's last token) is no hit of another positive group of the topic."""
    others: dict[tuple[str, int], set[str]] = defaultdict(set)
    for ref, field, i, _, _ in raw:
        if not ref.head:
            others[(field, i)].add(ref.group)

    def confirmed(ref: R, place: tuple[str, int]) -> bool:
        return any(g != ref.group and g != "none" for g in others.get(place, ()))

    return [r for r in raw if not r[0].head or confirmed(r[0], (r[1], r[3] - 1))]
