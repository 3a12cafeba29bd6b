"""Loose spelling skeletons for names (pure, data-driven).

A term marked as a name (`~بيونغ يانغ` in config) matches every word whose
skeleton equals the term's skeleton. `skeleton(word)` works on FOLDED text
(see normalize.fold: hamza on alef, ى/ي and ة/ه are already one letter) and
applies the tables below:

- the letters outlets use for a foreign g (ج غ ق) become one letter;
- a hamza seat reads as و, an optional long vowel (سيئول = سيول); folding
  already made ؤ and ئ one seat (ئ), and ء inside a word is dropped;
- long vowels ا و ي inside a word are optional (الأمريكية = الأميركية,
  السوفياتي = السوفيتي = السوفييتي, بوتين = بوتن, سوروج = سروج); the first and
  the last letter are kept, so كوريا (ends in ا) stays apart from كوري;
- a doubled long vowel counts once (يي = ي); a doubled consonant does not
  (تعز is not تعزز).

Equal skeletons are necessary, not sufficient: `compatible(term, written)`
also compares the inner long vowels between each pair of letters. A vowel may
be added or dropped but not swapped (بوتين = بوتن, not بيتين or بوتان), and a
short name allows fewer changes than a long one (see `budget`; names under
MIN_SWAP_LETTERS letters allow no ج/غ/ق swap either: لحج is not لحق; a word
read with ب ك ل stripped allows no change: بايرن is not إيران). Measured on
the corpus with bench/variants.py, looser rules merged اليمن with يومين and
إيران with بايرن.

Only names are loosened: on ordinary words the same rules merge different
words (زيارة "visit" and وزارة "ministry"), which is why matching ordinary
terms loosely is not the default (bench/variants.py measures it).
Latin words are returned unchanged: they are already case- and accent-folded.

The derived forms of ORDINARY terms (`derived_forms`, issue 15 kind F) are here too: the nisba
family, ة + ات and pronouns, sound plurals, a noun's own nisba when the word-rarity table
(text/rarity.py) shows it takes one (داعش -> الداعشية); and a one-word name's spelling in ـية
(`bare_spelling`: سورية for ~سوريا).
"""

from __future__ import annotations

from functools import lru_cache

from monitor.text import rarity
from monitor.text.normalize import WORD_CACHE, is_arabic

# Letter -> replacement ("" drops it). Applied before the vowel rule.
LETTER_CLASSES: dict[str, str] = {
    "غ": "ج",
    "ق": "ج",
    "ڤ": "ف",
    "پ": "ب",
    "چ": "ج",
    "گ": "ج",  # foreign g, v, p, ch
    "ئ": "و",  # the hamza seat (fold writes ؤ as ئ): an optional vowel, so يؤمن stays apart from اليمن
}
# A hamza on the line is optional inside a word but kept at its end: رؤساء
# ("presidents") must not read as روسيا.
OPTIONAL_INSIDE = frozenset("اوي")  # long vowels that outlets add or drop inside a name


def _slots(word: str) -> tuple[str, tuple[str, ...], str]:
    """(skeleton, inner vowels standing before each skeleton letter, the
    skeleton's letters as written)."""
    pairs = [(LETTER_CLASSES.get(ch, ch), ch) for ch in word]
    pairs = [(m, ch) for i, (m, ch) in enumerate(pairs) if m and (m != "ء" or i == len(pairs) - 1)]
    last = len(pairs) - 1
    kept: list[str] = []
    written: list[str] = []
    slots: list[str] = []
    vowels = ""
    for i, (ch, orig) in enumerate(pairs):
        if 0 < i < last and ch in OPTIONAL_INSIDE:
            if not vowels.endswith(ch):
                vowels += ch  # يي = ي
            continue
        kept.append(ch)
        written.append(orig)
        slots.append(vowels)
        vowels = ""
    return "".join(kept), tuple(slots), "".join(written)


