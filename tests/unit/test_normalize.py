"""Normalization tables: spellings seen in the corpus (tests/fixtures) fold together."""

import pytest

from monitor.text.normalize import fold, stems, tokenize, words

# (as written in an article, folded form). Every left side occurs in the corpus
# excerpts or seed reports, except the synthetic Unicode controls, which are
# built from real words plus the invisible characters feeds carry.
FOLD_CASES = [
    ("الإستراتيجية", "الاستراتيجيه"),
    ("الاستراتيجية", "الاستراتيجيه"),
    ("كيم جونغ أون", "كيم جونغ اون"),
    ("كيم جونغ اون", "كيم جونغ اون"),
    ("الأميركية", "الاميركيه"),
    ("مشيراً", "مشيرا"),  # tanween fath
    ("مؤكدًا", "مؤكدا"),  # tanween on the other side of alef
    ("تعرّضت", "تعرضت"),  # shadda
    ("لـ«الشرق", "ل«الشرق"),  # tatweel after a clitic
    ("الـ5", "ال5"),
    ("مستوى", "مستوي"),  # alef maqsura
    ("آسيا", "اسيا"),  # alef madda
    ("إسلام آباد", "اسلام اباد"),
    ("١٩٦١", "1961"),  # Arabic-Indic digits
    ("۲۰۲۴", "2024"),  # extended (Persian) digits
    ("ﺭﻭﺳﻴﺎ", "روسيا"),  # presentation forms
    ("ﻻ", "لا"),  # lam-alef ligature
    ("رو\u200fسيا", "روسيا"),  # RLM inside a word
    ("\u202bبوتين\u202c", "بوتين"),  # bidi embedding from a feed
    ("كو\u200bريا", "كوريا"),  # zero-width space
    ("Pyongyang", "pyongyang"),
    ("Kim Jong Un’s", "kim jong un’s"),
    ("Séoul", "seoul"),
]


@pytest.mark.parametrize("written,folded", FOLD_CASES)
def test_fold(written, folded):
    assert fold(written) == folded


CLITIC_CASES = [
    ("لروسيا", "روسيا"),
    ("وروسيا", "روسيا"),
    ("بروسيا", "روسيا"),
    ("لموسكو", "موسكو"),
    ("وبيونغ", "بيونغ"),
    ("لبوتين", "بوتين"),
    ("والاستراتيجية", "استراتيجيه"),
    ("للشراكة", "شراكه"),
    ("بالاتفاق", "اتفاق"),
    ("فالأمر", "امر"),
    ("كالعادة", "عاده"),
    ("وللرئيس", "رئيس"),
    ("بكوريا", "كوريا"),
]


@pytest.mark.parametrize("written,stem", CLITIC_CASES)
def test_clitic_stems(written, stem):
    assert stem in stems(fold(written))


@pytest.mark.parametrize("word", ["بوتين", "لبنان", "كيم", "فيتنام", "والي"])
def test_unstripped_word_is_kept(word):
    assert stems(fold(word))[0] == fold(word)


def test_stems_never_leave_one_letter():
    assert all(len(s) >= 2 for s in stems("وبل"))


def test_tokens_keep_original_spans():
    text = "وقّع الرئيس الروسي فلاديمير بوتين، أول من أمس"
    tokens = tokenize(text)
    assert [text[t.start : t.end] for t in tokens][:5] == ["وقّع", "الرئيس", "الروسي", "فلاديمير", "بوتين"]
    assert tokens[0].text == "وقع"


@pytest.mark.parametrize(
    "written",
    [w for w, _ in FOLD_CASES]
    + [
        "وقّع الرئيس الروسي فلاديمير بوتين، أول من أمس",
        "Kim Jong Un’s DPRK-Russia treaty",
    ],
)
def test_words_is_tokenize_without_spans(written):
    assert words(written) == [t.text for t in tokenize(written)]
