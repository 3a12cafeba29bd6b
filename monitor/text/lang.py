"""A cheap language guess for per-topic language filters (pure).

Feeds may state their language in config (`language: ar`); otherwise the
script decides: mostly Arabic letters -> "ar"; Latin text with enough common
English function words -> "en"; other Latin text -> "und" (a topic limited to
some languages skips it; a feed `language:` fixes it).
"""

from __future__ import annotations

import re

_EN = frozenset("the of and to in a is that for on with as was by at from it be are has have said".split())
_LATIN_WORD = re.compile(r"[A-Za-z]+")
SAMPLE_CHARS = 2000  # the start of an article is enough


def detect_language(text: str) -> str:
    """'ar', 'en' or 'und' for a piece of text."""
    sample = text[:SAMPLE_CHARS]
    arabic = sum(1 for ch in sample if "\u0600" <= ch <= "\u06ff")
    latin = sum(1 for ch in sample if ch.isascii() and ch.isalpha())
    if arabic == latin == 0:
        return "und"
    if arabic >= latin:
        return "ar"
    words = [w.lower() for w in _LATIN_WORD.findall(sample)]
    if words and sum(w in _EN for w in words) / len(words) >= 0.08:
        return "en"
    return "und"