_CLASS_TABLE = str.maketrans(LETTER_CLASSES)
_NO_INNER_VOWELS = str.maketrans("", "", "".join(OPTIONAL_INSIDE))
_NOT_CONSONANTS = frozenset([*OPTIONAL_INSIDE, "ء"])
# each letter to its class, dropped when that class is a long vowel or hamza (ئ reads as و)
_CONSONANTS = str.maketrans(
    {
        ch: "" if LETTER_CLASSES.get(ch, ch) in _NOT_CONSONANTS else LETTER_CLASSES.get(ch, ch)
        for ch in [*LETTER_CLASSES, *_NOT_CONSONANTS]
    }
)


def consonants(word: str) -> str:
    """``word`` with letters mapped to their class and every long vowel and hamza dropped.

    A necessary condition, cheaper than the skeleton: equal skeletons have equal consonants
    (``consonants(skeleton(w)) == consonants(head(w)) == consonants(w)``: the class map is
    idempotent and the skeleton only drops what this drops), and, mapping character by
    character, the consonants of a suffix of ``w`` are a suffix of ``consonants(w)``. The
    matcher rules out most new words with it before computing their stems and skeletons."""
    return word.translate(_CONSONANTS)


@lru_cache(maxsize=WORD_CACHE)
def skeleton(word: str) -> str:
    """The loose form of one folded word (see module docstring).

    ``_slots(word)[0]`` by string operations (the matcher asks it of every new word's
    stems: issue 16): letters mapped to their class, a hamza on the line dropped but at the
    end, then the long vowels between the first and the last letter dropped."""
    if not is_arabic(word):
        return word
    mapped = word.translate(_CLASS_TABLE)
    if "ء" in mapped[:-1]:
        mapped = mapped[:-1].replace("ء", "") + mapped[-1]
    if len(mapped) <= 2:
        return mapped
    return mapped[0] + mapped[1:-1].translate(_NO_INNER_VOWELS) + mapped[-1]


@lru_cache(maxsize=WORD_CACHE)
def head(word: str) -> str:
    """The skeleton of `word` as the START of a longer joined name.

    Inside a compound the word's last letter is not final, so its trailing
    long vowels are optional too: head(بيونغ) is a prefix of
    skeleton(بيونغيانغ).
    """
    sk = skeleton(word)
    while len(sk) > 1 and sk[-1] in OPTIONAL_INSIDE:
        sk = sk[:-1]
    return sk


MIN_SWAP_LETTERS = 4  # shorter names keep their letters (no ج/غ/ق swap)


def budget(term: str) -> int:
    """Vowels a spelling may add or drop: 0 up to 4 letters, 1 up to 6, then 2."""
    n = len(term)
    return 0 if n <= 4 else 1 if n <= 6 else 2


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


@lru_cache(maxsize=WORD_CACHE)
def compatible(term: str, written: str, strict: bool = False) -> bool:
    """True if `written` is a spelling variant of the name `term` (both folded).

    Same skeleton, and slot by slot the inner vowels of one are a subsequence
    of the other's (a vowel added or dropped, never swapped: بوتن but not
    بيتين), with at most `budget(term)` vowels added or dropped in all, so a
    short name (اليمن, ظريف) only matches its own vowel pattern. `strict`
    allows no vowel change at all: for a word read with a preposition
    stripped, where ب + ايرن would otherwise read بايرن (Bayern) as إيران.
    """
    if term == written or not is_arabic(term):
        return True
    sk_a, slots_a, letters_a = _slots(term)
    sk_b, slots_b, letters_b = _slots(written)
    if sk_a != sk_b:
        return False
    if letters_a != letters_b and len(term) < MIN_SWAP_LETTERS:
        return False  # لحج is not لحق: letter classes are for longer (foreign) names
    changes = 0
    for a, b in zip(slots_a, slots_b):
        if a == b:
            continue
        if not (_subsequence(a, b) or _subsequence(b, a)):
            return False
        changes += abs(len(a) - len(b)) or 1
    return changes <= (0 if strict else budget(term))


