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
    """The hash family: numpy (≈ 80 ms and ≈ 15 MB to import) is loaded only by a process that
    fingerprints an article, not by an idle pass (issue 16). Its values are constants
    (``_A``, ``_B``, ``_BAND_SALT``): what ``_draw_params`` draws from SEED, written out so
    that numpy.random is neither imported nor run (≈ 15 ms per process); a test checks them."""
    import numpy as np

    return _Params(np.array(_A, dtype=np.uint64), np.array(_B, dtype=np.uint64), np.array(_BAND_SALT, dtype=np.uint64))


def _draw_params() -> _Params:
    """The hash family drawn from SEED (what ``_A``, ``_B`` and ``_BAND_SALT`` hold)."""
    import numpy as np

    rng = np.random.default_rng(SEED)
    # multiply-shift hashing: h(x) = ((a*x + b) mod 2^64) >> 32, a odd (a universal family)
    a = (rng.integers(1, 2**63 - 1, NUM_PERM, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)
    b = rng.integers(0, 2**63 - 1, NUM_PERM, dtype=np.uint64)
    return _Params(a, b, rng.integers(0, 2**63 - 1, BANDS, dtype=np.uint64))


# fmt: off
_A = (  # NUM_PERM odd multipliers
    0xF1C73E795AFA9513, 0x9D1F183AFE75C96F, 0x08F76214DD8A3995, 0xD1A461263375753D, 0xD12557DBFB75249D,
    0x277577E7B266CA11, 0x34E09909B341C8C1, 0xDC517BD210B391B3, 0x0203E5FE91B35F41, 0x975053F247F4F01D,
    0xF1234012A448FD09, 0x3F75B9E4942D642F, 0x463865319BC07DBF, 0x851F06B1CBD32CED, 0x7ABA9ED0CBB1C10F,
    0x5470FECDFB53D99F, 0x2819F642C832AAB1, 0x94D2E388FBE009F7, 0xB46E8E68941CC6A7, 0xD34E07DFA135F415,
    0xE0EFFF16D67D2791, 0x8B63A80706E19B1F, 0x684463BC40E0A7D5, 0x20FD5F69565606E9, 0xD13355CF9BA83EBF,
    0x8F1BA39EC869E3DD, 0x5BBB5FACFFECAD2B, 0xE33193095ECCEFE3, 0x8E44B1767C6F2889, 0xAC72AB149BFBADCD,
    0x477FEB796B772207, 0x4BE2CD4503E53C9F, 0xC7F251777DA68BCB, 0x72C00CDE45123291, 0x2020D008C97E0763,
    0xB4133D339CEE4DDD, 0x41C6218DD1996B6D, 0xEECE6F53566D58FB, 0xBD3FBD98BDA97477, 0x9D08F63221678CFB,
    0xDFF890F2B774E913, 0xF008D2DD7868FF3D, 0xF00400E68CA763E7, 0xC7870897E0D3D883, 0x2AB1661691E9EAEF,
    0xE86D150CE19B174B, 0xD572EADD68FD815D, 0xF6B514B75E6E0679, 0x0A6EC32D14473DB1, 0x05D541A5D50429C1,
    0x2938D7255D36EE69, 0xAE209E47F7B95617, 0x91B25D28A810E7A7, 0x9A392E1E91164007, 0x2A32236FAA68956B,
    0x1CEA729D81ABBA1D, 0x5815B0CC96065D2D, 0x4EA780061B93AE25, 0x852910ACA51CDE5B, 0x00BBC6B4E010D509,
    0xB619922D22C382BF, 0x151DD580B44CBB37, 0x3F438D4F8935DBB3, 0xCAECC104026A9CA9, 0x3C52C49AE422415F,
    0x5865D7861E869AA5, 0x14694CB8FC4944B3, 0xE9CA64224853F961, 0xC24231B1BE17B619, 0x2D794686588D56E5,
    0xA289DB0780CA9487, 0x9175F7F36A57D9B1, 0xFA916880F2F02583, 0x2CA1CC899E61F7C9, 0x35FB642282D9DAD7,
    0x754AA27AB528BEA5, 0x9BF243B30CFC2C8F, 0x45149733CD9D9167, 0xF1F715D86121BF0F, 0xF0762476BA93C4FD,
    0x02A33CBD724E3A93, 0x7DB8DE55C900E037, 0x6CF69DC1913855CB, 0xB89F19BC3AC432E1, 0xA02FA4445B37E4EF,
    0x17E912336A44549D, 0xBC0A3D543092C6B1, 0x3AEF70B062D97E6D, 0x3B13E2959DC28F63, 0x756DE13C51252F51,
    0x410AF8BBEB52BC5D, 0x263651BDF072E1A7, 0xC9DDACCD66A744D9, 0x86EBA0D09CBB6FBF, 0x2677B149F63F2FCF,
    0x0389FE4A91F353B5, 0x3034ABA0AF9A35AB, 0x0670D34CD28DD371, 0x521981B658641655, 0xF9E35366BFCCA2EF,
    0x9DA99B2287D3EA57, 0xF6B11BBE401CC8A7, 0x008627910C290ACB, 0x4BD8EC55AEEC4689, 0x60D7247BB2B6C433,
    0x56FEAD720476F737, 0xE2F2A2D61CA40F07, 0x32ADF2940FB0974F, 0x09C56F466675D455, 0x1AB668AD96F7C7EB,
    0xF16459C361668F9F, 0x1A0E409ACA5AC19B, 0xD8C9113A9103C463, 0x918B5F280FB41351, 0x3C05FA27EECD9693,
    0x955BAFFACEDF21B7, 0x5D4302C1ED73C16B, 0x5BD9B2FDF4E4CD61, 0x4D02DBB9BB7A969B, 0x1346958BCFEC7D61,
    0x62D02242C4FDCADF, 0xA4754CC8D4DFD83B, 0xF6B176EF52AF0C7B, 0xD1CFAA55399366EF, 0x9294DB802DA54C5F,
    0x61C1CC74F2507107,
)
_B = (  # NUM_PERM offsets
    0x25EE45D1556ADDFC, 0x11B6777B6AA5AF0C, 0x61F8B92466C8248B, 0x7595FB3BB8BDE1A1, 0x23396A4592913E7F,
    0x272156EC56CB4C19, 0x151647E369E2AA90, 0x5C8713B5DCCA6B23, 0x2C7E53EB1C0CCF24, 0x1EC8F068EC6CE368,
    0x0F281B8C6A86CEB6, 0x283784E65CDD92A4, 0x7AA2FF5B8F7D184B, 0x32AEFAE021C32CD1, 0x161F3EC739216EF3,
    0x50D40D082B7C34D0, 0x670A62FE3ADA732D, 0x7C4E301403B7DED9, 0x232766A4DCF90B7F, 0x25081EEB3F4BB144,
    0x3DBF32055710687B, 0x281C4E5F35FC6875, 0x2799EEA51EB44A99, 0x51952C3C2D5B7438, 0x738045B1A4B6471A,
    0x132CD35E8F4DEE53, 0x6221D3339F73BDE2, 0x3EDEA1320C085E80, 0x2ECE0F878E2978C7, 0x2290E5CB27BADF96,
    0x6DB8321E89E8FF73, 0x50177D2E54EF76C0, 0x259579FCB9BE9870, 0x201A73549DB89EC5, 0x36E5605BBC8DBF1D,
    0x575CAD76BA0CB6AD, 0x123FFCDA8FBF2DD3, 0x718BA2FEA1E79A13, 0x6A38D26C3A13634D, 0x2D53CC6932D96ACC,
    0x2DDABCD8EDCB889A, 0x196225A8EB817CFB, 0x43A8463A35B1E978, 0x4F26E059E1987703, 0x28484727FB499417,
    0x28D209B6A3B53950, 0x25302F238D42E5A4, 0x79BC146B02046F18, 0x7887E1BA46C68146, 0x72867D7C453D6694,
    0x23EE0805BBC27236, 0x77249EAB282D1686, 0x4DC6EF945785BD29, 0x567F0A77C1BC1DCD, 0x44DD05FEE21D9744,
    0x6249B98ACFCF5153, 0x2D12E09904E7042C, 0x687685BCC8F1F783, 0x3DDDD6B096ABF307, 0x68E9CB0F49E1B167,
    0x7AC9C066CAEABD80, 0x2BAAC51FA9657CB3, 0x406339F222529B91, 0x6E3243B434BEC21D, 0x0AF3CCBDCBE525D1,
    0x6DFF948945D565C5, 0x0AC9DD1A65CFB49D, 0x2031EA033A347FD0, 0x6895669E01A61293, 0x7A3B86F19B92943F,
    0x359CC376280BDB1C, 0x721B1D3FC2A4731B, 0x4DBC289E3DDF5340, 0x2FB0E1A9A24576E6, 0x0D5F6C9605E4DC4F,
    0x150F6D98F822CAA1, 0x5287DF8739D1E744, 0x7137D06768DD8F42, 0x3BCE929B980BC9F0, 0x6D6A9C7AD3856736,
    0x774C02E9BD9FF952, 0x7E239FC8A10EC258, 0x5543C8BCB4EBC097, 0x540F236A728DDE27, 0x7F0032B34EE878EC,
    0x7F29933053A69F91, 0x0265BA0A47DAB668, 0x0D2424C24AEB7CA8, 0x0174DCCF2E8D32DC, 0x3E3AF0588147E50F,
    0x21B95F7229DA6103, 0x3EE0898186DD6F87, 0x3B9CF32C4A2494F9, 0x5FA31DFF8229B419, 0x1EF53A2C90F7BEAE,
    0x449AED9DE492C0C4, 0x6E5D681337D1F7CE, 0x5734CDC5996F191A, 0x6F5574FAA9E15D43, 0x45888DCE6E5701AA,
    0x5BEA04F616746FF3, 0x7C506DB53EA42B18, 0x1391E214D3BEAEA8, 0x3CDB78B05839AE12, 0x7CF9F4E7AE47256B,
    0x3FAE8BF7322373B5, 0x115AF873DEED2247, 0x62390B12F776C5AC, 0x14F5FC5E6228483E, 0x3DB3468FFB3E4541,
    0x00EF55E2EED20850, 0x78EE680DC5EFEC12, 0x75CD4DB26E5C8365, 0x0CC8B7B1E23B451E, 0x2B3FFF9F5F3DDF83,
    0x62613878286383B6, 0x555C3925401C00C0, 0x7AA797CDCE65E1CA, 0x5B28D190487E1AEC, 0x10B0BBF665C23A72,
    0x2FD5B7F6009EF164, 0x1DC2C95305003731, 0x35E83B5476E51DEF, 0x63D7EA4A6439B3C1, 0x525C8CA98D8FECE0,
    0x37C7B0DB2B9B07B1,
)
_BAND_SALT = (  # BANDS salts
    0x3F9B541573612B8E, 0x3D97D35DD33BA03B, 0x282E0C12D3A1D7CE, 0x65929F7C5476F294, 0x16703496E71C01A1,
    0x0DA8C2D6006077E3, 0x1593E1A9D5F4F3CD, 0x64E83B5AF3375309, 0x3168E5CB144FCD7C, 0x00CFAC0E7A9A4A0C,
    0x6A19F572A6BC541E, 0x2E8D616953EDB621, 0x668610EBF39AD281, 0x67C1D56C4B10BF9A, 0x0B2C3FD911F95F29,
    0x3B89ED9C23506DEC, 0x44F977B3C6951CE2, 0x5BA61CBEC8A6699D, 0x01F6185C3B2C87BE, 0x241967B7789A8230,
    0x2CBF075FF501ED25, 0x597DAD41ACC2DF05, 0x4FF0329ED3094477, 0x234026BAA113044A, 0x35487E42B3B631C0,
    0x5403BA1806D54087, 0x03D149214D2E9B13, 0x31DA93694D7DEA48, 0x4641A5E36F8E697C, 0x49DFF4139654F767,
    0x47B6EE6B7E97C7BE, 0x615809F0B6F73F97, 0x1F5CC135A51A6C45, 0x3E81C6C85F9C71BA, 0x68F68EE439413B40,
    0x3B24CF66AD0F8C83, 0x7DD6F787D7405158, 0x006FB672D153A4BC, 0x4645CB234F3E0CE1, 0x1FE47F309C2F9B5B,
    0x19E8FE2C071A6B9A, 0x73A2908D2E25FD9A,
)
# fmt: on


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
