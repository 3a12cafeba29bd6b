"""Near-duplicate fingerprints (pure): word-3-shingles, MinHash, LSH band keys.

Two articles are copies when the Jaccard similarity of their word-3-shingle
sets (over folded text, see ``monitor.text.normalize``) is at least 0.5.
Finding them among many: a MinHash signature of NUM_PERM values is cut into
BANDS bands of ROWS values; two articles sharing any band key are candidates,
and a candidate is confirmed with the exact Jaccard of the shingle sets.

With ROWS=3, BANDS=42 the chance that a pair becomes a candidate is
1-(1-J^3)^42: 0.996 at J=0.5, 0.29 at J=0.2, 0.0003 at J=0.02 (the S-curve
crosses 1/2 near J=0.25), so almost every true copy is a candidate while
unrelated articles rarely are. Shingles are hashed to 32 bits (crc32 of the
UTF-8 words): over a few hundred shingles per article a collision changes a
Jaccard value by well under 0.01.

Implemented here with numpy rather than ``datasketch``: the whole thing is
~100 lines, and the persistent index lives in our own store tables (SQLite
and PostgreSQL), which datasketch's storage back ends (Redis, Cassandra) do
not cover.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from monitor.text.folded import FoldedText
from monitor.text.normalize import words as text_words

if TYPE_CHECKING:
    import numpy as np

SHINGLE = 3
ROWS = 3
BANDS = 42
NUM_PERM = ROWS * BANDS
SEED = 20150721  # fixed forever: band keys are persisted
COPY_JACCARD = 0.5
MIN_SHINGLES = 20  # shorter texts (a bare headline) are not indexed: "أسعار النفط" daily is no copy


@dataclass(frozen=True)
class _Params:
    a: np.ndarray  # NUM_PERM odd uint64 multipliers
    b: np.ndarray  # NUM_PERM uint64 offsets
    band_salt: np.ndarray  # BANDS uint64 salts


@cache
def _params() -> _Params:
    """The hash family, drawn from SEED on first use: numpy (≈ 0.1-0.2 s and ≈ 15 MB to import) is
    loaded only by a process that fingerprints an article, not by an idle pass (issue 16)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    # multiply-shift hashing: h(x) = ((a*x + b) mod 2^64) >> 32, a odd (a universal family)
    a = (rng.integers(1, 2**63 - 1, NUM_PERM, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, NUM_PERM, dtype=np.uint64)
    return _Params(a, b, rng.integers(0, 2**63 - 1, BANDS, dtype=np.uint64))


@dataclass(frozen=True)
class Fingerprint:
    """What the index keeps of one article."""

    shingles: np.ndarray  # sorted unique uint32 shingle hashes
    bands: tuple[int, ...]  # BANDS signed 63-bit band keys (empty when no shingles)

    def shingle_bytes(self) -> bytes:
        return self.shingles.astype("<u4").tobytes()


def words(text: str) -> list[str]:
    """Folded word tokens (the text the ground truth is defined on)."""
    return text_words(text)


def shingle_hashes(tokens: Sequence[str], k: int = SHINGLE) -> np.ndarray:
    """Sorted unique 32-bit hashes of the word k-shingles (one shingle if shorter).

    Sorted in place and kept where a value differs from the one before: ``np.unique``'s answer
    without its general-case overhead (≈ 0.27 -> 0.18 ms per article with the grams by ``zip``)."""
    import numpy as np

    if not tokens:
        return np.zeros(0, dtype=np.uint32)
    if len(tokens) > k:
        grams: Iterable[str] = map(" ".join, zip(*(tokens[i:] for i in range(k))))
    else:
        grams = [" ".join(tokens[:k])]
    hashes = np.fromiter(map(zlib.crc32, map(str.encode, grams)), dtype=np.uint32)
    hashes.sort()
    keep = np.empty(hashes.size, dtype=bool)
    keep[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=keep[1:])
    return hashes[keep]


def signature(shingles: np.ndarray) -> np.ndarray:
    """MinHash signature (NUM_PERM uint64 values) of a non-empty shingle hash set.

    ``min((a*x + b) mod 2^64 >> 32)`` is ``min((a*x + b) mod 2^64) >> 32`` (the shift keeps
    order), so only the NUM_PERM minima are shifted; the products are summed in place."""
    import numpy as np

    p = _params()
    x = shingles.astype(np.uint64)[:, None]
    with np.errstate(over="ignore"):
        hashed = np.multiply(p.a[None, :], x)
        np.add(hashed, p.b[None, :], out=hashed)
    sig: np.ndarray = hashed.min(axis=0) >> np.uint64(32)
    return sig


def band_keys(sig: np.ndarray) -> tuple[int, ...]:
    """One key per band: the band's ROWS values mixed with the band's salt, as signed 63-bit ints."""
    import numpy as np

    rows = sig.reshape(BANDS, ROWS)
    key = _params().band_salt.copy()
    mult, shift = np.uint64(0x9E3779B97F4A7C15), np.uint64(29)
    with np.errstate(over="ignore"):
        for r in range(ROWS):
            key ^= rows[:, r]
            key *= mult
            key ^= key >> shift
    key &= np.uint64(2**63 - 1)
    return tuple(key.tolist())


def fingerprint(text: str) -> Fingerprint:
    """Fingerprint an article's text (its body; see ``article_text``).

    Under MIN_SHINGLES shingles there are no band keys: too little text to call two
    articles copies, so such an article is never indexed nor found as a copy.
    """
    return fingerprint_words(words(text))


def fingerprint_words(tokens: Sequence[str]) -> Fingerprint:
    """``fingerprint`` of a text given as its folded words (e.g. ``article_words``)."""
    shingles = shingle_hashes(tokens)
    if shingles.size < MIN_SHINGLES:
        return Fingerprint(shingles, ())
    return Fingerprint(shingles, band_keys(signature(shingles)))


def article_text(title: str, body: str) -> str:
    """The text fingerprinted: the body; the title too when the body is too short to judge."""
    return body if len(body.split()) >= 20 else f"{title}\n{body}"


def article_words(folded: FoldedText) -> tuple[str, ...]:
    """The folded words of ``article_text(title, body)``, from the article's shared FoldedText."""
    return folded.body if folded.body_pieces >= 20 else folded.text_words()


def shingles_from_bytes(blob: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(blob, dtype="<u4").astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted unique hash arrays."""
    if a.size == 0 or b.size == 0:
        return 0.0
    import numpy as np

    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def best_copy(
    fp: Fingerprint, candidates: list[tuple[int, np.ndarray]], threshold: float = COPY_JACCARD
) -> tuple[int, float] | None:
    """The candidate (id, jaccard) most similar to ``fp`` at or above threshold, if any."""
    best: tuple[int, float] | None = None
    for cid, shingles in candidates:
        j = jaccard(fp.shingles, shingles)
        if j >= threshold and (best is None or j > best[1] or (j == best[1] and cid < best[0])):
            best = (cid, j)
    return best
