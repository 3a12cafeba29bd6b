"""Topic matching: compile topics once, match many articles (pure).

`compile_topics(topics)` builds one index over every term of every topic,
keyed by the term's first folded token. `Matcher.evaluate(title, body)` walks
the article's tokens once, looks each token's clitic-stripped stems up in the
index and verifies phrases token by token, so the cost per article grows with
the article's length, not with the number of topics or terms.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from .models import Match, TermHit, TopicResult
from .text.normalize import Token, core, stems, tokenize

SNIPPET_CHARS = 110   # context kept on each side of the first hit


def term_key(term: str) -> tuple[str, ...]:
    """The folded, article-less tokens of a user's term; () if it has no word."""
    return tuple(core(t.text) for t in tokenize(term))


@dataclass(frozen=True)
class TopicRule:
    """The part of a topic the matcher needs (built from config)."""

    id: str
    name: str
    all: tuple[tuple[str, ...], ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True)
class _TermRef:
    topic: int
    group: str      # "all[0]", "any", "none"
    term: str       # as the user wrote it


class Matcher:
    """Compiled topics; use `evaluate` or `match` per article."""

    def __init__(self, rules: Sequence[TopicRule]) -> None:
        self.rules = tuple(rules)
        self._refs: dict[tuple[str, ...], list[_TermRef]] = defaultdict(list)
        self._by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self._cand_cache: dict[str, tuple[tuple[str, ...], ...]] = {}
        for ti, rule in enumerate(self.rules):
            groups = [(f"all[{gi}]", g) for gi, g in enumerate(rule.all)]
            groups += [("any", rule.any), ("none", rule.none)]
            for label, terms in groups:
                for term in terms:
                    key = term_key(term)
                    if not key:
                        raise ValueError(f"term {term!r} has no letters or digits")
                    if key not in self._refs:
                        self._by_first[key[0]].append(key)
                    self._refs[key].append(_TermRef(ti, label, term))

    def _candidates(self, word: str) -> tuple[tuple[str, ...], ...]:
        """Term keys whose first token is one of `word`'s stems (memoized per word)."""
        found = self._cand_cache.get(word)
        if found is None:
            found = tuple(key for stem in stems(word) for key in self._by_first.get(stem, ()))
            if len(self._cand_cache) < 200_000:   # bound memory on endless vocabularies
                self._cand_cache[word] = found
        return found

    def _find(self, field: str, text: str, tokens: list[Token]) -> Iterable[tuple[tuple[str, ...], TermHit]]:
        """Yield (term key, hit) for every term occurrence in one field."""
        n = len(tokens)
        for i, token in enumerate(tokens):
            for key in self._candidates(token.text):
                end = i + len(key)
                if end > n:
                    continue
                if all(key[j] in stems(tokens[i + j].text) for j in range(1, len(key))):
                    start, stop = token.start, tokens[end - 1].end
                    yield key, TermHit(term="", matched=text[start:stop], field=field,
                                       token=i, start=start, end=stop)

    def evaluate(self, title: str, body: str) -> list[TopicResult]:
        """Return one TopicResult per topic, in config order."""
        per_topic: list[dict[str, list[TermHit]]] = [defaultdict(list) for _ in self.rules]
        for field, text in (("title", title), ("body", body)):
            for key, hit in self._find(field, text, tokenize(text)):
                for ref in self._refs[key]:
                    per_topic[ref.topic][ref.group].append(
                        TermHit(ref.term, hit.matched, hit.field, hit.token, hit.start, hit.end, ref.group))
        return [self._decide(rule, groups, title, body) for rule, groups in zip(self.rules, per_topic)]

    def match(self, title: str, body: str) -> list[Match]:
        """Return a Match for every topic the article satisfies."""
        return [Match(r.topic_id, r.topic_name, r.hits, r.snippet)
                for r in self.evaluate(title, body) if r.matched]

    @staticmethod
    def _decide(rule: TopicRule, groups: dict[str, list[TermHit]], title: str, body: str) -> TopicResult:
        hits = tuple(sorted((h for g in groups.values() for h in g),
                            key=lambda h: (h.field != "title", h.start)))
        snippet = make_snippet(title, body, [h for h in hits if h.group != "none"])
        missing = [f"all[{gi}]" for gi in range(len(rule.all)) if not groups.get(f"all[{gi}]")]
        if groups.get("none"):
            vetoes = sorted({h.term for h in groups["none"]})
            matched, reason = False, "vetoed by none: " + ", ".join(vetoes)
        elif missing:
            matched, reason = False, "no term of " + ", ".join(missing)
        elif rule.any and not groups.get("any"):
            matched, reason = False, "no term of any"
        else:
            matched, reason = True, "all groups satisfied"
        return TopicResult(rule.id, rule.name, matched, reason, hits, snippet)


def compile_topics(rules: Sequence[TopicRule]) -> Matcher:
    """Compile topic rules into a Matcher (raises ValueError on an empty term)."""
    return Matcher(rules)


def make_snippet(title: str, body: str, hits: Sequence[TermHit]) -> str:
    """A short piece of the body around the first body hit (or the body's start)."""
    body_hits = [h for h in hits if h.field == "body"]
    if not body:
        return title.strip()
    if not body_hits:
        center_start = center_end = 0
    else:
        first = min(body_hits, key=lambda h: h.start)
        center_start, center_end = first.start, first.end
    lo = max(0, center_start - SNIPPET_CHARS)
    hi = min(len(body), center_end + SNIPPET_CHARS)
    # Widen to word boundaries so no word is cut in half.
    while lo > 0 and not body[lo - 1].isspace():
        lo -= 1
    while hi < len(body) and not body[hi].isspace():
        hi += 1
    text = " ".join(body[lo:hi].split())
    return ("… " if lo > 0 else "") + text + (" …" if hi < len(body) else "")
