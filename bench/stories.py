"""Story assignment against story groups labelled by reading: pairwise precision / recall in
random arrival orders, and how many labelled pairs get the same call in every order (issue 15
kind 5: "one event, two stories").

Labels: tests/fixtures/stories/groups.json (68 groups, method in tests/fixtures/stories/README.md).
Articles: the 360-article excerpt in tests/fixtures/saudinewsnet plus, when the full daily dumps
are there (../shared/corpus/saudinewsnet, relative to the project root), the members of the groups
chosen from them (458 articles in all). Without the dumps it says so and scores the excerpt's
groups only. Each order goes through a fresh real Store (SQLite file): copy detection, then story
clustering, one article a minute (all inside the story window).

    python3 bench/stories.py [--orders N] [--seed S] [--show-changed]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.story_labels import (  # noqa: E402
    assign,
    fixture_articles,
    labels,
    orders,
    pair_score,
    stable_share,
)


def corpus_dir() -> Path | None:
    """../shared/corpus/saudinewsnet next to the checkout (or MONITOR_SHARED/corpus/saudinewsnet)."""
    cands = [Path(os.environ["MONITOR_SHARED"])] if "MONITOR_SHARED" in os.environ else []
    cands += [ROOT.parent / "shared", ROOT.parents[1] / "shared"]  # a worktree sits one level deeper
    for c in cands:
        if (c / "corpus" / "saudinewsnet").is_dir():
            return c / "corpus" / "saudinewsnet"
    return None


def corpus_articles(ids: set[str], where: Path) -> dict[str, dict]:
    """Articles `snn-YYYYMMDD-NNNN` = item NNNN of that day's JSON list, HTML entities decoded."""
    out: dict[str, dict] = {}
    for path in sorted(where.glob("*.zip")):
        day = path.stem.replace("-", "")
        with zipfile.ZipFile(path) as z:
            items = json.loads(z.read(z.namelist()[0]))
        for i, a in enumerate(items):
            aid = f"snn-{day}-{i:04d}"
            if aid in ids:
                out[aid] = {k: html.unescape(v) if isinstance(v, str) else v for k, v in a.items()}
    return out


def whole(where: Path) -> None:
    """Every dump article (150-5,000 characters, as the excerpt) in date order, one a minute: how
    many stories and how big the largest are (single-link stories can chain)."""
    arts: dict[str, dict] = {}
    for path in sorted(where.glob("*.zip")):
        day = path.stem.replace("-", "")
        with zipfile.ZipFile(path) as z:
            for i, a in enumerate(json.loads(z.read(z.namelist()[0]))):
                a = {k: html.unescape(v) if isinstance(v, str) else v for k, v in a.items()}
                if 150 <= len(a["content"]) <= 5000:
                    arts[f"snn-{day}-{i:04d}"] = a
    order = sorted(arts, key=lambda k: (arts[k]["date_extracted"], k))
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        story = assign(arts, order, Path(tmp) / "whole.db")
    cpu = time.process_time() - t0
    sizes = sorted((sum(1 for v in story.values() if v == s) for s in set(story.values())), reverse=True)
    print(
        f"whole corpus: {len(arts)} articles -> {len(sizes)} stories; largest {sizes[:8]}; "
        f"stories of 2+: {sum(s >= 2 for s in sizes)}; cpu {cpu:.1f}s ({cpu / len(arts) * 1000:.1f} ms/article)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=5, help="random arrival orders (default 5)")
    ap.add_argument("--seed", type=int, default=15, help="seed of the orders (default 15)")
    ap.add_argument("--show-changed", action="store_true", help="list the labelled pairs whose call changed")
    ap.add_argument(
        "--whole-corpus",
        action="store_true",
        help="also place every dump article in date order: story sizes (chaining)",
    )
    args = ap.parse_args()

    lab = labels()
    arts = fixture_articles(lab)
    where = corpus_dir()
    if where is None:
        print("../shared/corpus/saudinewsnet not found: scoring the excerpt's articles and groups only")
    else:
        wanted = (set(lab.group_of) | set(lab.extra_singletons)) - set(arts)
        arts |= corpus_articles(wanted, where)
        print(f"corpus: {where} (+{len(wanted)} articles of the groups chosen from the daily dumps)")
    in_groups = {lab.group_of[a] for a in arts if a in lab.group_of}
    sizes = [sum(1 for a in arts if lab.group_of.get(a) == g) for g in in_groups]
    print(
        f"articles {len(arts)}; labelled groups {sum(s >= 2 for s in sizes)} with 2+ members here "
        f"({sum(sizes)} articles); labelled same-story pairs {sum(s * (s - 1) // 2 for s in sizes)}"
    )
    runs = []
    t0 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        for k, order in enumerate(orders(sorted(arts), args.orders, args.seed)):
            story = assign(arts, order, Path(tmp) / f"order{k}.db")
            runs.append(story)
            s = pair_score(story, lab)
            sb = pair_score(story, lab, skip=lab.borderline)
            print(
                f"order {k}: stories {len(set(story.values()))}  pairwise precision {s.precision:.3f} "
                f"recall {s.recall:.3f} (predicted {s.predicted}, true {s.true})  "
                f"without borderline members: P {sb.precision:.3f} R {sb.recall:.3f}"
            )
    share, n, changed = stable_share(runs, lab)
    moved = sum(1 for a, b in itertools.combinations(sorted(arts), 2) if len({r[a] == r[b] for r in runs}) > 1)
    ps = [pair_score(r, lab) for r in runs]
    print(
        f"mean over {len(runs)} orders: precision {sum(p.precision for p in ps) / len(ps):.3f} "
        f"recall {sum(p.recall for p in ps) / len(ps):.3f}"
    )
    print(f"labelled pairs with the same call in every order: {share:.1%} of {n} ({len(changed)} changed)")
    print(f"all article pairs whose call changed between orders: {moved} of {len(arts) * (len(arts) - 1) // 2}")
    print(f"cpu {time.process_time() - t0:.1f}s")
    if args.whole_corpus and where is not None:
        whole(where)
    if args.show_changed:
        for a, b in changed:
            calls = "".join("S" if r[a] == r[b] else "-" for r in runs)
            print(f"  {calls} {lab.group_of[a]} {a} {arts[a]['title'][:50]} || {b} {arts[b]['title'][:50]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