# Derived endings of ordinary (non-name) words, issue 15 kind F. A nisba
# adjective ends in ي and takes ية / يون / يين / يات / يًا (folded: يه, يون,
# يين, يات, يا): a rule listing الحوثي should not miss «الحوثية». A word
# ending in ة (folded ه) takes the plural ات (غارة, غارات). Names keep their
# endings (روحاني is not روحانية "spirituality"; عدن is not عدنا "we returned"),
# and a noun gets no ي added (تعز is not تعزية "condolence"), so only these two
# families are generated. Words shorter than ENDING_MIN_LETTERS are left alone
# (علي is not عليه "on him").
# The nisba's accusative يا (نوويا, written without its tanween mark) is taken
# too (../shared/field-cases/relevance-kinds.md suggests it; measured: one more
# iran-nuclear-deal positive on the labelled set); it also reads تركي as تركيا,
# the same subject for a topic that lists تركي.
NISBA_ENDINGS = ("", "ه", "ون", "ين", "ات", "ا")
ENDING_MIN_LETTERS = 4


@lru_cache(maxsize=65536)
def derived_forms(word: str) -> tuple[str, ...]:
    """Other forms of one folded, article-less ordinary word, not `word` itself.

    nisba: حوثي, حوثيه, حوثيون, حوثيين -> the other five of
    (حوثي, حوثيه, حوثيون, حوثيين, حوثيات, حوثيا); ta marbuta: غاره -> غارات and the
    word with an attached pronoun (غارته, غارتها, ...: TA_PRONOUNS).
    other words of 4+ letters: their sound plural, unmarked accusative and attached pronouns
    (مسؤول -> مسؤولا, مسؤولون, مسؤولين, مسؤولها, ...; see _sound_plurals); a noun of 3+ letters
    the table shows to take one, its nisba (داعش -> داعشي, داعشيه, ...; see _noun_nisba). () for
    Latin words and short words.
    """
    if not is_arabic(word):
        return ()
    if len(word) < ENDING_MIN_LETTERS:
        return _noun_nisba(word)
    base = ""
    for suffix in ("يون", "يين", "يات", "يه", "ي"):
        if word.endswith(suffix) and len(word) - len(suffix) + 1 >= ENDING_MIN_LETTERS:
            base = word[: len(word) - len(suffix) + 1]
            break
    # ة (folded ه) turns ت before an attached pronoun: حكومه -> حكومتها, عمليه -> عمليتها
    owned = tuple(word[:-1] + "ت" + p for p in TA_PRONOUNS) if word.endswith("ه") else ()
    if base:
        return tuple(f for f in (base + e for e in NISBA_ENDINGS) if f != word) + owned
    if word.endswith("ه"):
        return (word[:-1] + "ات", *owned)
    return _sound_plurals(word) + _noun_nisba(word)


