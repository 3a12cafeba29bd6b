"""The corpus's word-rarity table, ``text/df.txt`` (pure lookups over shipped data).

``document_frequency()`` -> (number of articles, {folded word: articles holding it}). The table
was built by bench/make_df.py from the SaudiNewsNet corpus (6,340 articles of three days in July
2015, 11 outlets, CC BY-NC-SA 4.0): every folded word of three letters or more without its
article (``table_key``) found in at least 8 articles. Story grouping weighs key terms by it
(dedup/stories.py), config advice tells common words by it (config/advice.py), and the matcher
asks it which word forms a term reaches (text/variants.py: a noun's nisba; text/normalize.py:
لل read as ل + a word in ل). Shipped with the package (pyproject package-data): a missing table
is an install error, not a silent "every word is rare".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

DF_PATH = Path(__file__).resolve().parent / "df.txt"
TABLE_MIN_LETTERS = 3  # make_df keeps the article on a word that would be shorter without it


@lru_cache(maxsize=1)
def document_frequency() -> tuple[int, dict[str, int]]:
    """(number of articles, folded word -> articles it is in) of the word-rarity table."""
    n, table = 1, {}
    for line in DF_PATH.read_text(encoding="utf-8").splitlines():
        term, _, count = line.partition("\t")
        if term == "#docs":
            n = int(count)
        elif term:
            table[term] = int(count)
    return n, table


def table_key(word: str) -> str:
    """The table's entry for a folded word written with the article ال: the word without it
    when TABLE_MIN_LETTERS or more letters remain (الحج stays الحج, البنان is بنان)."""
    if word.startswith("ال") and len(word) - 2 >= TABLE_MIN_LETTERS:
        return word[2:]
    return word


def articles(word: str) -> int:
    """Articles of the table holding the folded word (its ``table_key``); 0 if under the table's floor."""
    return document_frequency()[1].get(table_key(word), 0)
