"""Arabic-aware text folding and tokenizing (pure functions).

`fold(text)` maps text as written in the wild to one canonical spelling:
presentation forms and ligatures (NFKC), diacritics and tatweel removed,
alef/hamza-on-alef forms to bare alef, alef maqsura to ya, ta marbuta to ha,
Arabic-Indic digits to ASCII, bidi and zero-width controls removed, Latin
case-folded with accents dropped. Two spellings outlets disagree on are made
one (issue 15, kind F; table in tests/unit/test_normalize.py):
- hamza seats: ؤ and ئ fold to ئ, and ي (or ى) + ء to ئ, so الشؤون = الشئون,
  مسؤول = مسئول, المبادىء = المبادئ, شاطىء = شاطئ (Egyptian vs Gulf usage);
- a WRITTEN tanween alef (ًا or اً, the fathatan next to an alef) is dropped
  with its fathatan: نوويًا = نووي, مشيراً = مشير. An alef written without the
  mark is kept (the text gives no sign it is a tanween: عدنا stays عدنا).

`tokenize(text)` folds and splits into word tokens, keeping each token's
character span in the ORIGINAL text, so matches can be shown in context.
`stems(token)` lists the token with attached proclitics stripped
(و ف ب ك ل ال لل and their combinations), for clitic-insensitive matching.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from functools import lru_cache
from itertools import accumulate
from typing import NamedTuple

from monitor.text import rarity

# Characters dropped entirely: harakat, Quranic marks, tatweel, bidi and
# zero-width controls, soft hyphen. Dropping (not replacing by a space) keeps
# a word that carries them in one piece.
_DROP = set(range(0x064B, 0x0660)) | {0x0670, 0x0640} | set(range(0x06D6, 0x06EE))
_DROP |= set(range(0x200B, 0x2010)) | set(range(0x202A, 0x202F)) | set(range(0x2060, 0x2070))
_DROP |= {0xFEFF, 0x061C, 0x00AD}

_LETTER_MAP = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ى": "ي",
    "ی": "ي",
    "ې": "ي",  # Persian/Urdu ya forms seen in copy-pasted text
    "ة": "ه",
    "ۀ": "ه",
    "ە": "ه",
    "ک": "ك",
    "ڪ": "ك",
    "ؤ": "ئ",  # hamza seat: شؤون / شئون, مسؤول / مسئول
}
_FATHATAN = "\u064b"
_ALEF = "ا"
for _i in range(10):
    _LETTER_MAP[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _LETTER_MAP[chr(0x06F0 + _i)] = str(_i)  # Extended (Persian) digits


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """Fold one character to zero or more characters."""
    if ord(ch) in _DROP:
        return ""
    out = []
    # NFKC turns presentation forms (U+FB50-U+FEFF) and ligatures like ﻻ into letters.
    for c in unicodedata.normalize("NFKC", ch):
        if ord(c) in _DROP:
            continue
        c = _LETTER_MAP.get(c, c)
        if c.isascii() or not ("\u0600" <= c <= "\u06ff"):
            # Latin and others: case-fold and drop accents (é -> e). Arabic is
            # handled above: its hamza seats must not be decomposed away here.
            c = "".join(d for d in unicodedata.normalize("NFD", c.casefold()) if not unicodedata.combining(d))
        out.append(c)
    return "".join(out)


class _FoldTable(dict[int, str]):
    """``str.translate`` table of the per-character fold (filled as characters are met):
    exactly what ``fold_with_offsets`` does to each character, at C speed. Bounded: a text of
    many distinct characters starts it over."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = ch if ch.isascii() and not ch.isupper() else _fold_char(ch)
        if len(self) >= _FOLD_TABLE_MAX:
            self.clear()
        self[code] = folded
        return folded


