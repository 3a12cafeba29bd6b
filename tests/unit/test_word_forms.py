"""Issue 15, kind F: word forms a topic term must reach, and the ones it must not.

Each row is (term as a user writes it, word as printed in an article, matches?).
The printed words come from the public days (../shared/field-cases/relevance-kinds.md
names the articles); the other-word rows are the traps named in issue 15.
"""

import pytest

from monitor.matching.matcher import compile_topics
from monitor.matching.rules import Term, TopicRule
from monitor.text.variants import PRONOUNS, TA_PRONOUNS, derived_forms

ORDINARY = [
    ("الحوثي", "الحوثية", True),  # alwatan snn-20150723-0828 says «الحوثية» three times
    ("الحوثي", "والحوثيون", True),
    ("الحوثي", "للحوثيين", True),
    ("الحوثيين", "الحوثية", True),  # from a plural term to the feminine
    ("النووي", "نوويًا", True),  # written tanween (aljazirah snn-20150721-0973)
    ("النووي", "نوويا", True),  # the same word with its tanween mark left out
    ("انتحاري", "انتحارياً", True),  # aljazirah snn-20150721-0981
    ("الإيرانية", "الإيرانيين", True),
    ("غارة", "غارات", True),  # ta marbuta -> the plural in ات
    ("العمليات العسكرية", "العمليات العسكريين", True),  # the last word of a phrase takes the ending
    ("الشؤون الداخلية", "الشئون الداخلية", True),  # F2-04 hamza seat
    ("المسؤولين", "المسئولين", True),  # F2-04: the seat inside a plural
    ("المبادئ", "المبادىء", True),  # alriyadh snn-20150722-1245
    ("الطوارئ", "الطوارىء", True),
    # a compound name joined or split (rigour#70 «Abd el Karim» = «Abdelkarim»; nameparser#400 «abd Allah»;
    # nameparser#133 «Zein El Dine» = «Zeineddine»): alriyadh snn-20150722-0917 writes «عبد ربه»
    ("عبدربه منصور هادي", "عبد ربه منصور هادي", True),
    ("علي عبدالله صالح", "علي عبد الله صالح", True),  # aawsat snn-20150721-0040
    ("علي عبد الله صالح", "علي عبدالله صالح", True),  # snn-20150721-1177
    # Words the endings must not reach:
    ("تعز", "تعزية", False),  # a noun takes no ي: "condolence" is not the city
    ("علي", "عليه", False),  # too short for an ending ("on him")
    ("عدن", "عدنا", False),  # no bare ا on a noun ("we returned")
    ("غارة", "غاري", False),  # ة takes only the plural
    ("نووي", "نوويتين", False),  # endings are a closed list
    ("رئيس", "ريس", False),  # the seat is not dropped from an ordinary word
    ("عبد", "عبدالله", False),  # a head alone is no compound
]

NAMES = [
    ("روحاني", "روحانية", False),  # a name keeps its ending: "spirituality"
    ("روحاني", "روحاني", True),
    ("الحوثي", "الحوثية", False),  # marked ~, so no ending either
    ("عدن", "عدنا", False),
    ("سيول", "سيئول", True),  # a name's hamza seat stays optional (text/variants.py)
]


def _hits(term: str, word: str, name: bool) -> bool:
    rule = TopicRule("t", "T", any=(Term(term, name=name),), min_score=0)
    return compile_topics([rule]).evaluate("", f"قال مصدر إن {word} أمس")[0].matched


@pytest.mark.parametrize("term,word,expected", ORDINARY)
def test_ordinary_term_reaches_its_forms(term, word, expected):
    assert _hits(term, word, name=False) is expected


@pytest.mark.parametrize("term,word,expected", NAMES)
def test_name_keeps_its_ending(term, word, expected):
    assert _hits(term, word, name=True) is expected


def test_a_derived_form_is_shown_as_a_variant_and_the_exact_one_is_not():
    rule = TopicRule("t", "T", any=(Term("الحوثي"), Term("الحوثيين")), min_score=0)
    hits = compile_topics([rule]).evaluate("", "هاجم الحوثيين ثم قالت الحوثية")[0].hits
    assert [(h.matched, h.variant) for h in hits] == [("الحوثيين", False), ("الحوثية", True)]


@pytest.mark.parametrize("word", ["حوثي", "حوثيه", "حوثيون", "حوثيين", "غاره", "تعز", "علي", "طهران"])
def test_forms_are_a_closed_family(word):
    forms = derived_forms(word)
    assert word not in forms
    one_way = ("ا", "ات", *PRONOUNS, *("ت" + p for p in TA_PRONOUNS))  # stand alone: يا, ات, a pronoun
    for f in forms:  # every other member of a family derives `word` back
        assert word in derived_forms(f) or f.endswith(one_way)