# The nisba of a noun (redteam15 #2: a rule listing داعش missed «الداعشي» ×35, «الداعشية» ×10,
# «داعشيا» ×5; قطر missed «القطرية»). Adding ي to any noun reaches other words (رئيس/رئيسي "main",
# مسؤول/مسؤولية "responsibility", عمل/عملية "operation", كيف/كيفية, سعد/سعدي a name), and the
# nisba's frequency does not tell them apart (مسئولية 321 against مسئول 345, قطري + قطرية 80 against
# قطر 60). The word-rarity table (text/rarity.py) does, by what else the corpus writes. A noun of
# NISBA_NOUN_MIN+ letters in the table takes the nisba when (`nisba_refusal`, in this order;
# refused of the 740 table nouns whose nisba forms are printed, by the first rule that fails):
# - the table holds both its ي and its ية, as an adjective has (420: عسيري, حمدي, قرني are
#   surnames, كيفية, خصوصية, ميزانية nouns, with one of the two only);
# - the noun is not an ordinary word (no possessive or ات form in the table, as config/advice.py
#   tells names; 147: رئيسه, عمله, مسئوله, عربات, so not رئيسي, عملية, مسئولية, عربي);
# - its ية is not a noun of its own (no يات, يته, يتها, يتهم; 9: شخصيات, ميزانيات);
# - its nisba forms together are in at most NISBA_RATIO times the noun's articles (42, the
#   truncated forms: ماض/ماضي ×176, ثان/ثاني ×77, تنم/تنمية; also اسلام/اسلامي ×3.3, a loss).
# 122 nouns pass these (داعش, قطر, ايران, يمن, مصر, عراق, لبنان, اسرائيل, ارهاب, اعلام, شرق, ...);
# read one by one, 22 reach another word and are refused first (NISBA_OTHER_WORD below): 100 pass.
# `python3 bench/nisba.py --list` prints these counts and the list.
NISBA_RATIO = 3
NISBA_NOUN_MIN = 3
# Nouns the rules pass whose nisba is ANOTHER word (redteam15b, read one by one from the 122 that
# `python3 bench/nisba.py --list` prints; articles of their nisba forms over the three public days,
# 1,034 of the 12,849): ولد/ولديه "he has" 84, فارس/فارسي "Persian" 47, فيصل/الفيصلي (a club) 41,
# عثمان/عثماني "Ottoman" 18, مجد/مجدي (a name) 27, وثائق/وثائقي "documentary" 29, عفو "amnesty"/عفوية
# "spontaneity" 25, ميلاد "birth"/ميلادي "AD" (dates) 48, عنصر "member, element"/عنصرية "racism" 58,
# شيوع "spread"/شيوعية "communism" 33, حصر "count"/حصرية "exclusive" 39, سلف/سلفية "Salafism" 20,
# يمين "oath"/يمينية "right-wing" 23, رقم "number, record"/رقمية "digital" 75, مثال "example"/مثالية
# "ideal" 79, ذهب "gold"/ذهبية "golden" 99, دام "lasted"/دامية "bloody" 29, تحل "solves"/تحلية
# "desalination" 26, محور "axis"/محورية "central" 25, فصل "chapter, season"/فصلية "quarterly" 24,
# اصل "origin"/اصلية "original" 66, وسط "middle"/وسطية "moderation" 119. Their nisba family takes
# no يون/يين in the table, but neither do داعش or قطر, so no table rule tells them apart: a list.
NISBA_OTHER_WORD = frozenset(
    "ولد فارس فيصل عثمان مجد وثائق عفو ميلاد عنصر شيوع حصر سلف يمين رقم مثال ذهب دام تحل محور فصل اصل وسط".split()
)
# A three-letter noun + ى is the feminine elative فُعلى (اليمنى "right", الوسطى "middle", الكبرى),
# which folding writes as its nisba in ي (اليمنى ×22 articles against اليمني ×134, الوسطى ×68
# against الوسطي ×11): such a noun takes the nisba's other forms (القطرية, المصريين, اليمنيين) but
# not the bare ي.
NISBA_MASC_MIN = 4
_ORDINARY = ("ه", "ها", "هم", "نا", "ات")
_ABSTRACT = ("يات", "يته", "يتها", "يتهم")


def nisba_refusal(word: str) -> str:
    """Why a folded, article-less noun takes no nisba ("" when it takes one): "short", "end"
    (it ends in ي ه ا ء), "other word" (NISBA_OTHER_WORD), "unseen" (not in the table), "one
    form" (ي or ية not printed), "ordinary", "abstract" or "ratio" (the rules above, in order)."""
    if len(word) < NISBA_NOUN_MIN:
        return "short"
    if word[-1] in "يهاء":
        return "end"
    if word in NISBA_OTHER_WORD:
        return "other word"
    table = rarity.document_frequency()[1]
    own = table.get(word, 0)
    if not own:
        return "unseen"
    if not (table.get(word + "ي") and table.get(word + "يه")):
        return "one form"
    if any(table.get(word + e) for e in _ORDINARY):
        return "ordinary"
    if any(table.get(word + e) for e in _ABSTRACT):
        return "abstract"
    if sum(table.get(word + "ي" + e, 0) for e in NISBA_ENDINGS) > NISBA_RATIO * own:
        return "ratio"
    return ""


@lru_cache(maxsize=65536)
def _noun_nisba(word: str) -> tuple[str, ...]:
    """The nisba forms of a folded, article-less noun (داعش -> داعشي, داعشيه, ..., داعشيا), or ()
    when the word-rarity table does not show the noun to take one (see `nisba_refusal`)."""
    if nisba_refusal(word):
        return ()
    endings = NISBA_ENDINGS if len(word) >= NISBA_MASC_MIN else NISBA_ENDINGS[1:]
    return tuple(word + "ي" + e for e in endings)


