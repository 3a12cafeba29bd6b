"""Advice on a config that loads but may not do what its author meant (pure).

`did_you_mean(word, choices)` is the one "did you mean …?" rule (names and keys).
`warnings(raw)` lists `(yaml_path, text)` for configs that work but are probably
wrong: a feed URL under two names, polling more than once a minute, a group
written without brackets, a term of `any` that is in most articles, `~` on a
common word, an unexpanded `$VAR`. `conflicts(raw)` lists the errors among these
(a term in both `all` and `none`: the topic can never match).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

Problem = tuple[tuple[Any, ...], str]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest of `choices` to `word` (case-insensitive), or None when none is close."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None
