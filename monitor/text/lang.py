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
# ASCII letters are exactly A-Za-z (``ch.isascii() and ch.isalpha()``).
SAMPLE_CHARS = 2000  # the start of an article is enough


# UTF-8 writes U+0600-U+06FF, and only them, with a first byte of D8-DB: counting those bytes at C
# speed counts the block's characters (a regular expression's runs cost ≈ 60 µs per article: issue 16).
_ARABIC_LEADS = (b"\xd8", b"\xd9", b"\xda", b"\xdb")


def _arabic_letters(sample: str) -> int:
    """How many characters of `sample` are in U+0600-U+06FF (checked against a regular
    expression's runs of the block: tests/unit/test_lang_counts.py)."""
    if sample.isascii():
        return 0
    data = sample.encode("utf-8", "surrogatepass")
    return sum(map(data.count, _ARABIC_LEADS))


def detect_language(text: str) -> str:
    """'ar', 'en' or 'und' for a piece of text."""
    sample = text[:SAMPLE_CHARS]
    arabic = _arabic_letters(sample)
    if arabic and 2 * arabic >= len(sample):  # the rest, Latin letters or not, cannot outnumber them
        return "ar"
    latin_words = _LATIN_WORD.findall(sample)
    latin = sum(map(len, latin_words))
    if arabic == latin == 0:
        return "und"
    if arabic >= latin:
        return "ar"
    words = [w.lower() for w in latin_words]
    if words and sum(w in _EN for w in words) / len(words) >= 0.08:
        return "en"
    return "und"
