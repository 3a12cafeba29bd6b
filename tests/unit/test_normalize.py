"""Normalization tables: spellings seen in the corpus (tests/fixtures) fold together."""

import pytest

from monitor.text.normalize import fold, stems, token_spans, tokenize, words

# (as written in an article, folded form). Every left side occurs in the corpus
# excerpts or seed reports, except the synthetic Unicode controls, which are
# built from real words plus the invisible characters feeds carry.
FOLD_CASES = [
    ("الإستراتيجية", "الاستراتيجيه"),
    ("الاستراتيجية", "الاستراتيجيه"),
    ("كيم جونغ أون", "كيم جونغ اون"),
    ("كيم جونغ اون", "كيم جونغ اون"),
    ("الأميركية", "الاميركيه"),
    ("مشيراً", "مشير"),  # a written tanween fath: its alef goes with it (issue 15, kind F)
    ("مؤكدًا", "مئكد"),  # tanween on the other side of alef; ؤ folds to ئ
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


# Issue 15, kind F: two spellings of one word that outlets use side by side.
# Every row is (spelling A, spelling B) as printed in the public days
# (tests/fixtures/field-cases/feeds/F2-04-hamza-seat-spelling and the articles
# named in ../shared/field-cases/relevance-kinds.md): they must fold to one form.
SAME_WORD = [
    ("الشئون", "الشؤون"),  # F2-04: Egyptian seat vs Gulf seat
    ("المسئولين", "المسؤولين"),  # F2-04
    ("مسئول", "مسؤول"),
    ("المبادىء", "المبادئ"),  # alriyadh snn-20150722-1245 writes ىء
    ("الطوارىء", "الطوارئ"),
    ("شاطىء", "شاطئ"),  # alriyadh snn-20150722-1177
    ("القارىء", "القارئ"),  # almadina snn-20150721-1170
    ("مفاجىء", "مفاجئ"),  # aleqtisadiya snn-20150721-0890
    ("يهنيء", "يهنئ"),  # alriyadh snn-20150722-0712
    ("شيء", "شئ"),  # the common misspelling of "thing"
    ("نوويًا", "نووي"),  # written tanween after the alef's place (aljazirah snn-20150721-0973)
    ("انتحارياً", "انتحاري"),  # written tanween on the alef (aljazirah snn-20150721-0981)
    ("مسجدًا", "مسجد"),
]


@pytest.mark.parametrize("a,b", SAME_WORD)
def test_spellings_fold_together(a, b):
    assert fold(a) == fold(b)
    assert words(a) == words(b) and len(words(a)) == 1


# Words that must stay apart: an alef WITHOUT a written tanween is a letter
# (عدنا "we returned" is not عدن), and a hamza seat is not dropped.
DIFFERENT_WORDS = [
    ("عدنا", "عدن"),
    ("نوويا", "نووي"),  # no mark written: the ending rule (matcher) decides, not folding
    ("شئون", "شون"),
    ("رئيس", "ريس"),
]


@pytest.mark.parametrize("a,b", DIFFERENT_WORDS)
def test_other_words_stay_apart(a, b):
    assert fold(a) != fold(b)


@pytest.mark.parametrize("written", ["نوويًا", "المبادىء", "الشؤون", "هدًى"])
def test_folded_word_span_covers_the_written_word(written):
    text = f"قال {written} أمس"
    tokens = tokenize(text)
    assert text[tokens[1].start : tokens[1].end] == written


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


# fold() and the one-word case of tokenize() skip the per-character loop (str.translate, issue
# 16); these rows hold what the loop treats specially: a written tanween (its alef depends on the
# neighbours), ي/ى + ء (the hamza's span moves), a dropped first character (tatweel, RLM,
# harakat), ligatures that grow, Latin case and accents, digits, underscores, punctuation.
_LOOP_EDGES = [
    "مشيراً",
    "اً",
    "ًا",
    "اًا",  # an alef on each side of one fathatan
    "\nاً",  # a tanween alef after a line break (not the text's first character)
    "كتاباً ًا",
    "المبادىء",
    "يءا",
    "شاطىء،",
    "ـالعربية",
    "\u200fروسيا",
    "َالقدس",
    "ﻻ",
    "ﷲ",
    "Séoul",
    "ÀB_c",
    "x\u0301y",
    "١٩٦١",
    "ﺭﻭﺳﻴﺎ",
    "؟!«»",
    "",
]


def _loop_fold_run(run: str) -> object:
    """normalize._fold_run's answer computed by the per-character loop only."""
    from monitor.text import normalize

    folded, origin = normalize.fold_with_offsets(run)
    found = tuple(
        (m.group(), origin[m.start()], len(run) if m.end() == len(folded) else origin[m.end() - 1] + 1)
        for m in normalize._WORD.finditer(folded)
    )
    if len(found) == 1 and found[0][1] == 0 and found[0][2] == len(run):
        return found[0][0]
    return found


def _fixture_texts() -> list[str]:
    from tests.support.corpus_pages import DAYS, saudinewsnet_articles

    return [f"{a['title']}\n{a['content']}" for d in DAYS for a in saudinewsnet_articles(d, limit=15)]


@pytest.mark.parametrize("text", _LOOP_EDGES + _fixture_texts())
def test_fast_fold_is_the_character_loop(text):
    from monitor.text import normalize

    assert fold(text) == normalize.fold_with_offsets(text)[0]
    for run in normalize._RUN.findall(text) + [text]:
        normalize._fold_run.cache_clear()
        assert normalize._fold_run(run) == _loop_fold_run(run), run


# Whitespace as feeds and extracted pages carry it: paragraph breaks, runs of spaces, a leading
# and a trailing blank, tabs, no-break and ideographic spaces, a line separator; words() reads a
# text piece by piece (str.split) and token_spans() locates pieces, so every kind must give the
# words and spans tokenize() gives (issue 16).
_SPACES = ["\n\n", "  ", "\t", "\u00a0", "\u3000", "\u2028", " \n "]


def _spaced_texts() -> list[str]:
    base = _fixture_texts()[:6]
    return [f"{sp}{t.replace(' ', sp, 7)}{sp}" for t in base for sp in _SPACES] + _LOOP_EDGES


@pytest.mark.parametrize("text", _spaced_texts() + _fixture_texts())
def test_words_and_token_spans_are_tokenize(text):
    from monitor.text import normalize

    normalize._WORDS_OF_PIECE.clear()  # cold, then warm
    for _ in range(2):
        tokens = tokenize(text)
        assert words(text) == [t.text for t in tokens]
        every = range(len(tokens) + 2)  # two indices past the end are left out
        assert token_spans(text, every) == {i: (t.start, t.end) for i, t in enumerate(tokens)}
        # unsorted and sparse (few hits: segments are read, not the whole text tokenized)
        for some in (list(every)[::-3], list(every)[::-17], [len(tokens) - 1, 0], [len(tokens) // 2]):
            want = {i: (tokens[i].start, tokens[i].end) for i in some if 0 <= i < len(tokens)}
            assert token_spans(text, [i for i in some if i >= 0]) == want
    assert token_spans(text, []) == {}


# Every character of the plain-run class (`_PLAIN_RUN`: ASCII lowercase and digits, the Arabic letters
# U+0621-U+063F and U+0641-U+064A), alone, inside a word and doubled, plus the hamza-on-ya spellings
# the shortcut leaves to the character loop: the shortcut folds them as the loop does (issue 16).
_PLAIN_CHARS = [
    chr(c) for c in [*range(0x61, 0x7B), *range(0x30, 0x3A), *range(0x0621, 0x0640), *range(0x0641, 0x064B)]
]
_PLAIN_RUNS = [
    *_PLAIN_CHARS,
    *(f"ال{c}كتاب" for c in _PLAIN_CHARS),
    *(c * 2 for c in _PLAIN_CHARS),
    "المبادىء",
    "شاطيء",
    "ىء",
    "بيئة",
    "مسؤولة",
    "إىآأةؤ",
    "abc123",
]


@pytest.mark.parametrize("run", _PLAIN_RUNS)
def test_plain_run_shortcut_is_the_character_loop(run):
    from monitor.text import normalize

    assert normalize._PLAIN_RUN.fullmatch(run)
    assert normalize._plain_fold(run) == run.translate(normalize._FOLD_TABLE)
    normalize._fold_run.cache_clear()
    assert normalize._fold_run(run) == _loop_fold_run(run), run


def test_plain_run_class_stops_at_marks_and_capitals():
    from monitor.text import normalize

    for ch in ["\u0640", "\u064b", "\u0670", "A", "_", "\u0660", "\u06a9", "\u0620"]:
        assert not normalize._PLAIN_RUN.fullmatch(f"ب{ch}ب"), hex(ord(ch))
