"""Copy detection on the SaudiNewsNet corpus: recall, precision, cost per article, memory at 100k.

Reads ../shared/corpus/saudinewsnet/*.zip (6,340 real articles, 3 days, 11 outlets);
without it, it says so and exits 1 (the 360-article test excerpt is too small for
these figures).

1. Ground truth: every cross-outlet pair whose exact word-3-shingle Jaccard (sets of
   tuples of folded words, no hashing) is >= 0.5, found exactly by prefix filtering.
2. Detection: articles arrive in corpus order; each is looked up in the LSH bands
   of the ones before it (monitor.dedup.neardup, same functions the store uses) and
   candidates are confirmed with the exact check. Pairwise recall and precision.
3. Cost per article through the real Store (SQLite file, WAL): fingerprint +
   story profile (pure) and save_article with placement (index lookup, story
   clustering, index insert), over the whole corpus.
4. Memory: a store is filled with 100,000 indexed articles (shingle sets of real
   articles, each salted so it is a distinct article; their stories carry the real
   articles' key terms), then a fresh process opens it, places 1,000 real articles
   and reports its resident memory (VmRSS, VmHWM) and cost per article.

    python3 bench/dedup.py [--skip-memory | --memory-only] [--fill N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT.parent / "shared" / "corpus" / "saudinewsnet"

from monitor.dedup import neardup, stories  # noqa: E402
from monitor.text.normalize import tokenize  # noqa: E402


def load() -> list[dict]:
    arts = []
    for path in sorted(CORPUS.glob("*.zip")):
        with zipfile.ZipFile(path) as z:
            arts += json.loads(z.read(z.namelist()[0]))
    arts.sort(key=lambda a: a["date_extracted"])
    return arts


def rss() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    vals = {
        k: float(v.split()[0]) / 1024
        for k, v in (line.split(":", 1) for line in status.splitlines() if line.startswith(("VmRSS", "VmHWM")))
    }
    return vals["VmRSS"], vals["VmHWM"]


# ---- 1. exact ground truth ---------------------------------------------------
def ground_truth(arts: list[dict], t: float = 0.5) -> dict[tuple[int, int], float]:
    sets = []
    for a in arts:
        w = [x.text for x in tokenize(a["content"])]
        sets.append({" ".join(w[i : i + 3]) for i in range(max(1, len(w) - 2))} if w else set())
    freq = Counter(s for st in sets for s in st)
    index: dict[str, list[int]] = defaultdict(list)
    truth = {}
    for j, st in enumerate(sets):
        if not st:
            continue
        ordered = sorted(st, key=lambda s: (freq[s], s))
        prefix = ordered[: len(ordered) - math.ceil(t * len(ordered)) + 1]
        cands = {i for s in prefix for i in index[s]}
        for i in cands:
            if arts[i]["source"] == arts[j]["source"]:
                continue
            inter = len(sets[i] & st)
            jac = inter / (len(sets[i]) + len(st) - inter)
            if jac >= t:
                truth[(i, j)] = jac
        for s in prefix:
            index[s].append(j)
    return truth


# ---- 2. detection with the LSH index -------------------------------------------
def detect(arts: list[dict]) -> tuple[set[tuple[int, int]], float, float]:
    buckets: dict[int, list[int]] = defaultdict(list)
    fps, found, n_cands = [], set(), 0
    t0 = time.perf_counter()
    for j, a in enumerate(arts):
        fp = neardup.fingerprint(neardup.article_text(a["title"], a["content"]))
        fps.append(fp)
        cands = {i for b in fp.bands for i in buckets[b]}
        n_cands += len(cands)
        for i in cands:
            if arts[i]["source"] != a["source"] and neardup.jaccard(fps[i].shingles, fp.shingles) >= 0.5:
                found.add((i, j))
        for b in fp.bands:
            buckets[b].append(j)
    return found, n_cands / len(arts), (time.perf_counter() - t0) / len(arts)


# ---- 3. through the store --------------------------------------------------------
def through_store(arts: list[dict], url: str) -> dict[str, float]:
    from monitor.models import Article
    from monitor.storage import Store
    from monitor.storage.stories import StoryInput

    store = Store(url)
    t0 = datetime(2015, 7, 21, tzinfo=UTC)
    pure = save = 0.0
    try:
        for n, a in enumerate(arts):
            art = Article(
                url=a["url"], url_key=f"{n}:{a['url']}", feed=a["source"], title=a["title"], body=a["content"]
            )
            s0 = time.perf_counter()
            inp = StoryInput(
                neardup.fingerprint(neardup.article_text(art.title, art.body)), stories.profile(art.title, art.body)
            )
            s1 = time.perf_counter()
            store.save_article(
                art, guid="", outlet=a["source"], matches=[], alerts=[], story=inp, now=t0 + timedelta(seconds=40 * n)
            )
            s2 = time.perf_counter()
            pure += s1 - s0
            save += s2 - s1
        found = store.stories(t0, limit=100_000)
    finally:
        store.close()
    multi = [s for s in found if len(s.outlets) > 1]
    copies = sum(1 for s in found for a in s.articles if a.copy_of)
    return {
        "pure_ms": 1000 * pure / len(arts),
        "save_ms": 1000 * save / len(arts),
        "stories": len(found),
        "multi_outlet": len(multi),
        "copies": copies,
        "largest": max(len(s.articles) for s in found),
    }


# ---- 4. memory with 100k indexed articles -------------------------------------------
def fill(url: str, n: int) -> None:
    """Child process: write n salted real shingle sets (and their stories) straight into the tables."""
    import numpy as np
    from sqlalchemy import insert

    from monitor.storage import Store
    from monitor.storage.schema import articles, neardup_bands, neardup_entries, story_articles, story_terms
    from monitor.storage.schema import stories as st

    arts = load()
    base = [
        (neardup.shingle_hashes(neardup.words(a["content"])), stories.profile(a["title"], a["content"])) for a in arts
    ]
    base = [b for b in base if b[0].size]
    rng = np.random.default_rng(1)
    now = datetime.now(UTC)
    store = Store(url)
    batch = 2000
    for start in range(0, n, batch):
        rows_a, rows_e, rows_b, rows_s, rows_sa, rows_t = [], [], [], [], [], []
        for k in range(start, min(n, start + batch)):
            sh, prof = base[k % len(base)]
            salted = np.unique(sh ^ np.uint32(rng.integers(1, 2**32 - 1)))
            at = now - timedelta(days=7) * (1 - k / n)
            aid = k + 1
            rows_a.append(
                dict(
                    id=aid,
                    url_key=f"fill:{k}",
                    url=f"https://fill.invalid/{k}",
                    feed="fill",
                    outlet="fill",
                    guid="",
                    title="",
                    body="",
                    fetched_at=at,
                    status="done",
                    fetch_attempts=0,
                    text_source="page",
                )
            )
            rows_e.append(dict(article_id=aid, indexed_at=at, shingles=salted.astype("<u4").tobytes()))
            rows_b += [dict(band=b, article_id=aid) for b in neardup.band_keys(neardup.signature(salted))]
            rows_s.append(
                dict(
                    id=aid,
                    title="",
                    first_seen=at,
                    last_seen=at,
                    n_articles=1,
                    profile=json.dumps(prof, ensure_ascii=False),
                )
            )
            rows_sa.append(dict(article_id=aid, story_id=aid, outlet="fill", added_at=at))
            if at >= now - timedelta(days=3):
                rows_t += [dict(story_id=aid, term=t) for t in prof]
        with store.engine.begin() as conn:
            for table, rows in (
                (articles, rows_a),
                (neardup_entries, rows_e),
                (neardup_bands, rows_b),
                (st, rows_s),
                (story_articles, rows_sa),
                (story_terms, rows_t),
            ):
                if rows:
                    conn.execute(insert(table), rows)
    store.close()


def measure(url: str, count: int) -> None:
    """Child process: a daemon-like process places `count` real articles in the filled store."""
    import monitor.pipeline
    import monitor.service.daemon  # noqa: F401  (the daemon's libraries: trafilatura, apprise, APScheduler)
    from monitor.models import Article
    from monitor.storage import Store
    from monitor.storage.stories import StoryInput

    arts = load()[:count]
    base_rss = rss()[0]
    store = Store(url)
    size = (
        store.engine.connect()
        .execute(__import__("sqlalchemy").text("select count(*) from neardup_entries"))
        .scalar_one()
    )
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    for n, a in enumerate(arts):
        art = Article(url=a["url"], url_key=f"m{n}:{a['url']}", feed=a["source"], title=a["title"], body=a["content"])
        inp = StoryInput(
            neardup.fingerprint(neardup.article_text(art.title, art.body)), stories.profile(art.title, art.body)
        )
        store.save_article(art, guid="", outlet=a["source"], matches=[], alerts=[], story=inp, now=now)
    per = (time.perf_counter() - t0) / len(arts)
    cur, peak = rss()
    store.close()
    print(json.dumps({"indexed": size, "ms": per * 1000, "rss": cur, "hwm": peak, "base": base_rss}))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-only", action="store_true")
    ap.add_argument(
        "--store-url",
        help="run part 3 on this (empty) store instead of a temporary SQLite file, e.g. a PostgreSQL database",
    )
    ap.add_argument("--fill", type=int, default=100_000)
    ap.add_argument("--child", choices=["fill", "measure"])
    ap.add_argument("--url")
    args = ap.parse_args()
    if args.child == "fill":
        fill(args.url, args.fill)
        return 0
    if args.child == "measure":
        measure(args.url, 1000)
        return 0
    if not list(CORPUS.glob("*.zip")):
        print(f"{CORPUS} not found: this bench needs ../shared/corpus/saudinewsnet", file=sys.stderr)
        return 1
    arts = load()
    print(f"corpus: {len(arts)} articles, {len({a['source'] for a in arts})} outlets ({CORPUS})")
    if args.memory_only:
        with tempfile.TemporaryDirectory() as tmp:
            memory(tmp, args.fill)
        return 0
    t = time.perf_counter()
    truth = ground_truth(arts)
    print(
        f"ground truth: {len(truth)} cross-outlet pairs with exact word-3-shingle Jaccard >= 0.5 "
        f"({time.perf_counter() - t:.1f}s, prefix filtering)"
    )
    found, cands, per = detect(arts)
    hit = len(found & truth.keys())
    print(
        f"LSH {neardup.BANDS}x{neardup.ROWS} + exact check: found {len(found)} pairs, recall "
        f"{hit / len(truth):.4f}, precision {hit / len(found):.4f}; {cands:.1f} candidates/article; "
        f"{per * 1000:.2f} ms/article (fingerprint + lookup, in memory)"
    )
    missed = sorted(truth[p] for p in truth.keys() - found)
    if missed:
        print(f"  missed pairs' Jaccard: {', '.join(f'{j:.3f}' for j in missed[:10])}")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.store_url or f"sqlite:///{tmp}/corpus.db"
        r = through_store(arts, url)
        print(
            f"store ({url.split(':', 1)[0]}): {r['pure_ms']:.2f} ms/article fingerprint+profile, {r['save_ms']:.2f} ms/article "
            f"save_article with placement; {r['copies']} copies, {r['stories']} stories "
            f"({r['multi_outlet']} with several outlets, largest {r['largest']} articles)"
        )
        if not args.skip_memory:
            memory(tmp, args.fill)
    return 0


def memory(tmp: str, n: int) -> None:
    def run_measure(url: str) -> dict:
        out = subprocess.run(
            [sys.executable, __file__, "--child", "measure", "--url", url], check=True, capture_output=True, text=True
        ).stdout
        return json.loads(out.strip().splitlines()[-1])

    for label, fill_n in (("empty", 0), ("filled", n)):
        url = f"sqlite:///{tmp}/{label}.db"
        if fill_n:
            t = time.perf_counter()
            subprocess.run(
                [sys.executable, __file__, "--child", "fill", "--url", url, "--fill", str(fill_n)], check=True
            )
            print(
                f"filled {fill_n} indexed articles in {time.perf_counter() - t:.0f}s "
                f"(db {os.path.getsize(f'{tmp}/{label}.db') / 2**20:.0f} MB)"
            )
        m = run_measure(url)
        print(
            f"daemon process, {m['indexed']} indexed articles before: {m['ms']:.2f} ms/article placed "
            f"(1000 real articles); resident {m['base']:.0f} MB after imports, {m['rss']:.0f} MB after "
            f"placing, {m['hwm']:.0f} MB peak (VmRSS/VmHWM)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
