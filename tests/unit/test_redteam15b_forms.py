"""Red team of issue 15 (redteam15b), word forms: a noun term's nisba that is ANOTHER word.

Since forms15c a noun term reaches its nisba (noun + ي ية يون يين يات يا) when the word-rarity
table shows the noun takes one (text/variants._noun_nisba: داعش -> الداعشية). Of the 122 nouns
that pass, 22 reach another word (text/variants.NISBA_OTHER_WORD; 1,034 articles of their nisba
forms over the three public days): a rule listing عفو ("amnesty", a royal pardon) matched
«العفوية» ("spontaneity"), ميلاد ("birth") every date «القرن الميلادي», عنصر («عنصر أمن», a member)
«العنصرية» ("racism"). Fixed: those nouns take no nisba (their other derived forms are kept).

Rows: (term as a user writes it, the word as printed, matches?). Each printed form is found in
../shared/corpus/saudinewsnet (SaudiNewsNet, CC BY-NC-SA 4.0): the comment names the first
article and the number of articles printing it. The same kind reported elsewhere, rebuilt here on
corpus words: a stem plus a suffix is the stem of another word
(https://github.com/aznlp/stemmer/issues/12); one written form with several meanings and roots
(https://github.com/msarhan/lucene-arabic-analyzer/issues/4); a letter read as an affix that
belongs to the word (https://github.com/linuxscout/tashaphyne/issues/4).
"""

import pytest

from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule

FIXED = [
    ("عفو", "العفوية", False),  # aawsat snn-20150721-0303 «طريقة النادلين العفوية» ×3 (عفوية ×10)
    ("عفو", "عفوية", False),  # aawsat snn-20150721-0405 «أن تكون الرغبة عفوية»
    ("ميلاد", "الميلادي", False),  # aawsat snn-20150721-0177 «القرن الميلادي» ×24
    ("ميلاد", "الميلادية", False),  # almadina snn-20150721-1175 «الخمسينيات الميلادية» ×12
    ("عنصر", "العنصرية", False),  # aawsat snn-20150721-0196 «الهتافات العنصرية» ×19
    ("عنصر", "عنصري", False),  # aawsat snn-20150721-0483 «بلفظ عنصري» ×8
    ("شيوع", "الشيوعي", False),  # aawsat snn-20150721-0071 «التمدد الشيوعي» ×17
    ("حصر", "حصرية", False),  # aawsat snn-20150721-0239 «بمقابلة حصرية» ×10
    ("سلف", "السلفية", False),  # aawsat snn-20150721-0224 «القيادات السلفيّة» ×12
    ("اليمين", "اليمينية", False),  # aawsat snn-20150721-0092 «المعارضة اليمينية» ×10
    ("رقم", "الرقمية", False),  # aawsat snn-20150721-0183 «التكنولوجيا الرقمية» ×35
    ("مثال", "المثالية", False),  # aawsat snn-20150721-0124 «بالنتيجة المثالية» ×19
    ("ذهب", "الذهبية", False),  # aawsat snn-20150721-0079 «الفرقة الذهبية» ×29
    ("الذهب", "الذهبي", False),  # aawsat snn-20150721-0015 «السهم الذهبي» ×42 (held before: 3 letters, no bare ي)
    ("دام", "الدامية", False),  # aawsat snn-20150721-0054 «الفوضى الدامية» ×12
    ("تحل", "تحلية", False),  # alriyadh snn-20150722-0688 «محطة تحلية مياه» ×5
    ("محور", "محورية", False),  # aawsat snn-20150721-0176 ×7
    ("وسط", "الوسطية", False),  # aawsat snn-20150721-0223 «الثقافة الوسطية» ×16
    ("أصل", "الأصلية", False),  # aawsat snn-20150721-0050 «القناة الأصلية» ×27
    ("فصل", "الفصلية", False),  # aawsat snn-20150721-0150 «أرباحها الفصلية» ×12
    # the ones the forms15c helper named, now refused too
    ("ولد", "ولديه", False),  # aawsat snn-20150721-0070 «ولديه الرغبة» ("and he has") ×37
    ("فارس", "الفارسي", False),  # aawsat snn-20150721-0045 «التمدد الفارسي» ×20
    ("فيصل", "الفيصلي", False),  # aleqtisadiya snn-20150721-0733 (a club) ×22
    ("عثمان", "العثماني", False),  # aawsat snn-20150721-0167 ×9
    ("مجد", "مجدي", False),  # aawsat snn-20150721-0462 «مجدي شرابية» ×7 (held before: 3 letters, no bare ي)
    ("وثائق", "الوثائقي", False),  # aawsat snn-20150721-0557 «الفيلم الوثائقي» ×3
]

# a one-word name in ـيا of 5+ letters reaches its ـية spelling without the article (~سوريا -> سورية,
# text/variants.bare_spelling): meant for countries, it is applied to every such name
NOT_A_COUNTRY = "redteam15b: bare_spelling reads any 5-letter name in ـيا, not only countries: صوفيا/صوفية «Sufi»"
BROKEN = [
    pytest.param(
        "~صوفيا",  # aawsat snn-20150721-0292 «الملكة صوفيا» (queen Sofia of Spain), Sofia the city
        "صوفية",  # aawsat snn-20150721-0179 «بنزعة صوفية» ("with a Sufi bent") ×3
        False,
        marks=pytest.mark.xfail(strict=True, reason=NOT_A_COUNTRY),
    ),
]

HELD = [
    # the nisba the rule is for still reaches its forms
    ("داعش", "الداعشية", True),
    ("قطر", "القطرية", True),
    ("إيران", "الإيرانية", True),
    ("اليمن", "اليمنيين", True),
    # the listed nouns keep their own forms (article, clitics, sound plural where they had one)
    ("عفو", "والعفو", True),
    ("ميلاد", "الميلاد", True),
    ("عنصر", "العنصر", True),
    ("رقم", "برقم", True),
    # held: ل + a name in ل the word-rarity table does not hold (the لل rule leaves it to the name)
    ("~لشبونة", "للشبونة", True),  # لشبونة: aawsat snn-20150721-0258 ×8; للشبونة not printed
    ("~لاهاي", "للاهاي", True),  # aawsat snn-20150722-0089 «تسليمه للاهاي»
    ("~لوزان", "للوزان", True),  # لوزان ×16; للوزان not printed
    ("~صوفيا", "الصوفية", False),  # «الملابس الصوفية» ("woollen"), aawsat snn-20150721-0154 ×8: the article
]


@pytest.mark.unit
@pytest.mark.parametrize(("term", "printed", "expected"), FIXED + BROKEN + HELD)
def test_a_nouns_nisba_that_is_another_word_is_not_reached(term: str, printed: str, expected: bool) -> None:
    matcher = compile_topics([TopicRule("t", "T", any=(term,), min_score=0)])
    result = matcher.evaluate("", f"قال التقرير إن {printed} في البيان")[0]
    assert result.matched is expected, (term, printed, result.reason)