_FOLD_TABLE_MAX = 8192
_FOLD_TABLE = _FoldTable()


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """Fold `text`; return the folded string and, per folded char, its index in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    tanween = _FATHATAN in text
    for i, ch in enumerate(text):
        f = ch if ch.isascii() and not ch.isupper() else _fold_char(ch)
        if tanween and ch == _ALEF and _FATHATAN in text[max(0, i - 1) : i + 2 : 2]:
            f = ""  # the alef that only carries a written tanween (ًا or اً)
        chars.append(f)
        origin.extend([i] * len(f))
    folded = "".join(chars)
    if "يء" in folded:  # ى/ي + ء is one hamza on a ya seat: مبادىء = مبادئ
        keep = [i for i in range(len(folded)) if not (folded[i] == "ي" and folded[i + 1 : i + 2] == "ء")]
        folded = folded.replace("يء", "ئ")
        origin = [origin[i] for i in keep]
    return folded, origin


# An alef written next to a fathatan (ًا or اً) in the original text: what the character loop of
# ``fold_with_offsets`` drops (its test reads the original neighbours, as these lookarounds do; it
# never looks past a text's first character, hence the lookbehind on the second branch).
_TANWEEN_ALEF = re.compile(f"(?<={_FATHATAN}){_ALEF}|(?<=[\\s\\S]){_ALEF}(?={_FATHATAN})")


def fold(text: str) -> str:
    """Fold `text` to canonical spelling (see module docstring).

    The same string as ``fold_with_offsets(text)[0]``, by one ``str.translate`` (folding
    character by character in Python cost ≈ 0.5 µs a character: issue 16); the alef of a
    written tanween is dropped first by a regular expression on the original text (the
    character loop took ≈ 1 ms on a short article with a tanween)."""
    if _FATHATAN in text:  # the alef next to a written tanween goes (its fathatan folds away)
        text = _TANWEEN_ALEF.sub("", text)
    folded = text.translate(_FOLD_TABLE)
    return folded.replace("يء", "ئ") if "يء" in folded else folded


# A token is a run of letters or digits (no underscore) after folding.
_WORD = re.compile(r"[^\W_]+")


class Token(NamedTuple):
    """A folded word and its span [start, end) in the original text.

    A NamedTuple, not a dataclass: articles have thousands of tokens and
    tuple construction is several times cheaper (this is the hot path).
    """

    text: str
    start: int
    end: int


# A run of the ORIGINAL text that can hold one or more words: word characters
# plus the marks and controls that folding drops from inside a word (harakat,
# tatweel, zero-width joiners, Latin combining accents).
_JOINERS = (
    "\u064b-\u065f\u0670\u0640\u06d6-\u06ed\u0300-\u036f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\u061c\u00ad"
)
_RUN = re.compile(rf"(?:[^\W_]|[{_JOINERS}])+")


# Entries per word cache (runs, stems, key terms, skeletons, matcher candidates). News
# vocabulary is Zipfian: 16k entries keep the words that repeat; 65k (and a 200k table)
# held ≈ 45 MB after 600 articles and kept growing with every pass (issue 16).
WORD_CACHE = 16_384


# A run of characters that each fold to one word character of this class: ASCII lowercase and
# digits, and the Arabic letters U+0621-U+063F and U+0641-U+064A (tatweel U+0640 and the marks from
# U+064B on are dropped by `fold`, so they are not here). Six of them fold to another letter
# (`_plain_fold`), the others to themselves (tests/unit/test_normalize.py checks every one
# against `_fold_char`).
_PLAIN_RUN = re.compile("[a-z0-9\u0621-\u063f\u0641-\u064a]+")


def _plain_fold(run: str) -> str:
    """``run.translate(_FOLD_TABLE)`` for a run `_PLAIN_RUN` matches whole."""
    folded = run.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    return folded.replace("ى", "ي").replace("ة", "ه").replace("ؤ", "ئ")


@lru_cache(maxsize=WORD_CACHE)
def _fold_run(run: str) -> str | tuple[tuple[str, int, int], ...]:
    """Fold one run; return its words with spans relative to the run.

    The common case, one word spanning the whole run, is returned as the bare
    folded word so the caller can skip the per-word loop.
    """
    if _PLAIN_RUN.fullmatch(run):
        # Most runs (97% of a news body's): ASCII lowercase, digits and Arabic letters (no marks,
        # no tatweel), whose fold is one letter each by the six replacements below: the translate
        # table and the word test cost twice as much (issue 16, ≈ 0.4 µs a new run).
        folded = _plain_fold(run)
        if "يء" not in folded:
            return folded
    if _FATHATAN not in run:
        # The common case without the per-character loop: the run folds to one word that
        # starts at its first character and ends at its end (what the loop below returns
        # as the bare word). A dropped first character, a hamza written as ي + ء (its
        # origin moves) or anything that is not one word takes the loop.
        folded = run.translate(_FOLD_TABLE)
        if folded and _FOLD_TABLE[ord(run[0])] and "يء" not in folded and _WORD.fullmatch(folded):
            return folded
    folded, origin = fold_with_offsets(run)
    # A word that ends the folded run ends the run: its span keeps the marks
    # and letters folding dropped at its end (نوويًا, not نووي).
    last = len(folded)
    words = tuple(
        (m.group(), origin[m.start()], len(run) if m.end() == last else origin[m.end() - 1] + 1)
        for m in _WORD.finditer(folded)
    )
    if len(words) == 1 and words[0][1] == 0 and words[0][2] == len(run):
        return words[0][0]
    return words


def tokenize(text: str) -> list[Token]:
    """Fold and split `text` into word tokens with original-text spans.

    Works run by run with a cache: news text repeats its words, so most runs
    are folded once per process (this is the matcher's hot path).
    """
    tokens: list[Token] = []
    append = tokens.append
    for m in _RUN.finditer(text):
        folded = _fold_run(m.group())
        if isinstance(folded, str):
            append(Token(folded, m.start(), m.end()))
            continue
        base = m.start()
        for word, start, end in folded:
            append(Token(word, base + start, base + end))
    return tokens


# words of a whitespace-separated piece of text (a word with its punctuation), per piece
_WORDS_OF_PIECE: dict[str, tuple[str, ...]] = {}
# A piece longer than this is not kept: the cache is bounded by entries, and a piece (unlike a run
# of letters) can be a whole body whose words are joined by punctuation ("كلمة،كلمة،..."), which
# kept ≈ 0.6 MB per 30,000-word body, up to 2 * WORD_CACHE of them (redteam16 #2,
# tests/unit/test_redteam16_caches.py). News words with their punctuation are far shorter; a
# longer piece is read again when it returns.
PIECE_CACHE_CHARS = 100


def words(text: str) -> list[str]:
    """The folded words of `text`, exactly [t.text for t in tokenize(text)], without spans.

    Read piece by piece (``str.split``: no run of letters holds a character it splits on, so
    the words of a text are those of its pieces in order), each piece's words cached: a
    regular expression over every character cost ≈ 0.2 ms of the ≈ 0.3 ms a body took (issue 16).
    """
    return words_of_pieces(text.split())


def words_of_pieces(pieces: Iterable[str]) -> list[str]:
    """``words(" ".join(pieces))`` for pieces that hold no whitespace (``str.split``'s)."""
    out: list[str] = []
    extend = out.extend
    get = _WORDS_OF_PIECE.get
    for piece in pieces:
        found = get(piece)
        if found is None:
            found = _piece_words(piece)
        extend(found)
    return out


def _piece_words(piece: str) -> tuple[str, ...]:
    """The words of one piece (its runs folded by `_fold_run`), cached (bounded: at most
    2 * WORD_CACHE pieces of at most PIECE_CACHE_CHARS characters)."""
    # a piece of letters and digits only is one run (``_RUN`` matches every such character)
    runs = [piece] if piece.isalnum() else _RUN.findall(piece)
    if len(runs) == 1:  # most pieces: one run (a word, maybe with punctuation around it)
        folded = _fold_run.__wrapped__(runs[0])  # this cache holds it: not _fold_run's too
        found = (folded,) if isinstance(folded, str) else tuple(w for w, _, _ in folded)
    else:
        out: list[str] = []
        for run in runs:
            folded = _fold_run(run)
            if isinstance(folded, str):
                out.append(folded)
            else:
                out.extend(w for w, _, _ in folded)
        found = tuple(out)
    if len(piece) > PIECE_CACHE_CHARS:  # not kept: bounded in size too (see PIECE_CACHE_CHARS)
        return found
    if len(_WORDS_OF_PIECE) >= 2 * WORD_CACHE:  # bounded: start over, the frequent words return first
        _WORDS_OF_PIECE.clear()
    _WORDS_OF_PIECE[piece] = found
    return found


def token_spans(text: str, wanted: Iterable[int]) -> dict[int, tuple[int, int]]:
    """The spans of some of `text`'s tokens: index -> ``(tokenize(text)[i].start, tokenize(text)[i].end)``.

    For the few tokens a match reports. The text is cut at single spaces (``str.split(" ")``:
    segment k then starts at the length of the segments before it plus k); each segment's word
    count is its cached words' (a segment holding other whitespace, a paragraph break, is read
    by `words`), summed at C speed; only the wanted tokens' segments are tokenized
    (``tokenize`` of a whole body cost ≈ 0.9 ms against ≈ 0.3 ms for ``words``: issue 16).
    An index past the text's last token is left out."""
    need = sorted(set(wanted))
    if not need:
        return {}
    segments = text.split(" ")
    if len(need) * 8 > len(segments):  # hits on many words (thousands of terms): tokenize it all
        tokens = tokenize(text)
        return {i: (tokens[i].start, tokens[i].end) for i in need if i < len(tokens)}
    found = list(map(_WORDS_OF_PIECE.get, segments))
    if None in found:
        counts = [len(f) if f is not None else len(words(g)) for g, f in zip(segments, found, strict=True)]
    else:
        counts = list(map(len, found))  # type: ignore[arg-type]  # no None in it
    firsts = list(accumulate(counts, initial=0))  # firsts[k]: index of segment k's first word
    starts = list(accumulate(map(len, segments), initial=0))  # + k: where segment k starts
    out: dict[int, tuple[int, int]] = {}
    for i in need:
        if i >= firsts[-1]:
            break
        k = bisect_right(firsts, i) - 1  # the last segment starting at or before word i holds it
        token = tokenize(segments[k])[i - firsts[k]]
        start = starts[k] + k
        out[i] = (start + token.start, start + token.end)
    return out


def is_arabic(word: str) -> bool:
    """True if the (folded) word starts with an Arabic letter."""
    return bool(word) and "\u0600" <= word[0] <= "\u06ff"


# Proclitics, longest first within each slot. A conjunction (و/ف) may precede a
# preposition (ب/ك/ل), which may precede the article (ال); ل + ال is written لل.
_CONJ = ("و", "ف")
_PREP = ("ب", "ك", "ل")
_MIN_STEM = 2  # never strip down to fewer letters: too many false hits
# Letters `stems` strips at most: each stem is token[k:] with k <= CLITICS_MAX (و/ف 1, then ب/ك/ل 1
# or لل 2, then ال 2: وللالعاب gives عاب).
CLITICS_MAX = 5


@lru_cache(maxsize=WORD_CACHE)
def stems(token: str) -> tuple[str, ...]:
    """Return `token` and every reading of it with proclitics stripped.

    The article ال is stripped too, so a stem compares with a term's core
    (see `core`). Only Arabic tokens are stripped.
    """
    if not is_arabic(token):
        return (token,)
    out = [token]
    heads = [("", token)]
    for conj in _CONJ:
        if token.startswith(conj):
            heads.append((conj, token[1:]))
    with_prep = []
    for _, rest in heads:
        article = rest.startswith("لل")
        if article and len(rest) - 2 >= _MIN_STEM:
            with_prep.append(rest[2:])  # لل = ل + ال: already without the article
        for prep in _PREP:
            if rest.startswith(prep) and not (article and prep == "ل" and article_reading_wins(rest)):
                with_prep.append(rest[1:])
    candidates = [rest for _, rest in heads[1:]] + with_prep
    for cand in [token] + candidates:
        if cand.startswith("ال") and len(cand) - 2 >= _MIN_STEM:
            candidates.append(cand[2:])
    for cand in candidates:
        if len(cand) >= _MIN_STEM and cand not in out:
            out.append(cand)
    return tuple(out)


def article_reading_wins(word: str) -> bool:
    """True when ``word`` (folded, written لل + rest) reads as ل + ال + rest, not ل + a word in ل.

    لل is ل + the article (للحج «for the Hajj») or ل + a word that starts with ل (للبنان «for
    Lebanon», للجنة «for the committee»). The word-rarity table (text/rarity.py) decides: the ل
    reading is refused when ال + rest (الحج, 69 articles) is in more articles than the word in ل
    (لحج, the Yemeni governorate, 40). Counted on the corpus (redteam15 #10): 525 table words in
    ل have a لل spelling there; 480 are refused, nearly all ل + another word already (لعمل,
    لرئيس), 5 a word of its own (اللازمة, mostly للأزمة «for the crisis»; الذين; اللحاق: 7
    articles print للحاق; اللباس, اللوحي: 1 each); the 45 kept include لبنان (113 against بنان 11),
    لجنة (571 against جنة 122), لاعب (375 against اعب 36), لقاء, لندن and ليبيا."""
    rest = word[2:]
    return rarity.articles("ال" + rest) > rarity.articles(word[1:])


def core(term_token: str) -> str:
    """A term token without its article: what `stems` of a text token compare to."""
    if is_arabic(term_token) and term_token.startswith("ال") and len(term_token) - 2 >= _MIN_STEM:
        return term_token[2:]
    return term_token
