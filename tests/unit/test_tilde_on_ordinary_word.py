"""`monitor check` warns when `~` (a name) marks an ordinary word (config/advice.py).

The corpus's word-rarity table (text/df.txt) tells an ordinary word by endings a name never
takes in news text: a possessive (زيارته، زيارتها) or the plural in ات (زيارات). Rows: every
name the shipped configs and the labelled rules mark `~`, which must stay quiet, and
ordinary words, which must be named. Public reports of the same pitfall: temboz#114 (a feed
filter's stemming made "wellness" catch "well"), wordhighlighter#115 (loose matching joins
"advent" and "adventure"; the fix proposed there is ours: look the word up in a corpus
table). `bench/variants.py` measures the case here (زيارة "visit" picks up وزارة "ministry").
"""

import pytest

from monitor.config.advice import common_word, ordinary_forms

NAMES = [
    "إيران", "طهران", "بوتين", "لافروف", "موسكو", "كيم", "بيونغيانغ", "كوريا", "سروج", "سوروج",
    "الحوثي", "الحوثيين", "روحاني", "خامنئي", "ظريف", "عدن", "صنعاء", "تعز", "لحج", "مأرب",
    "اليمن", "داعش", "تركيا", "أنقرة", "أردوغان", "إسطنبول", "اليونان", "أثينا", "تسيبراس",
    "الكرملين", "شويغو", "شانلي", "داود", "عبدربه", "ميرس",
]  # fmt: skip
ORDINARY = [
    ("زيارة", "زيارات"),  # the README's example (زيارة / وزارة)
    ("وزارة", "وزارات"),
    ("حرب", "حربه"),
    ("هجوم", "هجومه"),  # temboz#114: a frequent ordinary word under a loose rule
    ("رئيس", "رئيسه"),  # wordhighlighter#115: رئيس / رئيسه / رئيسي would be one "name"
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_is_not_called_an_ordinary_word(name):
    assert ordinary_forms(name) == {}


@pytest.mark.parametrize(("word", "form"), ORDINARY)
def test_an_ordinary_word_is_named_by_its_endings(word, form):
    assert form in ordinary_forms(word)


@pytest.mark.parametrize("term", ["الاتفاق النووي", "Putin", "في"])
def test_phrases_latin_and_short_words_are_left_to_other_checks(term):
    assert ordinary_forms(term) == {}


def test_the_ordinary_word_check_reaches_below_the_common_share():
    # زيارة is in about 5% of articles: not "common", still an ordinary word
    assert not common_word("زيارة") and ordinary_forms("زيارة")