# The sound masculine plural of an ordinary noun or participle (redteam15: a rule listing
# مسؤول missed «المسؤولين» 273 times and «مسؤولون» 87 times on the three public days;
# ناشط / الناشطين, لاجئ / اللاجئين): ون and ين on a stem of PLURAL_STEM_MIN letters or more,
# either way round; and the accusative alef written without its tanween mark (اتفاقا ×28 on
# those days against اتفاقاً ×10). Not for words in ي ه ا (nisba and ta marbuta families above),
# nor under PLURAL_STEM_MIN letters (عدن is not عدنا "we returned").
PLURAL_ENDINGS = ("ون", "ين")
PLURAL_STEM_MIN = 4

# Attached pronouns (redteam15 #4: a rule listing برنامج missed «برنامجها» and «برنامجهم»;
# حكومة missed «حكومتها», ة turning ت). On a word without ة only ها هم هما هن كم نا: folding
# writes ة as ه, so a bare ه reads the feminine, often another word (منطق/منطقة "region",
# محافظ/محافظة "governorate", جامع/جامعة "university": 379 such pairs in text/df.txt where
# the ة form is the more common), and ك makes others (مشار/مشارك, يشار/يشارك). After the ت of a
# ة word (TA_PRONOUNS) ه and ك are safe: حكومته, حكومتك. ي (my) is left out: it is the nisba.
PRONOUNS = ("ها", "هم", "هما", "هن", "كم", "نا")
TA_PRONOUNS = ("ه", "ك", *PRONOUNS)


def _sound_plurals(word: str) -> tuple[str, ...]:
    base = word
    for suffix in PLURAL_ENDINGS:
        if word.endswith(suffix) and len(word) - len(suffix) >= PLURAL_STEM_MIN:
            base = word[: -len(suffix)]
            break
    if base[-1] in "يها":
        return ()
    forms = (base, base + "ا", *(base + e for e in PLURAL_ENDINGS), *(base + p for p in PRONOUNS))
    return tuple(f for f in forms if f != word)


# Compound names written joined or split (issue 15, kind F): outlets write عبدالله and
# عبد الله, عبدربه and عبد ربه (in the labelled yemen-war set, 8 articles one way and 11 the
# other), أبوظبي and أبو ظبي. An ordinary term takes the other spelling; a name (`~`) already
# matches a split spelling (see matcher: joins).
COMPOUND_HEADS = ("عبد", "ابو")
COMPOUND_REST_MIN = 3  # letters after the head for a joined word to be a compound (عبده is not)


def compound_spellings(folded_term: str) -> tuple[str, ...]:
    """The other spellings of a folded term whose words join or split a compound head."""
    words = folded_term.split()
    out: list[str] = []
    for k, word in enumerate(words):
        for h in COMPOUND_HEADS:
            if word == h and k + 1 < len(words) and is_arabic(words[k + 1]):
                out.append(" ".join(words[:k] + [h + words[k + 1]] + words[k + 2 :]))
            elif word.startswith(h) and len(word) - len(h) >= COMPOUND_REST_MIN:
                out.append(" ".join(words[:k] + [h, word[len(h) :]] + words[k + 1 :]))
    return tuple(out)


# A country in ـيا is printed with ـية too (redteam15 #5: ~سوريا missed «سورية» ×94 articles and
# «وسورية» ×22, the Syrian outlets' spelling; لسورية ×3, بسورية ×2). A country takes no article,
# so an ـية word WITH the article is the adjective, another term (السورية ×132, الروسية: «the
# adjective is another term», tests/unit/test_variants.py); without it, the ـية word is the
# country in the Syrian spelling or the adjective (مواقع سورية «Syrian sites», روسية ×13, ليبية
# ×10, تركية ×34: the same subject for a user watching the country). The matcher asks for the word
# without the article (matcher._TermRef.articled). One-word names of NAME_YA_MIN+ letters only: the
# 4-letter ones make other words (صبيا, a town in Jazan, and صبية "girl"; عليا and عليه "on him").
NAME_YA_MIN = 5


def bare_spelling(folded_name: str) -> str:
    """The ـية spelling (folded ـيه) of a one-word name in ـيا of NAME_YA_MIN+ letters, "" for
    other names; it counts only on a text word without the article (see above)."""
    if " " in folded_name or not is_arabic(folded_name) or len(folded_name) < NAME_YA_MIN:
        return ""
    return folded_name[:-1] + "ه" if folded_name.endswith("يا") else ""
