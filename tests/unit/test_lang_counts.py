"""detect_language counts the U+0600-U+06FF characters by their UTF-8 lead bytes: the same count
as the regular expression's runs, and the same guess (issue 16)."""

import re

import pytest

from monitor.text import lang

# the count as detect_language made it before: the block's runs (the oracle)
_ARABIC_RUN = re.compile("[\u0600-\u06ff]+")

_TEXTS = [
    "",
    "plain English text, the state said",
    "الرياض - أعلنت وزارة الصحة اليوم",
    "مشيراً إلى أنّ ١٢٣ ۴۵ ؟ ، ؛ ـ",  # marks, Arabic-Indic and Persian digits, punctuation, tatweel
    "ﻻ ﷽ ݐ ࢠ",  # presentation forms and the Arabic supplements: outside the block
    "سلام \ud800 lone surrogate",
    "half عربي half English words here and there",
    "\u0600\u06ff\u05ff\u0700",  # the block's edges and their neighbours
    "é ü ß 中文 🙂 عربي",
]


@pytest.mark.parametrize("text", _TEXTS)
def test_arabic_count_is_the_runs_total(text):
    assert lang._arabic_letters(text) == sum(map(len, _ARABIC_RUN.findall(text)))


@pytest.mark.parametrize(
    "text,want",
    [
        ("", "und"),
        ("الرياض أعلنت وزارة الصحة", "ar"),
        ("The minister said that the talks in Riyadh were useful", "en"),
        ("Lorem ipsum dolor sit amet consectetur", "und"),
        ("عربي 1234567890 ab", "ar"),  # fewer Arabic letters than the rest, more than the Latin ones
        ("عربي " + "word " * 3, "und"),
        ("ab عربي", "ar"),
        ("abcdefgh the عربي", "en"),
    ],
)
def test_guess(text, want):
    assert lang.detect_language(text) == want
