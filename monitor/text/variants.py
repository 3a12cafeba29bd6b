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
"""

from __future__ import annotations

from functools import lru_cache

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
    (مسؤول -> مسؤولا, مسؤولون, مسؤولين, مسؤولها, ...; see _sound_plurals). () for Latin words
    and short words.
    """
    if not is_arabic(word) or len(word) < ENDING_MIN_LETTERS:
        return ()
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
    return _sound_plurals(word)


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
