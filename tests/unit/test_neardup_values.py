"""Near-duplicate fingerprints keep their values: shingles and band keys are stored in the index
(neardup_entries, story keys), so a faster computation must give the same bytes (issue 16).

The reference below is the first implementation (numpy.unique of the crc32 shingle hashes, every
hash shifted before the minimum, band keys mixed row by row); GOLDEN is the sha256 of the
fingerprints main 7885e17 gave for the fixture articles (computed with it before this change).
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np
import pytest

from monitor.dedup import neardup
from monitor.text.folded import FoldedText
from tests.support import corpus_pages as cp

pytestmark = pytest.mark.unit

ARTICLES = [a for day in cp.DAYS for a in cp.saudinewsnet_articles(day, limit=12) if a.get("title")]
GOLDEN = "f793f33b54bd02b7d4ebe9d49c250915f063eb017c3a47632d653851a375f384"


def _reference(tokens: list[str] | tuple[str, ...]) -> tuple[bytes, tuple[int, ...]]:
    p = neardup._draw_params()
    if not tokens:
        return b"", ()
    grams = [" ".join(tokens[i : i + 3]) for i in range(max(1, len(tokens) - 2))]
    shingles = np.unique(np.array([zlib.crc32(g.encode()) for g in grams], dtype=np.uint32))
    if shingles.size < neardup.MIN_SHINGLES:
        return shingles.astype("<u4").tobytes(), ()
    with np.errstate(over="ignore"):
        sig = ((p.a[None, :] * shingles.astype(np.uint64)[:, None] + p.b[None, :]) >> np.uint64(32)).min(axis=0)
        rows, key = sig.reshape(neardup.BANDS, neardup.ROWS), p.band_salt.copy()
        for r in range(neardup.ROWS):
            key = (key ^ rows[:, r]) * np.uint64(0x9E3779B97F4A7C15)
            key ^= key >> np.uint64(29)
    return shingles.astype("<u4").tobytes(), tuple(int(v) for v in (key & np.uint64(2**63 - 1)))


def _token_lists() -> list[tuple[str, ...]]:
    real = [neardup.article_words(FoldedText.of(a["title"], a["content"])) for a in ARTICLES]
    words = real[0]
    # edges: no word, 1-4 words (one shingle under 3), repeats (duplicate shingles), 20-21 shingles
    edges = [(), words[:1], words[:2], words[:3], words[:4], words[:3] * 9, words[:22], words[:23]]
    return real + edges


def test_hash_family_constants_are_the_seeded_draw():
    drawn, written = neardup._draw_params(), neardup._params()
    for got, want in ((written.a, drawn.a), (written.b, drawn.b), (written.band_salt, drawn.band_salt)):
        assert got.dtype == want.dtype == np.uint64
        assert got.tolist() == want.tolist()


@pytest.mark.parametrize("tokens", _token_lists(), ids=lambda t: f"{len(t)}w")
def test_fingerprint_is_the_reference(tokens):
    fp = neardup.fingerprint_words(tokens)
    assert (fp.shingle_bytes(), fp.bands) == _reference(tokens)
    assert fp.shingles.dtype == np.uint32 and all(type(b) is int for b in fp.bands)
    assert neardup.fingerprint_words(list(tokens)).bands == fp.bands  # a list as a tuple


def test_fingerprints_of_the_fixture_articles_are_the_stored_ones():
    h = hashlib.sha256()
    for a in ARTICLES:
        fp = neardup.fingerprint(neardup.article_text(a["title"], a["content"]))
        h.update(fp.shingle_bytes() + repr(fp.bands).encode())
    assert h.hexdigest() == GOLDEN
