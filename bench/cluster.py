"""Cluster mode on loopback: N `monitor run` nodes x M feeds for K minutes on one fresh
PostgreSQL database, new articles arriving on every feed, alerts caught by the fake Bot API.

Prints alerts expected / received / duplicated / lost, duplicate page fetches, the
takeover time after a kill -9 (``--kill``), and feed polls per second of the cluster
against one node's (the same load run with one node first). Articles are real
SaudiNewsNet text (tests/fixtures excerpts via tests/support/corpus_pages; the full
corpus in ../shared is not needed here).

    python3 bench/cluster.py [--nodes 2] [--feeds 12] [--minutes 1] [--kill]
"""

from __future__ import annotations

import argparse
import collections
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.cluster import (  # noqa: E402
    cluster_config,
    covering_terms,
    start_node,
    title_term,
)
from tests.support.corpus_pages import saudinewsnet_articles  # noqa: E402
from tests.support.databases import fresh_pg_database  # noqa: E402
from tests.support.service_helpers import serve_feed  # noqa: E402
from tests.support.telegram import FakeTelegram  # noqa: E402
from tests.support.web import WebServer  # noqa: E402

DAYS = ("2015-07-21", "2015-07-22", "2015-07-23")


def _articles(n: int) -> list[dict]:
    """`n` distinct real articles (a repeated one would be dropped as a copy, not alerted)."""
    pool = [a for d in DAYS for a in saudinewsnet_articles(d) if title_term(a)]
    if n > len(pool):
        raise SystemExit(f"only {len(pool)} fixture articles: use fewer --feeds (8 articles each)")
    return pool[:n]


def run(nodes: int, feeds: int, minutes: float, kill: bool) -> dict[str, float]:
    per_feed = 8
    arts = _articles(feeds * per_feed)
    groups = [arts[i * per_feed : (i + 1) * per_feed] for i in range(feeds)]
    with WebServer() as web, FakeTelegram() as tg, fresh_pg_database() as db, tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shown = [1] * feeds
        for i in range(feeds):
            serve_feed(web, f"/f{i}.xml", groups[i][:1])
        config = cluster_config(
            base / "config.yaml",
            db,
            [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(feeds)],
            covering_terms(arts),
            tg.base_url,
            cluster_stall_after="6s",
            defaults={"interval": 1, "jitter": 0, "timeout": "10s"},
        )
        procs = [start_node(config, f"n{i}", base / f"n{i}.log") for i in range(nodes)]
        start = time.monotonic()
        end = start + minutes * 60
        killed_at = None
        step = (minutes * 60) / per_feed
        while time.monotonic() < end:
            time.sleep(step)
            for i in range(feeds):  # one new article per feed per step
                if shown[i] < per_feed:
                    shown[i] += 1
                    serve_feed(web, f"/f{i}.xml", groups[i][: shown[i]])
            if kill and killed_at is None and time.monotonic() - start > minutes * 30 and len(procs) > 1:
                procs[0].send_signal(signal.SIGKILL)
                killed_at = time.monotonic()
        time.sleep(15)  # let the last alerts (and a takeover) through
        elapsed = time.monotonic() - start
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(120)
        logs = [(base / f"n{i}.log").read_text() for i in range(nodes)]
        pages = [web.url(f"/f{i}/article-{j}.html") for i in range(feeds) for j in range(shown[i])]
        got: collections.Counter[str] = collections.Counter()
        for m in tg.messages:
            for url in pages:
                if url in m.text:
                    got[url] += 1
        fetches = collections.Counter(r.url_path for r in web.requests if "/article-" in r.url_path)
        polls = sum(log.count("feed polled") + log.count("feed not modified") for log in logs)
        takeover = None
        if killed_at is not None:
            rerun = [ln for ln in "\n".join(logs[1:]).splitlines() if "stalled job" in ln]
            takeover = "no stalled job (the killed node held none)" if not rerun else rerun[0][:23]
        return {
            "nodes": nodes,
            "expected": len(pages),
            "received": len(got),
            "duplicated": sum(n - 1 for n in got.values()),
            "lost": len(set(pages) - set(got)),
            "duplicate_fetches": sum(n - 1 for n in fetches.values()),
            "polls_per_s": polls / elapsed,
            "takeover": takeover or "-",
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--feeds", type=int, default=12)
    ap.add_argument("--minutes", type=float, default=1.0)
    ap.add_argument("--kill", action="store_true", help="kill -9 node 0 half-way")
    args = ap.parse_args()
    one = run(1, args.feeds, args.minutes, False)
    many = run(args.nodes, args.feeds, args.minutes, args.kill)
    for r in (one, many):
        print(
            f"nodes={r['nodes']} alerts expected={r['expected']} received={r['received']} "
            f"duplicated={r['duplicated']} lost={r['lost']} duplicate_fetches={r['duplicate_fetches']} "
            f"polls/s={r['polls_per_s']:.2f} takeover={r['takeover']}"
        )
    print(f"cluster polls/s vs one node: {many['polls_per_s'] / max(one['polls_per_s'], 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
