"""Red team 16: the issue-16 caches under a hostile feed (memory), and what held.

Breaks found (both fixed; each row of MEMORY fails without its fix, checked on main 9463e09):
1. ``extract.article._norm`` was an ``lru_cache(1024)`` over every text it saw, whole paragraphs
   (``extract`` compares each paragraph with the title) and an ``<h1>`` left open around the
   article included: 1,024 pages of one long paragraph kept up to the page budget (2,000,000
   characters) each. Only texts of at most NORM_CACHE_CHARS characters are kept now.
2. ``text.normalize``'s per-piece cache (``words`` by ``str.split`` pieces) was bounded by
   entries only; a piece, unlike the run of letters the old cache held, can be a whole body whose
   words are joined by punctuation and no space: ≈ 0.6 MB kept per 30,000-word body, up to 32,768
   bodies. Only pieces of at most PIECE_CACHE_CHARS characters are kept now.

Public reports of the same kind (a cache bounded by entries, not size, growing with its inputs),
each rebuilt below as a page or body of our own:
https://github.com/adbar/trafilatura/issues/216 (≈ 1 MB more per page extracted, OOM-killed
containers), https://github.com/adbar/htmldate/issues/56 (its lru_caches of page texts, cleared
by hand every 1,000 documents), https://github.com/presslabs/gitfs/issues/146 ("lru_cache needs
to be limited by size, not by the numbers of items").

What held (HELD rows, pass on main too): words / tokenize / token_spans / FoldedText agree on text
with format and space characters inside or between words (ZWNJ, NBSP, U+2028, U+001C-U+001F,
tatweel, presentation forms that fold to a space): https://github.com/astral-sh/ruff/issues/19845
(str.split splits at U+001C-U+001F), https://github.com/ufal/udpipe/issues/103 (U+2028 missed as a
line break), https://github.com/kaldi-asr/kaldi/pull/2455 (NBSP inside Arabic words).
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from pathlib import Path

import pytest

from monitor.extract import article
from monitor.extract.article import extract
from monitor.text import normalize
from monitor.text.folded import FoldedText
from monitor.text.normalize import token_spans, tokenize, words

pytestmark = pytest.mark.unit

MONITOR = Path(article.__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "pages" / "cnn-arabic-2013.expected.txt"
WORDS = FIXTURE.read_text(encoding="utf-8").split()


def _words(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(WORDS) for _ in range(n)]


def _kept(run, count: int) -> int:
    """Bytes allocated by monitor's own code (the innermost frame in monitor/) still held after
    `run(i)` for i in range(count), the first two runs warming up. trafilatura's own caches
    (``trim``, ``line_processing``: https://github.com/adbar/htmldate/issues/56) are not ours."""
    run(-1)
    run(-2)
    gc.collect()
    tracemalloc.start()
    try:
        ours = [tracemalloc.Filter(True, f"{MONITOR}/*")]
        before = tracemalloc.take_snapshot().filter_traces(ours)
        for i in range(count):
            run(i)
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces(ours)
        return sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    finally:
        tracemalloc.stop()


def _page(i: int, kind: str) -> str:
    ws = _words(i, 20_000)
    para = " ".join(ws)
    head = f"<html><head><title>{' '.join(ws[:6])}</title></head><body><article><h1>{' '.join(ws[:8])}"
    if kind == "paragraph":
        return f"{head}</h1><p>{para}</p></article></body></html>"
    return f"{head}<br>{para}</article></body></html>"  # the <h1> is never closed: it holds the article


def _extract(kind: str):
    return lambda i: extract(_page(i, kind), f"https://example.org/{i}")


def _body(sep: str):
    return lambda i: words(sep.join(_words(1000 + i, 30_000)))


# (variant, what is run per distinct input, inputs): each input is ≈ 0.3-0.6 MB of text
MEMORY = [
    ("extract: a page of one long paragraph (#1)", _extract("paragraph"), 12),
    ("extract: an <h1> never closed around the article (#1)", _extract("open h1"), 12),
    ("words: a body joined by Arabic commas, no space (#2)", _body("،"), 10),
    ("words: a body joined by full stops (#2)", _body("."), 10),
    ("words: a body joined by hyphens (#2)", _body("-"), 10),
    ("words: a body joined by slashes (#2)", _body("/"), 10),
    ("words: a body joined by spaces (held)", _body(" "), 10),
]


@pytest.mark.parametrize(("variant", "run", "count"), MEMORY, ids=[m[0] for m in MEMORY])
def test_distinct_long_texts_are_not_kept(variant, run, count):
    kept = _kept(run, count)
    # on main 9463e09: 2.4-9.6 MB here (0.24-0.8 MB per input); with the fixes well under 1 MB
    assert kept < 1.5 * 2**20, (variant, kept)


def test_short_texts_are_still_cached():
    # the speed-up kept: a label-sized text is normalized once, a piece-sized word once
    label = " ".join(WORDS[:5])
    article._norm(label)
    hits = article._norm_short.cache_info().hits
    article._norm(label)
    assert article._norm_short.cache_info().hits == hits + 1
    words(WORDS[7])
    assert WORDS[7] in normalize._WORDS_OF_PIECE


# (variant, a character put inside a word or between two words)
ODD = [
    ("ZWNJ", "\u200c"),
    ("ZWJ", "\u200d"),
    ("NBSP", "\u00a0"),
    ("line separator U+2028", "\u2028"),
    ("paragraph separator U+2029", "\u2029"),
    ("information separator U+001C", "\x1c"),
    ("unit separator U+001F", "\x1f"),
    ("next line U+0085", "\x85"),
    ("tatweel", "\u0640"),
    ("fathatan isolated form (folds to a space)", "\ufe70"),
    ("shadda-dammatan ligature (folds to a space)", "\ufc5e"),
    ("Mongolian vowel separator U+180E", "\u180e"),
    ("BOM inside text", "\ufeff"),
    ("two spaces", "  "),
    ("tab and newline", "\t\n"),
]


@pytest.mark.parametrize(("variant", "odd"), ODD, ids=[o[0] for o in ODD])
@pytest.mark.parametrize("where", ["inside a word", "between words"])
def test_words_and_spans_agree_with_tokenize(variant, odd, where):
    ws = _words(7, 40)
    if where == "inside a word":
        ws = [w[:1] + odd + w[1:] if k % 3 == 0 else w for k, w in enumerate(ws)]
        text = " ".join(ws)
    else:
        text = odd.join(ws)
    for warm in (False, True):
        if not warm:
            normalize._WORDS_OF_PIECE.clear()
        tokens = tokenize(text)
        assert words(text) == [t.text for t in tokens], variant
        wanted = list(range(0, len(tokens) + 2, 3))
        assert token_spans(text, wanted) == {i: (tokens[i].start, tokens[i].end) for i in wanted if i < len(tokens)}
        folded = FoldedText.of(text[:50], text)
        assert folded.body == tuple(t.text for t in tokens), variant
