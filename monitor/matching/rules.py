"""Topic rules as the matcher and the scorer read them (pure values, no matching).

`Term` (one literal term; `~` marks a name), `Near` and `TopicRule` are built
by config (`monitor.config.load.rule_from_dict`) and compiled by
`monitor.matching.matcher.compile_topics`. `term_problem` is the one check of
a term's syntax, shared by config validation and the matcher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.text.normalize import core, tokenize

FIELDS = ("any", "title")
# Characters that only make sense in a regular expression: refused with a clear
# error rather than silently dropped (a term is literal text).
_REGEX_HINT = re.compile(r"\\[A-Za-z]|\.[*+]|\(\?|\[[^\]]*\]|\||\{\d|^\^|\$$")


def term_key(term: str) -> tuple[str, ...]:
    """The folded, article-less tokens of a user's term; () if it has no word."""
    return tuple(core(t.text) for t in tokenize(term))


@dataclass(frozen=True)
class Term:
    """One term of a topic. A plain string in config is Term(text); `~text` is a name."""

    text: str
    weight: float = 1.0
    field: str = "any"  # "any" (title or body) or "title" (title only)
    name: bool = False  # match spelling variants (see text/variants.py)


def as_term(term: str | Term) -> Term:
    """A config term (string or Term) as a Term; `~` in front marks a name."""
    if isinstance(term, Term):
        return term
    text = term.strip()
    if text.startswith("~"):
        return Term(text[1:].strip(), name=True)
    return Term(text)


# `*` `%`, and the other spellings of a wildcard: `?` (one letter in search tools), the Arabic
# question mark `؟` an Arabic keyboard types, fullwidth `＊` `？` `％` (IMEs, text pasted from PDFs)
_WILDCARD = re.compile(r"[*%?\u061f\uff0a\uff1f\uff05\u2217]")


# Search-box syntax brought from Google Alerts or a mail filter. Read literally it is a phrase
# that never matches («الحوثي/الحوثيين», «إيران OR طهران», «الحوثي(ين)») or the opposite of its
# intent («-إيران» matches إيران): refused with the way to say it here (redteam15 #8; the same
# kind: getsentry/sentry#18944, miniflux/v2#3881, zone-eu/wildduck#863).
_LETTER = r"[^\W\d_]"
_SEARCH_SYNTAX = (
    (re.compile(r"(?:^|\s)(?:OR|AND|NOT)(?:\s|$)"), "uses search operators (OR AND NOT)"),
    (re.compile(rf"{_LETTER}\s*/\s*{_LETTER}"), "joins alternatives with /"),
    (re.compile(rf"{_LETTER}\({_LETTER}+\)"), "marks optional letters with (…)"),
    (re.compile(rf"^[-!]\s*{_LETTER}"), "starts with - or ! (an exclusion?)"),
    (re.compile(rf"{_LETTER}\s*~$"), "ends with ~ (a name is marked in front: ~name)"),
)


def _search_syntax(text: str) -> str | None:
    for pattern, what in _SEARCH_SYNTAX:
        if pattern.search(text):
            return (
                f"term {text!r} {what}: a term is literal words; list alternatives as a group "
                "([A, B]), require another word with `all`, exclude with `none`; forms (ـية ـيون ـات, "
                "plurals, clitics) already match"
            )
    return None


def term_problem(term: str | Term) -> str | None:
    """Why a term is refused at load, or None."""
    t = as_term(term)
    if syntax := _search_syntax(t.text):
        return syntax
    if _WILDCARD.search(t.text) and not _REGEX_HINT.search(t.text):
        return (
            f"term {t.text!r}: wildcards (* % ? ؟) are not supported; attached clitics (و ب ل ال …) "
            "already match, and a name marked ~ matches its spellings: list other forms as terms"
        )
    if _REGEX_HINT.search(t.text):
        return (
            f"term {t.text!r} looks like a regular expression; terms are literal words "
            "(mark a name with ~ for spelling variants, list other forms as terms)"
        )
    if not term_key(t.text):
        return f"term has no letters or digits (got {t.text!r})"
    if t.field not in FIELDS:
        return f"field must be one of {', '.join(FIELDS)} (got {t.field!r})"
    if not t.weight > 0:
        return f"weight must be positive (got {t.weight!r})"
    return None


@dataclass(frozen=True)
class Near:
    """Every group must have a hit within `within` words of the others (same field)."""

    groups: tuple[tuple[str | Term, ...], ...]
    within: int = 20


@dataclass(frozen=True)
class TopicRule:
    """The part of a topic the matcher needs (built from config)."""

    id: str
    name: str
    all: tuple[tuple[str | Term, ...], ...] = ()
    any: tuple[str | Term, ...] = ()
    none: tuple[str | Term, ...] = ()
    near: tuple[Near, ...] = ()
    min_score: float | None = None  # None: relevance.default_min_score(rule)
    min_group_score: float = 0.0  # every positive group must score this much
    feeds: tuple[str, ...] = ()  # empty: every feed
    languages: tuple[str, ...] = ()  # empty: every language

    def groups(self) -> list[tuple[str, tuple[str | Term, ...]]]:
        """(label, terms) of every group: all[i], any, none, near[i][j]."""
        out = [(f"all[{gi}]", g) for gi, g in enumerate(self.all)]
        out += [("any", self.any), ("none", self.none)]
        out += [(f"near[{ni}][{gi}]", g) for ni, n in enumerate(self.near) for gi, g in enumerate(n.groups)]
        return out
