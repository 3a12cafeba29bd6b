"""The nisba of a noun term (redteam15 #2): which nouns of the word-rarity table take one.

    python3 bench/nisba.py [--list]

Reads only monitor/text/df.txt (the SaudiNewsNet table, shipped with the package). Over the
table's nouns of 3+ letters that do not end in ي ه ا ء and whose nisba forms (noun + ي يه يون
يين يات يا) are printed at all, counts how many text/variants.nisba_refusal refuses and why (the
first reason that holds), and the nouns that pass with the articles of their nisba forms.
`--list` prints every passing noun; read them to count those that reach another word (ولد/ولديه).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from monitor.text.rarity import document_frequency
from monitor.text.variants import NISBA_ENDINGS, nisba_refusal


def main() -> int:
    _, table = document_frequency()
    reasons: Counter[str] = Counter()
    passed: list[tuple[str, int, int]] = []
    for word, own in table.items():
        if len(word) < 3 or word[-1] in "يهاء":
            continue
        gain = sum(table.get(word + "ي" + e, 0) for e in NISBA_ENDINGS)
        if not gain:
            continue
        why = nisba_refusal(word)
        reasons[why or "takes the nisba"] += 1
        if not why:
            passed.append((word, own, gain))
    print(f"{sum(reasons.values())} table nouns with a nisba form printed")
    for why, n in reasons.most_common():
        print(f"  {why:16} {n}")
    passed.sort(key=lambda r: -r[2])
    print(f"passing: {len(passed)} nouns, {sum(g for _, _, g in passed)} articles of their nisba forms in all")
    shown = passed if "--list" in sys.argv else passed[:30]
    print(" ".join(f"{w}:{own}/{g}" for w, own, g in shown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
