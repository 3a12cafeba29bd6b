"""Rebuild monitor/text/df.txt: document frequencies of story key terms.

Reads ../shared/corpus/saudinewsnet/*.zip (6,340 real articles, 11 outlets) and
writes, for every key term (folded words without the article prefix, monitor.stories.base_term) found in at least
MIN_DF articles, "term<TAB>df"; the first line is "#docs<TAB>N". The story layer
uses it as an IDF table, so words every article uses weigh little and names weigh a lot.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from monitor.dedup.stories import base_term  # noqa: E402
from monitor.text.normalize import tokenize  # noqa: E402


def _corpus() -> Path:
    """../shared/corpus/saudinewsnet next to the checkout (a git worktree sits one level deeper)."""
    for shared in (ROOT.parent / "shared", ROOT.parents[1] / "shared"):
        if (shared / "corpus" / "saudinewsnet").is_dir():
            return shared / "corpus" / "saudinewsnet"
    return ROOT.parent / "shared" / "corpus" / "saudinewsnet"


CORPUS = _corpus()
OUT = ROOT / "monitor" / "text" / "df.txt"
MIN_DF = 8


def main() -> int:
    zips = sorted(CORPUS.glob("*.zip"))
    if not zips:
        print(f"{CORPUS} not found: this script needs ../shared/corpus", file=sys.stderr)
        return 1
    df: Counter[str] = Counter()
    n = 0
    for path in zips:
        with zipfile.ZipFile(path) as z:
            for art in json.loads(z.read(z.namelist()[0])):
                n += 1
                df.update(
                    {
                        b
                        for t in tokenize(art["title"] + "\n" + art["content"])
                        if len(b := base_term(t.text)) >= 3 and not b.isdigit()
                    }
                )
    rows = sorted(((t, c) for t, c in df.items() if c >= MIN_DF), key=lambda r: (-r[1], r[0]))
    OUT.write_text(f"#docs\t{n}\n" + "".join(f"{t}\t{c}\n" for t, c in rows), encoding="utf-8")
    print(f"{len(rows)} terms from {n} articles -> {OUT.relative_to(ROOT)} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
