"""Terms a topic's author may be missing (pure): `monitor suggest TOPIC`.

Input: the stored articles of a window, each with whether the topic matched
it. Two lists come out (issue 15, "tools for the user who writes the rules"):

- co-occurring words: folded words (clitics and the article stripped) that
  occur in at least MIN_MATCHED matched articles and rarely elsewhere, ranked
  by lift = (share of matched articles holding the word) / (share of the other
  articles holding it, add-one smoothed), times log(1 + matched articles
  holding it). Words already covered by a term, shorter than MIN_LETTERS
  letters, or in more than COMMON_SHARE of all articles are left out;
- spelling variants of the topic's own one-word terms found in the corpus:
  words that are a name variant of it (text/variants.compatible: same
  skeleton, few vowels added or dropped) or one of its derived forms (text/variants.derived_forms), with how
  many articles hold each, so a user sees «الحوثية» or a name's other
  spelling before missing them.

Each word is shown as it is most often written in the articles.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.matching.rules import TopicRule, as_term, term_key
from monitor.text import rarity
from monitor.text.normalize import is_arabic, stems, tokenize
from monitor.text.variants import compatible, derived_forms

MIN_MATCHED = 2  # a word must occur in this many matched articles
MIN_LETTERS = 3
COMMON_SHARE = 0.2  # words in more than this share of all articles are function words here


@dataclass(frozen=True)
class Suggestion:
    """One suggested word: as written, articles holding it among the matched and the others, its rank."""

    word: str
    matched: int
    others: int
    score: float


@dataclass(frozen=True)
class Suggestions:
    matched: int  # articles the topic matched in the window
    others: int  # the other articles
    cooccurring: tuple[Suggestion, ...]
    variants: tuple[tuple[str, tuple[Suggestion, ...]], ...]  # (term, its variants seen)


def _base(word: str) -> str:
    """A folded word without clitics or the article: its shortest stem (the word if not Arabic)."""
    return min(stems(word), key=len) if is_arabic(word) else word


_NO_VOWELS = str.maketrans("", "", "اوي")


def _spelling(word: str, other: str, name: bool) -> bool:
    """`other` is a spelling of the term `word`: a name's variant (text/variants.compatible); for
    an ordinary term only a long vowel added or dropped, on the same consonants and as long but
    one letter (redteam15 #7: not غارات -> «قارات», النووية -> «فنية» read as ف + نية)."""
    if not compatible(word, other):
        return False
    if name:
        return True
    if word.translate(_NO_VOWELS) != other.translate(_NO_VOWELS) or len(other) < len(word) - 1:
        return False
    # redteam15 #7: a vowel added under a nisba makes another noun's nisba (اليمنية -> «اليمينية»
    # "right-wing": يمن and يمين are both words of the rarity table, 357 and 36 articles)
    a, b = _nisba_base(word), _nisba_base(other)
    return not (a and b and a != b and rarity.articles(a) and rarity.articles(b))


_NISBA_SUFFIXES = ("يون", "يين", "يات", "يه", "ي")


def _nisba_base(word: str) -> str:
    """The noun under a folded nisba form (يمنيه -> يمن), "" if the word has no nisba ending."""
    for suffix in _NISBA_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_LETTERS:
            return word[: -len(suffix)]
    return ""


def suggest(rule: TopicRule, articles: Iterable[tuple[str, str, bool]], top: int = 20) -> Suggestions:
    """Suggestions for `rule` from (title, body, matched?) triples (see module doc)."""
    covered: set[str] = set()
    singles: list[tuple[str, bool]] = []  # (one-word term, a name?)
    for _, terms in rule.groups():
        for raw in terms:
            key = term_key(as_term(raw).text)
            covered.update(key)
            covered.update(f for k in key for f in derived_forms(k))
            if len(key) == 1:
                singles.append((as_term(raw).text, as_term(raw).name))
    in_matched: Counter[str] = Counter()
    in_others: Counter[str] = Counter()
    written: dict[str, Counter[str]] = {}
    n_matched = n_others = 0
    for title, body, matched in articles:
        text = f"{title}\n{body}"
        seen: set[str] = set()
        for tok in tokenize(text):
            base = _base(tok.text)
            if len(base) < MIN_LETTERS or base.isdigit():
                continue
            if not covered.isdisjoint(stems(tok.text)):
                base = "\0" + base  # a word a term already covers: counted for variants only
            seen.add(base)
            written.setdefault(base, Counter())[text[tok.start : tok.end]] += 1
        (in_matched if matched else in_others).update(seen)
        n_matched += matched
        n_others += not matched
    total = max(1, n_matched + n_others)

    def shown(base: str) -> str:
        return written[base].most_common(1)[0][0]

    ranked: list[Suggestion] = []
    for base, m in in_matched.items():
        o = in_others[base]
        if m < MIN_MATCHED or base.startswith("\0") or (m + o) / total > COMMON_SHARE:
            continue
        lift = (m / max(1, n_matched)) / ((o + 1) / (n_others + 1))
        if lift > 1:
            ranked.append(Suggestion(shown(base), m, o, round(lift * math.log1p(m), 3)))
    ranked.sort(key=lambda s: (-s.score, s.word))
    variants: list[tuple[str, tuple[Suggestion, ...]]] = []
    for text, name in dict.fromkeys(singles):
        word = term_key(text)[0]
        forms = set(derived_forms(word))
        found = [
            Suggestion(shown(base), in_matched[base], in_others[base], 0.0)
            for base in written
            if base.lstrip("\0") != word
            and (base.lstrip("\0") in forms or (is_arabic(word) and _spelling(word, base.lstrip("\0"), name)))
        ]
        if found:
            variants.append((text, tuple(sorted(found, key=lambda s: (-(s.matched + s.others), s.word)))))
    return Suggestions(n_matched, n_others, tuple(ranked[:top]), tuple(variants))
