"""Topic matching: compile topics once, match many articles (pure).

`compile_topics(rules)` builds one index over every term of every topic: a
hash of each term's first folded token (and, for names, of its loose
skeleton, see text/variants.py). `Matcher.evaluate(title, body)` walks the
article's tokens once, looks each token's clitic-stripped stems up in the
index and verifies phrases token by token: a word-level multi-pattern
matcher whose cost grows with the article's length and the hits it finds,
not with the number of topics or terms. An ordinary (non-name) term is also
indexed under its derived forms (text/variants.derived_forms: الحوثي takes
الحوثية, الحوثيون, الحوثيين; غارة takes غارات; داعش takes الداعشية when the
word-rarity table shows the noun takes a nisba), reported as variant hits;
a name (`~`) keeps its ending, but for its other spellings (عبدالله صالح
for ~عبد الله صالح; سورية, not السورية, for ~سوريا: text/variants.bare_spelling).
The head of a two-word term («الاتفاق» of الاتفاق النووي) counts when another group of the topic qualifies it
(«الاتفاق مع إيران», see compose.py). Terms are literal words (no
regular expressions), so no rule can make matching super-linear.

Relevance (relevance.py) then scores each topic that was hit: terms in the
title or lead weigh more, repeats add less and less, groups close together
add a bonus; a topic matches when its boolean rule holds and its score
reaches `min_score`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from monitor.matching import compose, relevance
from monitor.matching.rules import Term, TopicRule, as_term, term_key, term_problem
from monitor.models import Match, TermHit, TopicResult
from monitor.text.folded import FoldedText
from monitor.text.normalize import CLITICS_MAX, WORD_CACHE, fold, stems, token_spans
from monitor.text.variants import (
    bare_spelling,
    compatible,
    compound_spellings,
    consonants,
    derived_forms,
    head,
    skeleton,
)

SNIPPET_CHARS = 110  # context kept on each side of the first hit
_MIN_PART = 3  # letters each part of a split-written name needs
_UNROLLED = CLITICS_MAX == 5  # `_may_start` tests the word's 6 suffixes a stem can be one by one
PREFILTER_TRIAL = 2000  # new words after which a prefilter that rules out under half of them stops


@dataclass(frozen=True)
class _TermRef:
    topic: int
    group: str  # "all[0]", "any", "none", "near[0][1]"
    term: Term
    exact: tuple[str, ...]  # the term's exact key (to tell variant hits apart)
    title_only: bool
    derived: bool = False  # an ordinary term's derived form (الحوثية for الحوثي): a variant hit
    head: bool = False  # the head of a two-word term, counted only when qualified (compose.py)
    # a name's spellings a loose hit is checked against: exact first, then its compound written
    # the other way (عبدالله صالح for ~عبد الله صالح), then its ـية spelling (سوريه for ~سوريا,
    # text/variants.bare_spelling), which counts only on a word without the article: the first
    # `articled` spellings count on any word
    spellings: tuple[tuple[str, ...], ...] = ()
    articled: int = 1


Key = tuple[bool, tuple[str, ...]]  # (loose?, tokens or skeletons)
RawHit = tuple[_TermRef, str, int, int, bool]  # (ref, field, first token, end token, variant?)
Span = tuple[Key, int, int, tuple[str, ...], bool]  # (key, first token, end token, loose words, strict?)


@dataclass(frozen=True, slots=True)
class Candidates:
    """What can start at one text word (built once per distinct word, then cached).

    A slots dataclass, not a NamedTuple: the hot loop reads these fields by name
    at the cost of a plain attribute load.
    """

    body: tuple[_TermRef, ...]  # exact one-word terms that count in the body (no title-only ones)
    title: tuple[_TermRef, ...]  # exact one-word terms that count in the title (all of them)
    names: tuple[tuple[_TermRef, bool], ...]  # one-word names this word spells: (ref, variant?)
    by_second: dict[str, tuple[Key, ...]]  # exact phrases starting here, by their second word
    loose: tuple[Key, ...]  # loose (name) phrases starting here
    joins: tuple[str, ...]  # stems of this word that may start a name written split
    heads: tuple[_TermRef, ...] = ()  # two-word terms whose head this word is (compose.py)


NO_CANDIDATES = Candidates((), (), (), {}, (), ())  # most words: nothing starts here (compared by identity)


class Matcher:
    """Compiled topics; use `evaluate` or `match` per article."""

    def __init__(self, rules: Sequence[TopicRule]) -> None:
        self.rules = tuple(rules)
        self._refs: dict[Key, list[_TermRef]] = defaultdict(list)
        self._by_first: dict[tuple[bool, str], list[Key]] = defaultdict(list)
        self._join_heads: set[str] = set()  # head skeletons that may start a joined name
        self._cand_cache: dict[str, Candidates] = {}
        # Group labels that must all have a hit for each topic to match at all.
        self._required = [
            frozenset(
                [f"all[{g}]" for g in range(len(r.all))]
                + (["any"] if r.any else [])
                + [label for label, _ in r.groups() if label.startswith("near")]
            )
            for r in self.rules
        ]
        for ti, rule in enumerate(self.rules):
            for label, terms in rule.groups():
                for raw in terms:
                    problem = term_problem(raw)
                    if problem:
                        raise ValueError(f"topic {rule.id}: {problem}")
                    term = as_term(raw)
                    exact = term_key(term.text)
                    keys: list[Key] = [(False, exact)]
                    forms: list[Key] = [(False, exact[:-1] + (f,)) for f in derived_forms(exact[-1])]
                    forms += [(False, term_key(t)) for t in compound_spellings(fold(term.text))]
                    spellings: tuple[tuple[str, ...], ...] = (exact,)
                    articled = 1
                    if term.name:
                        forms = []
                        joined = skeleton("".join(exact))
                        keys = [(True, tuple(skeleton(t) for t in exact)), (True, (joined,))]
                        # a compound written the other way inside a longer name (redteam15 #6:
                        # «عبدربه منصور هادي» for ~عبد ربه منصور هادي, and back; عبدالله صالح),
                        # a place in ـيا written ـية (redteam15 #5: سورية for ~سوريا)
                        other = tuple(term_key(c) for c in compound_spellings(fold(term.text)))
                        articled += len(other)
                        bare = bare_spelling("".join(exact))
                        other += ((bare,),) if bare else ()
                        spellings += other
                        keys += [(True, tuple(skeleton(t) for t in c)) for c in other]
                        keys += [(True, (skeleton("".join(c)),)) for c in other]
                        if len(exact) == 1 and len(exact[0]) >= 2 * _MIN_PART:
                            # A one-word name long enough to be written split
                            # (بيونغيانغ as بيونغ يانغ): the heads its first part may have.
                            self._join_heads.update(joined[:k] for k in range(2, len(joined) - 1))
                    head = compose.head_of(term) if label.startswith(compose.POSITIVE) else None
                    heads: list[Key] = [(False, (head,))] if head else []
                    for key in dict.fromkeys(keys + forms + heads):
                        if key not in self._refs:
                            self._by_first[(key[0], key[1][0])].append(key)
                        derived = key in forms and key not in keys
                        is_head = key in heads and key not in keys and key not in forms
                        title_only = term.field == "title"
                        self._refs[key].append(
                            _TermRef(ti, label, term, exact, title_only, derived, is_head, spellings, articled)
                        )
        # What a word must end with to start anything (a superset test, see `_may_start`): every
        # stem of a word is a suffix of it (clitics are prefixes), so a stem that is an exact
        # first word ends the word, and a stem whose skeleton or head starts a name has its
        # consonants (text/variants.consonants) as a suffix of the word's consonants.
        self._exact_firsts = frozenset(first for loose, first in self._by_first if not loose)
        self._loose_tails = frozenset(
            [consonants(first) for loose, first in self._by_first if loose] + [consonants(h) for h in self._join_heads]
        )
        self._tail_lengths = tuple(sorted({len(t) for t in self._loose_tails}))
        # endswith tries each tail in turn: cheaper than a slice and a set lookup per length while few
        few = len(self._loose_tails) <= 4 * len(self._tail_lengths)
        self._tails = tuple(sorted(self._loose_tails)) if few else ()
        # The prefilter pays only when it rules out most words: with thousands of terms (bench/topics.py,
        # 1,000 topics) it rules out few and cost 6% more; it then stops after PREFILTER_TRIAL words.
        # (Counted without a lock: a lost count only delays the decision; either way the same candidates.)
        self._prefilter, self._tried, self._ruled_out = True, 0, 0
        for refs in self._refs.values():
            # One hit per place and group: a derived form or a head that is also a listed
            # term (الحوثيين for الحوثي) or another term's form counts once, as written.
            listed = {(r.topic, r.group, r.title_only) for r in refs if not (r.derived or r.head)}
            keep: list[_TermRef] = []
            for r in sorted(refs, key=lambda r: r.head):
                place = (r.topic, r.group, r.title_only)
                if (r.derived or r.head) and place in listed:
                    continue
                listed.add(place)
                keep.append(r)
            refs[:] = keep

    def _may_start(self, word: str) -> bool:
        """False when nothing can start at ``word`` (then `_candidates` is NO_CANDIDATES): no
        suffix a stem can be (at most CLITICS_MAX letters stripped) is an exact first word,
        and no suffix of its consonants is those of a name's first word or joined head. True
        is no promise. Ruling out 98% of a text's new words this way costs
        ≈ 1.5 µs a word against ≈ 15 µs for their stems, skeletons and heads (issue 16;
        3.1 µs before the suffix tests were written out and the tails tested by endswith)."""
        f = self._exact_firsts
        if _UNROLLED:  # the generic test below written out: half its cost
            if word in f or word[1:] in f or word[2:] in f or word[3:] in f or word[4:] in f or word[5:] in f:
                return True
        elif not f.isdisjoint([word[k:] for k in range(CLITICS_MAX + 1)]):
            return True
        tails = self._loose_tails
        if not tails:
            return False
        c = consonants(word)
        if self._tails:  # few tails: str.endswith of the tuple (an empty tail ends any word)
            return c.endswith(self._tails)
        return any(n <= len(c) and (c[-n:] if n else "") in tails for n in self._tail_lengths)

    def _candidates(self, word: str) -> Candidates:
        """What can start at one text word (memoized per word); NO_CANDIDATES if nothing."""
        found = self._cand_cache.get(word)
        if found is not None:
            return found
        if self._prefilter:
            self._tried += 1
            if not self._may_start(word):
                self._ruled_out += 1
                return self._remember(word, NO_CANDIDATES)
            if self._tried >= PREFILTER_TRIAL and self._ruled_out < self._tried / 2:
                self._prefilter = False
        by_first = self._by_first
        keys: list[Key] = []
        joins: list[str] = []
        for stem in stems(word):
            keys.extend(by_first.get((False, stem), ()))
            keys.extend(by_first.get((True, skeleton(stem)), ()))
            if len(stem) >= _MIN_PART and head(stem) in self._join_heads:
                joins.append(stem)
        if not keys and not joins:  # most words: nothing starts here
            return self._remember(word, NO_CANDIDATES)
        exact: list[_TermRef] = []
        loose_one: list[tuple[_TermRef, bool]] = []
        multi: list[Key] = []
        by_second: dict[str, list[Key]] = defaultdict(list)
        for key in dict.fromkeys(keys):
            loose, parts = key
            if len(parts) > 1 and not loose:
                by_second[parts[1]].append(key)
            elif len(parts) > 1:
                multi.append(key)
            elif loose:  # checked here once per word: the hot loop only appends
                stem = _loose_word(word, parts[0])
                strict = _prep_stripped(word, stem)
                prefix = word[: len(word) - len(stem)]
                article = prefix.endswith(("ال", "لل"))
                loose_one.extend(
                    (ref, "".join(ref.exact) != stem)
                    for ref in self._refs[key]
                    if any(
                        compatible("".join(s), stem, strict)
                        for s in (ref.spellings[: ref.articled] if article else ref.spellings)
                    )
                )
            else:
                exact.extend(self._refs[key])
        heads = tuple(r for r in exact if r.head)
        exact = [r for r in exact if not r.head]
        found = NO_CANDIDATES
        if exact or loose_one or by_second or multi or joins or heads:
            found = Candidates(
                body=tuple(r for r in exact if not r.title_only),
                title=tuple(exact),
                names=tuple(loose_one),
                by_second={k: tuple(v) for k, v in by_second.items()},
                loose=tuple(multi),
                joins=tuple(joins),
                heads=heads,
            )
        return self._remember(word, found)

    def _remember(self, word: str, found: Candidates) -> Candidates:
        if len(self._cand_cache) >= 2 * WORD_CACHE:  # bounded: start over, the frequent words return first
            self._cand_cache.clear()
        self._cand_cache[word] = found
        return found

    def _rest(self, tokens: Sequence[str], i: int, found: Candidates) -> Iterable[Span]:
        """Yield (key, i, end token, words, strict) for loose terms and phrases starting at i.

        `words` are the text's words that matched a loose key (clitics stripped),
        () for an exact phrase; `strict` when a preposition was stripped from the first.
        """
        by_second, multi, joins = found.by_second, found.loose, found.joins
        n = len(tokens)
        token = tokens[i]
        if by_second and i + 1 < n:
            for stem in stems(tokens[i + 1]):
                for key in by_second.get(stem, ()):
                    parts = key[1]
                    end = i + len(parts)
                    if end <= n and all(parts[j] in stems(tokens[i + j]) for j in range(2, len(parts))):
                        yield key, i, end, (), False
        for key in multi:
            parts = key[1]
            end = i + len(parts)
            if end > n or parts[1] not in _skeleton_set(tokens[i + 1]):
                continue
            words = tuple(_loose_word(tokens[i + j], parts[j]) for j in range(len(parts)))
            if all(words):
                yield key, i, end, words, _prep_stripped(token, words[0])
        if joins and i + 1 < n and len(tokens[i + 1]) >= _MIN_PART:
            # A name written split: بيونغ يانغ for بيونغيانغ. Short parts are
            # not joined: "إن أنقرة" must not read as one word.
            for stem in joins:
                word = stem + tokens[i + 1]
                key = (True, (skeleton(word),))
                if key in self._refs:
                    yield key, i, i + 2, (word,), _prep_stripped(token, stem)

    def _raw_hits(self, title: str, body: str, folded: FoldedText | None = None) -> tuple[dict[int, list[RawHit]], int]:
        """Per touched topic: (ref, field, token, end token, variant) tuples; and the body's word count.

        One pass over each field's words (``folded``'s when given: the same words, folded
        once per article); plain tuples and no character spans: TermHit objects are only
        built (by `_groups`) for topics that can match.
        """
        touched: dict[int, list[RawHit]] = defaultdict(list)
        headed: set[int] = set()  # topics with a head hit to confirm
        body_words = 0
        refs_of = self._refs
        cache = self._cand_cache
        if folded is None:
            folded = FoldedText.of(title, body)
        for field, tokens in (("title", folded.title), ("body", folded.body)):
            in_body = field == "body"
            n = len(tokens)
            body_words = n
            for i, token in enumerate(tokens):
                found = cache.get(token)
                if found is None:
                    found = self._candidates(token)
                if found is NO_CANDIDATES:
                    continue
                for ref in found.body if in_body else found.title:  # exact one-word terms: most hits
                    touched[ref.topic].append((ref, field, i, i + 1, ref.derived))
                for ref, variant in found.names:  # one-word names
                    if not (in_body and ref.title_only):
                        touched[ref.topic].append((ref, field, i, i + 1, variant))
                if found.heads and (q := compose.qualifier(tokens, i)) is not None:
                    for ref in found.heads:  # the hit ends with its qualifying word
                        if not (in_body and ref.title_only):
                            touched[ref.topic].append((ref, field, i, q + 1, True))
                            headed.add(ref.topic)
                if not (found.loose or found.joins):
                    # Only exact phrases may start here: most fail on the next word.
                    by_second = found.by_second
                    if not by_second or i + 1 == n or by_second.keys().isdisjoint(stems(tokens[i + 1])):
                        continue
                for key, _, end, words, strict in self._rest(tokens, i, found):
                    for ref in refs_of[key]:
                        if in_body and ref.title_only:
                            continue
                        variant = ref.derived
                        if words:  # a loose key: the spelling must be a variant of THIS term
                            spelled = _spelled(ref.spellings, words, strict)
                            if spelled is None:
                                continue
                            variant = spelled
                        touched[ref.topic].append((ref, field, i, end, variant))
        for ti in headed:
            touched[ti] = compose.confirm_heads(touched[ti])
        return touched, body_words

    @staticmethod
    def _groups(
        raw: list[RawHit], texts: dict[str, str], spans: dict[str, dict[int, tuple[int, int]]]
    ) -> dict[str, list[TermHit]]:
        """TermHits by group label; `spans`: per field, the character span of every token a hit
        of `raw` starts or ends at (`_spans`)."""
        groups: dict[str, list[TermHit]] = defaultdict(list)
        for ref, field, i, end, variant in raw:
            at = spans[field]
            start, stop = at[i][0], at[end - 1][1]
            groups[ref.group].append(
                TermHit(
                    ref.term.text, texts[field][start:stop], field, i, start, stop, ref.group, variant, ref.term.weight
                )
            )
        return groups

    @staticmethod
    def _spans(raws: Iterable[list[RawHit]], texts: dict[str, str]) -> dict[str, dict[int, tuple[int, int]]]:
        """Per field, the spans of the tokens the hits start and end at (``tokenize``'s spans,
        built for these tokens only: `normalize.token_spans`)."""
        wanted: dict[str, set[int]] = {"title": set(), "body": set()}
        for raw in raws:
            for _, field, i, end, _ in raw:
                wanted[field].update((i, end - 1))
        return {field: token_spans(texts[field], at) for field, at in wanted.items()}

    def evaluate(
        self, title: str, body: str, *, feed: str | None = None, language: str | None = None, only_hits: bool = False
    ) -> list[TopicResult]:
        """One TopicResult per topic in config order (only topics with hits if `only_hits`)."""
        touched, n_words = self._raw_hits(title, body)
        indexes = sorted(touched) if only_hits else range(len(self.rules))
        texts = {"title": title, "body": body}
        spans = self._spans((touched.get(ti, []) for ti in indexes), texts)
        return [
            self._decide(
                self.rules[ti], self._groups(touched.get(ti, []), texts, spans), title, body, feed, language, n_words
            )
            for ti in indexes
        ]

    def match(
        self,
        title: str,
        body: str,
        *,
        feed: str | None = None,
        language: str | None = None,
        folded: FoldedText | None = None,
    ) -> list[Match]:
        """Return a Match for every topic the article satisfies.

        ``folded``: the article's ``FoldedText.of(title, body)`` when the caller has it
        (the pipeline shares one per article), else it is computed here.

        Topics whose boolean rule cannot hold (a group without a hit, a `none`
        hit) are dropped before any scoring: most touched topics end there.
        """
        out: list[Match] = []
        texts = {"title": title, "body": body}
        touched, n_words = self._raw_hits(title, body, folded)
        able = []  # topics whose boolean rule can hold
        for ti, raw in sorted(touched.items()):
            labels = {r[0].group for r in raw}
            if "none" in labels or not self._required[ti] <= labels:
                continue
            able.append((ti, raw))
        spans = self._spans((raw for _, raw in able), texts) if able else {}
        for ti, raw in able:
            r = self._decide(self.rules[ti], self._groups(raw, texts, spans), title, body, feed, language, n_words)
            if r.matched:
                out.append(Match(r.topic_id, r.topic_name, r.hits, r.snippet))
        return out

    @staticmethod
    def _decide(
        rule: TopicRule,
        groups: dict[str, list[TermHit]],
        title: str,
        body: str,
        feed: str | None,
        language: str | None,
        n_words: int,
    ) -> TopicResult:
        hits = tuple(sorted((h for g in groups.values() for h in g), key=lambda h: (h.field != "title", h.start)))
        snippet = make_snippet(title, body, [h for h in hits if h.group != "none"])
        verdict = relevance.judge(rule, groups, n_words)
        reason, matched = verdict.reason, verdict.matched
        if matched and rule.feeds and feed is not None and feed not in rule.feeds:
            matched, reason = False, f"feed {feed!r} is not in the topic's feeds"
        if matched and rule.languages and language is not None and language not in rule.languages:
            matched, reason = False, f"language {language!r} is not in the topic's languages"
        return TopicResult(
            rule.id,
            rule.name,
            matched,
            reason,
            hits,
            snippet,
            verdict.score,
            verdict.threshold,
            verdict.groups,
            verdict.weakest,
        )


@lru_cache(maxsize=WORD_CACHE)
def _skeleton_set(word: str) -> frozenset[str]:
    return frozenset(skeleton(s) for s in stems(word))


def _spelled(spellings: tuple[tuple[str, ...], ...], words: tuple[str, ...], strict: bool) -> bool | None:
    """None when the text's `words` spell none of a name's `spellings` (exact first); else
    whether they are a variant (not the exact term). Word by word when the counts agree, else
    joined; `strict` (a preposition stripped) allows no vowel change in the first word."""
    for n, spelling in enumerate(spellings):
        if len(words) == len(spelling):
            pairs = list(zip(spelling, words))
        else:
            pairs = [("".join(spelling), "".join(words))]
        if all(compatible(a, b, strict and k == 0) for k, (a, b) in enumerate(pairs)):
            return n > 0 or any(a != b for a, b in pairs)
    return None


def _loose_word(word: str, part: str) -> str:
    """The stem of `word` whose skeleton is `part` ("" if none)."""
    for stem in stems(word):
        if skeleton(stem) == part:
            return stem
    return ""


def _prep_stripped(word: str, stem: str) -> bool:
    """True if a preposition ب ك ل was stripped from `word` to get `stem`."""
    prefix = word[: len(word) - len(stem)]
    if prefix[:1] in ("و", "ف"):
        prefix = prefix[1:]
    return prefix[:1] in ("ب", "ك", "ل")


def compile_topics(rules: Sequence[TopicRule]) -> Matcher:
    """Compile topic rules into a Matcher (raises ValueError on a refused term)."""
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
