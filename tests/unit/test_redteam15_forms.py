"""Red team of issue 15 (redteam15), promise 1: word forms a user's term must reach.

Each row is (term as a user writes it, the word or phrase as printed on the public days,
matches?). Every printed form was found in ../shared/corpus/saudinewsnet (SaudiNewsNet,
CC BY-NC-SA 4.0); the comment names the first article that prints it. Counts are over the
three days (6,340 articles). The breaks #2, #5, #6 and #10 were strict xfails; each is fixed
here, with variant rows of its kind (positives and negatives) rebuilt on corpus words after the
public reports cited beside them.
"""

import pytest

from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule

ROWS = [
    # 1 (fixed here): the sound masculine plural of an ordinary noun or participle
    ("مسؤول", "المسؤولين", True),  # aawsat snn-20150721-0004; ×273
    ("مسؤول", "مسؤولون", True),  # aawsat snn-20150721-0003; ×87
    ("مسئول", "المسؤولين", True),  # the hamza seat and the plural together
    ("المسؤولين", "مسئولون", True),  # aljazirah snn-20150721-1078
    ("ناشط", "الناشطين", True),  # aawsat snn-20150721-0075
    ("لاجئ", "اللاجئين", True),  # aawsat snn-20150721-0052
    ("معتقل", "والمعتقلين", True),  # aawsat snn-20150721-0019 (with a conjunction)
    ("مسؤول", "مسؤولية", False),  # "responsibility" (×168) is another word
    ("مسؤول", "مسؤوليتها", False),  # aawsat snn-20150721-0130
    ("~عدن", "عدنين", False),  # a name keeps its ending
    # 3 (fixed here): the accusative alef without its tanween mark (×28 against ×10 with it)
    ("اتفاق", "اتفاقا", True),  # aawsat snn-20150721-0059 «اتفاقا مع إيران»
    ("مسؤول", "مسؤولا", True),
    ("عدن", "عدنا", False),  # under four letters: «we returned»
    ("~اتفاق", "اتفاقا", False),  # a name keeps its ending
    # held: hamza seats, written tanween, nisba endings with clitics, tatweel, marks, letters
    ("شؤون", "للشئون", True),  # ×13
    ("مبادئ", "المبادىء", True),
    ("الحوثي", "وللحوثيين", True),
    ("الحوثي", "الحوثيـين", True),  # tatweel inside the word
    ("الحوثي", "الحُوثِيّة", True),  # harakat
    ("الحوثي", "الحوثی", True),  # Persian ya (the corpus prints السوریة, سیاسیة)
    ("الحوثي", "الحو\u200cثي", True),  # ZWNJ inside the word
    ("اللاجئين", "ﺍﻟﻼﺟﺌﻴﻦ", True),  # presentation forms
    ("قطري", "القطرية", True),  # aawsat snn-20150721-0204
    ("~روحاني", "روحانية", False),  # "spirituality"
    ("~عدن", "عدنا", False),  # "we returned"
    ("~عدن", "معدن", False),  # a name inside another word
    ("~عدن", "لعدن", True),
    # 2 (fixed here): the nisba of a noun term, when the word-rarity table shows the noun takes one
    # (text/variants._noun_nisba: not an ordinary noun, its ية not a noun of its own, both ي and ية
    # printed, the nisba at most 3x as common as the noun)
    ("داعش", "الداعشية", True),  # aawsat snn-20150721-0092
    ("داعش", "الداعشي", True),  # aawsat snn-20150721-0230
    ("داعش", "داعشيا", True),  # aljazirah snn-20150721-0951 «431 داعشيا»
    ("قطر", "القطرية", True),  # a three-letter noun
    # the same kind reported elsewhere: a nisba is its noun + ي (https://github.com/linuxscout/arramooz/issues/7:
    # «عربي is relative to عرب»; https://github.com/UniversalDependencies/UD_English-EWT/issues/74: the
    # nisba turns a noun into an adjective; https://github.com/dhowe/rita/issues/140: an adjective made
    # by adding -y should reach its noun)
    ("داعش", "داعشية", True),  # aawsat snn-20150721-0108 «شبكة داعشية»
    ("داعش", "الداعشيين", True),  # alweeam snn-20150721-1571
    ("قطر", "القطريين", True),  # alriyadh snn-20150722-1010
    ("اليمن", "اليمنيين", True),  # aawsat snn-20150721-0005 ×69
    ("اليمن", "بذراعها اليمنى", False),  # «right» ×22: a 3-letter noun + ى is فُعلى, not the nisba
    ("وسط", "القرون الوسطى", False),  # «middle» ×68
    ("قطر", "والقطرية", True),  # okaz snn-20150721-2573
    ("إيران", "الإيرانية", True),  # aawsat snn-20150721-0002 ×198
    ("لبنان", "اللبناني", True),  # aawsat snn-20150721-0041 ×72
    ("مصر", "المصريين", True),  # aawsat snn-20150721-0025 ×35
    ("العراق", "العراقيون", True),  # aawsat snn-20150721-0232
    ("رئيس", "الرئيسية", False),  # "main" ×190: رئيس is an ordinary noun (رئيسه, رئيسها)
    ("عمل", "العملية", False),  # "operation" ×207 (عمله, عملات)
    ("كيف", "كيفية", False),  # "manner" ×145: no masculine كيفي printed
    ("عسير", "العسيري", False),  # a surname ×11 (aawsat snn-20150721-0070), no feminine printed
    ("~قطر", "القطرية", False),  # a name keeps its ending
    # 4 (fixed here): attached pronouns on an ordinary term; ة turns ت before them
    ("برنامج", "برنامجها", True),  # aawsat snn-20150721-0103; ×51 articles
    ("برنامج", "برنامجهم", True),  # ×17
    ("حكومة", "حكومتها", True),  # aawsat snn-20150721-0051
    ("حكومة", "حكومته", True),  # ×51
    ("حكومة", "لحكومتنا", True),  # حكومتنا ×24
    ("قضية", "قضيتها", True),  # a ة word in the nisba family (قضيه ends in يه) ×8
    # the same kind reported elsewhere (rebuilt on corpus words): every attached pronoun of a noun
    # (https://github.com/sohaibafifi/languagetool/issues/5, .../issues/40) and the feminine ة
    # before a suffix (https://github.com/assem-ch/arabicstemmer/issues/1)
    ("برنامج", "برنامجكم", True),  # ×1
    ("موقف", "موقفنا", True),  # ×5
    ("بلاد", "بلادهم", True),  # ×50
    ("دولة", "دولتهم", True),  # ×9
    ("~برنامج", "برنامجها", False),  # a name keeps its ending
    # no bare ه on a word without ة: folded it is the feminine, often another word
    ("محافظ", "المحافظة", False),  # "governorate" ×555 against محافظ "governor"
    ("منطق", "المنطقة", False),  # "logic" is not "region"
    ("جامع", "الجامعة", False),  # "mosque" is not "university"
    ("مشار", "مشارك", False),  # nor ك: "pointed to" is not "participant" ×1821
    # 5 (fixed here): a country in ـيا also printed ـية, the Syrian outlets' spelling, on a word
    # without the article (with it, it is the adjective: text/variants.bare_spelling; 5+ letters)
    ("~سوريا", "وسورية", True),  # aleqtisadiya snn-20150721-0722 «في العراق وسورية»
    # the same kind reported elsewhere: final ة / ا spellings of one name (https://github.com/osmandapp/OsmAnd/issues/11709,
    # https://github.com/interscript/interscript-ruby/issues/340, https://github.com/hmlendea/more-cultural-names/issues/347)
    ("~سوريا", "سورية", True),  # aawsat snn-20150721-0013 «مواقع سورية معارضة» ×94
    ("~سوريا", "لسورية", True),  # aleqtisadiya snn-20150722-0243
    ("~سوريا", "بسورية", True),  # alriyadh snn-20150722-0989 (ب stripped: no vowel change allowed)
    ("~سوريا", "السورية", False),  # the adjective ×132 (a country takes no article): another term
    ("~ليبيا", "ليبية", True),  # aawsat snn-20150721-0145
    ("~روسيا", "روسية", True),  # aawsat snn-20150721-0081 «قرية روسية»
    ("~روسيا", "الروسية", False),  # the adjective, as tests/unit/test_variants.py holds
    ("~تركيا", "تركية", True),  # aawsat snn-20150721-0043
    ("~بريطانيا", "بريطانية", True),  # aawsat snn-20150721-0082 ×42
    ("~روسيا", "للروسية", False),  # ل + ال: «the Russian (player)», aawsat snn-20150721-0190
    ("~سوريا", "والسورية", False),  # aawsat snn-20150721-0011 «اليمنية والمصرية والسورية»
    ("~صبيا", "صبية", False),  # a town in Jazan; صبية "girl" (aawsat snn-20150721-0477): 4 letters
    ("~سوريا", "سوريين", False),  # only ـية: the name keeps its other endings
    # 10 (fixed here): لل read as ل + a word in ل only when ال + the rest is not the more common word
    # (text/normalize.article_reading_wins, on the word-rarity table)
    ("~لحج", "للحج", False),  # aawsat snn-20150721-0481
    ("لحج", "للحج", False),  # the yemen-war topic lists لحج
    ("~لحج", "ولحج", True),
    ("لبنان", "للبنان", True),  # ل + a name in ل is a real reading
    # the same kind reported elsewhere: a word in ل after the preposition ل
    # (https://github.com/sohaibafifi/languagetool/issues/37: «للاعب => ل+لاعب، ل+اللاعب»), a
    # clitic letter that belongs to the word (https://github.com/linuxscout/tashaphyne/issues/4: فهم
    # read as ف + هم), لل among the stripped prefixes (https://github.com/Yoast/javascript/pull/935)
    ("الحج", "للحج", True),  # «for the Hajj» is still the Hajj
    ("لحج", "بلحج", True),  # aawsat snn-20150723-0035 (presentation forms)
    ("~لبنان", "للبنان", True),  # aawsat snn-20150721-0283
    ("~ليبيا", "لليبيا", True),  # aawsat snn-20150721-0206
    ("~لندن", "للندن", True),  # aawsat snn-20150721-0368
    ("لجنة", "للجنة", True),  # aawsat snn-20150721-0185: لجنة 571 articles against جنة 122
    ("لاعب", "للاعبين", True),  # aawsat snn-20150721-0317
    ("لقاء", "للقاء", True),  # aawsat snn-20150721-0084
    ("لازمة", "للأزمة", False),  # «for the crisis» (aawsat snn-20150721-0162), not «the necessary»
    # 6 (fixed here): a compound joined or split inside a longer name (×21 one way, ×41 the other)
    ("~عبد ربه منصور هادي", "عبدربه منصور هادي", True),  # aawsat snn-20150721-0001
    ("~عبدربه منصور هادي", "عبد ربه منصور هادي", True),  # aawsat snn-20150721-0005
    ("~عبد ربه منصور هادي", "عبده منصور هادي", False),  # عبده is another name
    ("~عبد الله صالح", "عبدالله صالح", True),  # the article in الله (aleqtisadiya snn-20150721-0790)
    # the same kind reported elsewhere: الله is definite with no indefinite form
    # (https://github.com/linuxscout/arramooz/issues/7), one name written as two words
    # (https://github.com/gramps-project/gramps/pull/811), عبدالرحمن joined or hyphenated
    # (https://github.com/interscript/interscript-ruby/issues/475)
    ("~علي عبد الله صالح", "علي عبدالله صالح", True),  # aleqtisadiya snn-20150721-0790 ×41
    ("~عبدالله صالح", "عبد الله صالح", True),  # aawsat snn-20150721-0005 ×39
    ("~علي عبدالله صالح", "علي عبد الله صالح", True),
    ("~عبد الله صالح", "عبدالله بن صالح", False),  # alyaum snn-20150721-2276: another man
]


@pytest.mark.unit
@pytest.mark.parametrize(("term", "printed", "expected"), ROWS)
def test_term_reaches_printed_form(term: str, printed: str, expected: bool) -> None:
    matcher = compile_topics([TopicRule("t", "T", any=(term,), min_score=0)])
    result = matcher.evaluate("", f"قال التقرير إن {printed} في البيان")[0]
    assert result.matched is expected, (term, printed, result.reason)
