#!/usr/bin/env python3
"""What storing a new article costs (issue 16): the store calls a poll makes for its new
articles, timed alone on inputs computed beforehand.

    python3 bench/store_cost.py [--articles N] [--feeds F] [--passes K] [--store-url URL] [--threads T]
                                [--shared DIR] [--tree DIR]

N real SaudiNewsNet articles (bench/versus_script.py's choice: bodies of 300+ characters, spread
over the three days; its corpus lookup, its topics and its fallback to tests/fixtures when no
corpus is found) are split into F feeds. The pure stages run first and are not timed: folding,
matching (config.yaml + labelled-set topics, every topic notifying one channel), alerts, the
near-duplicate fingerprint, the story profile and echoes. Then, per feed, the store calls of
`Pipeline._poll_feed` for a feed listing only new items, in its order: `poll_start`,
`items_by_key`, `enqueue_items`, `count_due` + `due_items` (`monitor once` drains), and per item
`claim_page`, `seen` (or `known` and `title_twin` in a checkout without it), `save_and_resolve` (the article, its matches, alerts,
story placement, band and term rows, the ledger item's outcome), then `record_feed_success`.

With --threads T the feeds are worked by T threads at once, as `monitor once` does (8), on one
Store: CPU is then per thread (`time.thread_time`) for each call, the whole process for the pass.
Each pass uses a fresh store (a SQLite file in a temporary folder, or with --store-url a new
PostgreSQL database made on that server and dropped after); pass 1 is cold (statements compiled
in this process for the first time, as in every `monitor once`), the best of the others is
printed too. Printed per call: CPU ms per article (`time.process_time`, one thread), and for the
whole pass the share spent inside the database driver (cursor execute + fetch, from SQLAlchemy's
cursor events) and in commits, statements and transactions per article, and rows per article in
each table. --tree DIR measures another checkout's `monitor` (e.g. a detached worktree of main) on
the same inputs, built by this checkout's helpers: run both in turn for a before/after.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import versus_script as vs  # noqa: E402
import yaml  # noqa: E402

TABLES = (
    "items",
    "articles",
    "article_guids",
    "matches",
    "alerts",
    "story_articles",
    "stories",
    "story_terms",
    "neardup_entries",
    "neardup_bands",
)


def prepare(n: int, nfeeds: int, shared: Path | None, work: Path) -> tuple[Any, list[list[dict]], str]:
    """(pipeline's config, per feed the prepared articles, corpus line)."""
    from monitor.config.load import load_config

    arts, source = vs.load_articles(n, shared)
    config = {
        "storage": "sqlite:///unused.db",
        "defaults": {"backfill": "off"},
        "fetch": {"allow_private_networks": True},
        "feeds": [{"name": f"feed {f}", "url": f"http://127.0.0.1:9/feed/{f}.xml"} for f in range(nfeeds)],
        "channels": {"sink": "json://127.0.0.1:9/sink"},
        "topics": vs.load_topics(),
    }
    path = work / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    cfg = load_config(path)
    per_feed: list[list[dict]] = [[] for _ in range(nfeeds)]
    for i, a in enumerate(arts):
        per_feed[i % nfeeds].append(a | {"i": i})
    return cfg, per_feed, source


def pure_inputs(cfg: Any, per_feed: list[list[dict]]) -> list[tuple[Any, list[dict]]]:
    """Per feed: (Feed, [per item: FeedItem, Article, matches, alerts, StoryInput, outlet])."""
    from monitor.dedup import neardup, stories
    from monitor.dedup.keys import normalize_url
    from monitor.delivery.compose import Composer
    from monitor.matching.matcher import compile_topics
    from monitor.models import Article, FeedItem
    from monitor.storage.stories import StoryInput, StoryRules
    from monitor.text.folded import FoldedText

    matcher = compile_topics(cfg.rules())
    composer = Composer(cfg, None)  # type: ignore[arg-type]  # alerts() reads no store
    d = cfg.dedup
    rules = StoryRules(
        timedelta(seconds=d.window),
        d.copy_jaccard,
        timedelta(seconds=d.story_window),
        d.story_similarity,
        timedelta(seconds=d.follow_up_gap),
    )
    now = datetime.now(UTC)
    out = []
    for feed, arts in zip(cfg.feeds, per_feed, strict=True):
        rows = []
        for a in arts:
            url = f"http://127.0.0.1:9/a/{a['i']}.html"
            body = a["content"].strip()
            item = FeedItem(feed.name, url, url, a["title"], body[:300], now - timedelta(hours=1))
            art = Article(url, normalize_url(url), feed.name, a["title"], body, item.published)
            folded = FoldedText.of(art.title, art.body)
            matches = matcher.match(art.title, art.body, feed=feed.name, language="ar", folded=folded)
            alerts = composer.alerts(art, matches, cfg.outlet(feed), now, lambda *_a: (None, None))
            story = StoryInput(
                neardup.fingerprint_words(neardup.article_words(folded)),
                stories.profile_folded(folded),
                rules,
                echoes=stories.echoes_folded(folded),
            )
            rows.append(dict(item=item, article=art, matches=matches, alerts=alerts, story=story))
        out.append((feed, rows))
    return out


class Meter:
    """CPU per store call, and what the driver did (cursor events of the engine)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.driver = 0.0
        self.commit = 0.0
        self.wall = 0.0
        self.statements = 0
        self.transactions = 0

    def attach(self, engine: Any) -> None:
        from sqlalchemy import event

        def before(*_a: Any) -> None:
            self._local.t0 = time.thread_time()

        def after(*_a: Any) -> None:
            dt = time.thread_time() - self._local.t0
            with self._lock:
                self.driver += dt
                self.statements += 1

        def begin(*_a: Any) -> None:
            with self._lock:
                self.transactions += 1

        do_commit = engine.dialect.do_commit

        def commit(dbapi_conn: Any) -> None:
            t0 = time.thread_time()
            try:
                do_commit(dbapi_conn)
            finally:
                with self._lock:
                    self.commit += time.thread_time() - t0

        engine.dialect.do_commit = commit  # type: ignore[method-assign]
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        event.listen(engine, "begin", begin)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        t0 = time.thread_time()
        try:
            yield
        finally:
            dt = time.thread_time() - t0
            with self._lock:
                self.cpu[name] += dt
                self.calls[name] += 1


def seen_checks(store: Any, meter: Meter, feed: Any, ledger: Any) -> None:
    """The pipeline's checks before a page is fetched: `Store.seen` (one read transaction) where
    the measured checkout has it, else `known` and `title_twin` (two)."""
    guids = (ledger.guid, "url:" + ledger.url_key)
    if hasattr(store, "seen"):
        with meter.timed("seen (known + twins)"):
            store.seen(
                ledger.url_key, feed.name, *guids, ledger=ledger, twin_since=datetime.now(UTC) - timedelta(days=7)
            )
        return
    with meter.timed("known"):
        store.known(ledger.url_key, feed.name, *guids)
    with meter.timed("title_twin"):
        store.title_twin(ledger)


def poll(store: Any, meter: Meter, cfg: Any, feed: Any, rows: list[dict]) -> int:
    """The store calls of one poll of `feed` listing `rows` (all new); returns the items worked."""
    from monitor.dedup.identity import Known, item_identity, prior_keys, shared_links
    from monitor.dedup.keys import title_key
    from monitor.storage import ItemInput, Resolution

    now = datetime.now(UTC)
    items = [r["item"] for r in rows]
    with meter.timed("poll_start"):
        store.poll_start(feed.name, now)
    shared = shared_links(items)
    with meter.timed("items_by_key"):
        got = store.items_by_key(feed.name, prior_keys(items, shared))
    prior = {k: Known(r.url_key, r.title) for k, r in got.items()}
    listed = []
    for it in items:
        key, url_key = item_identity(feed.name, it, shared, prior)
        listed.append(ItemInput(key, url_key, it, title_key(it)))
    with meter.timed("enqueue_items"):
        store.enqueue_items(feed.name, listed, now)
    all_due = getattr(importlib.import_module("monitor.storage.items"), "ALL_DUE", None)
    with meter.timed("count_due + due_items"):  # as the pipeline drains: one read where the tree has ALL_DUE
        if all_due is not None:
            due = store.due_items(feed.name, now, limit=all_due)
        else:
            due = store.due_items(feed.name, now, limit=max(100, store.count_due(feed.name, now)))
    by_url = {r["item"].url: r for r in rows}
    for ledger in due:
        r = by_url[ledger.url]
        with meter.timed("claim_page"), store.claim_page(ledger.url_key):
            seen_checks(store, meter, feed, ledger)
            with meter.timed("save_and_resolve"):
                store.save_and_resolve(
                    r["article"],
                    guid=ledger.guid,
                    outlet=cfg.outlet(feed),
                    matches=r["matches"],
                    alerts=r["alerts"],
                    story=r["story"],
                    resolve=Resolution(ledger.id, datetime.now(UTC)),
                )
    with meter.timed("record_feed_success"):
        store.record_feed_success(feed.name, feed.url, etag='"e"', last_modified=None, new_items=len(due), now=now)
    return len(due)


def one_pass(
    url: str, cfg: Any, inputs: list[tuple[Any, list[dict]]], threads: int
) -> tuple[Meter, dict[str, int], int]:
    from monitor.storage import Store

    store = Store(url)
    meter = Meter()
    assert store.engine is not None
    meter.attach(store.engine)
    t_all, w_all = time.process_time(), time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            n = sum(pool.map(lambda fr: poll(store, meter, cfg, *fr), inputs))
        meter.cpu["whole pass"] = time.process_time() - t_all
        meter.wall = time.perf_counter() - w_all
        with store.tx() as conn:
            rows_by_table = {t: int(conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()) for t in TABLES}
    finally:
        store.close()
    return meter, rows_by_table, n


@contextmanager
def fresh_store(url: str | None, work: Path, k: int) -> Iterator[str]:
    if url is None:
        yield f"sqlite:///{work / f'pass{k}.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    dsn = f"host={u.host or '127.0.0.1'} port={u.port or 5432} user={u.username or 'postgres'} dbname={u.database}"
    name = f"bench_store_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


ORDER = (
    "poll_start",
    "items_by_key",
    "enqueue_items",
    "count_due + due_items",
    "claim_page",
    "seen (known + twins)",
    "known",
    "title_twin",
    "save_and_resolve",
    "record_feed_success",
    "whole pass",
)


def report(label: str, meter: Meter, rows: dict[str, int], n: int) -> None:
    whole = meter.cpu["whole pass"]
    print(
        f"\n{label}: {n} new articles, {whole * 1000 / n:.2f} ms/article in store calls "
        f"(CPU of this process; wall {meter.wall * 1000 / n:.2f} ms/article)"
    )
    for name in ORDER:
        if name in meter.cpu:
            indent = "    " if name in ("seen (known + twins)", "known", "title_twin", "save_and_resolve") else "  "
            print(f"{indent}{name:24s} {meter.cpu[name] * 1000 / n:6.2f} ms/article  ({meter.calls[name] or 1} calls)")
    print(
        f"  inside the driver: {meter.driver * 1000 / n:.2f} ms/article ({100 * meter.driver / whole:.0f}%) "
        f"+ commits {meter.commit * 1000 / n:.2f} ms/article; "
        f"{meter.statements / n:.1f} statements and {meter.transactions / n:.2f} transactions per article"
    )
    print("  rows per article: " + ", ".join(f"{t} {rows[t] / n:.1f}" for t in TABLES))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--articles", type=int, default=400)
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--passes", type=int, default=3, help="fresh stores in turn (pass 1 cold)")
    ap.add_argument("--threads", type=int, default=1, help="feeds worked at once (`monitor once`: 8)")
    ap.add_argument("--store-url", help="a PostgreSQL server URL (a database is made and dropped per pass)")
    ap.add_argument("--shared", help="folder holding corpus/ (default ../shared, else /work/shared)")
    ap.add_argument("--tree", help="the monitor checkout to measure (default: this one)")
    args = ap.parse_args()
    if args.tree:
        sys.path.insert(0, str(Path(args.tree).resolve()))
    import monitor

    print(f"monitor from {Path(monitor.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg, per_feed, source = prepare(args.articles, args.feeds, vs.shared_dir(args.shared), work)
        print(
            f"data: {source}; {args.articles} articles in {args.feeds} feeds, {args.threads} thread(s); "
            f"store: {args.store_url or 'SQLite file'}"
        )
        t0 = time.process_time()
        inputs = pure_inputs(cfg, per_feed)
        print(f"pure stages (not timed below): {(time.process_time() - t0) * 1000 / args.articles:.2f} ms/article")
        results = []
        for k in range(1, args.passes + 1):
            with fresh_store(args.store_url, work, k) as url:
                results.append(one_pass(url, cfg, inputs, args.threads))
        report("pass 1 (cold: statements compiled in this process)", *results[0])
        if len(results) > 1:
            best = min(results[1:], key=lambda r: r[0].cpu["whole pass"])
            report(f"best of passes 2-{len(results)} (warm)", *best)
    return 0


run: Callable[[], int] = main

if __name__ == "__main__":
    raise SystemExit(main())
