#!/usr/bin/env python3
"""What feedparser's HTML sanitising costs, and what we save by turning it off.

    python3 bench/feedparser_sanitize.py [--feeds N] [--items M] [--repeat K]

Feeds are RSS 2.0 built around REAL SaudiNewsNet titles and bodies (full corpus at
../shared/corpus/saudinewsnet/*.zip when present, else the tests/fixtures excerpts;
the script says which): each <description> holds the article's first paragraphs as
escaped HTML (<p>, a link, an image, <b>), as news feeds ship them.

Timed, CPU time (time.process_time()), best of K repeats, per feed entry:
  (a) feedparser.parse(data)                                  defaults: sanitise + resolve URIs
  (b) feedparser.parse(data, sanitize_html=False)
  (c) feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)   what we run
  (d) monitor.sources.rss.parse_feed_result(...)             (c) + our checks and text pass
Why (c) is safe: nothing from a feed reaches an alert unescaped (render.py escapes
every field; feed HTML is reduced to text by html_to_text), so feedparser's
sanitiser protects nothing of ours; relative links are resolved by us with urljoin.
"""

from __future__ import annotations

import argparse
import gc
import html
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import feedparser  # noqa: E402
from pipeline import load_articles  # noqa: E402   bench/pipeline.py: same corpus loading

from monitor.sources.rss import parse_feed_result  # noqa: E402
from tests.support import corpus_pages as cp  # noqa: E402


def build_feeds(arts: list[dict], n_feeds: int, per_feed: int) -> list[bytes]:
    feeds = []
    for f in range(n_feeds):
        items = []
        for k in range(per_feed):
            a = arts[(f * per_feed + k) % len(arts)]
            paras = cp.split_paragraphs(a["content"])[:3]
            body = (
                f'<p><img src="/img/{f}-{k}.jpg" alt=""></p>'
                + "".join(f"<p>{html.escape(p)}</p>" for p in paras)
                + f'<p><b>{html.escape(a["source"])}</b> <a href="/news/{f}-{k}.html">المزيد</a></p>'
            )
            items.append(
                f"<item><title>{html.escape(a['title'])}</title>"
                f"<link>https://{a['source']}.example/news/{f}-{k}.html</link>"
                f'<guid isPermaLink="false">{a["source"]}-{f}-{k}</guid>'
                f"<pubDate>Tue, 21 Jul 2015 10:{k % 60:02d}:00 GMT</pubDate>"
                f"<description>{html.escape(body)}</description></item>"
            )
        feeds.append(
            (
                '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{html.escape(arts[f % len(arts)]['source'])}</title>"
                "<link>https://example.org/</link><description>x</description>" + "".join(items) + "</channel></rss>"
            ).encode("utf-8")
        )
    return feeds


def timed(fn, feeds: list[bytes], repeat: int) -> float:
    for data in feeds[:2]:  # warm-up
        fn(data)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        for data in feeds:
            fn(data)
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=20)
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    arts, source = load_articles(args.feeds * args.items)
    feeds = build_feeds(arts, args.feeds, args.items)
    entries = args.feeds * args.items
    print(f"corpus: {source}")
    print(
        f"feeds: {len(feeds)} x {args.items} items = {entries} entries, "
        f"{sum(map(len, feeds)) / 1e6:.2f} MB; feedparser {feedparser.__version__}; best of {args.repeat}"
    )
    stages = [
        ("(a) defaults (sanitise, resolve URIs)", lambda d: feedparser.parse(d)),
        ("(b) sanitize_html=False", lambda d: feedparser.parse(d, sanitize_html=False)),
        (
            "(c) + resolve_relative_uris=False (ours)",
            lambda d: feedparser.parse(d, sanitize_html=False, resolve_relative_uris=False),
        ),
        ("(d) parse_feed_result (c + our checks)", lambda d: parse_feed_result("bench", d, "https://example.org/")),
    ]
    results = {}
    for label, fn in stages:
        seconds = timed(fn, feeds, args.repeat)
        results[label[:3]] = seconds
        print(f"{label:44s} {seconds:7.3f} s CPU  {1000 * seconds / entries:6.3f} ms/entry")
    a, c, d = results["(a)"], results["(c)"], results["(d)"]
    print(
        f"saving of (c) over (a): {100 * (1 - c / a):.1f}% of feedparser's time "
        f"({1000 * (a - c) / entries:.3f} ms per entry)"
    )
    print(f"our checks add {100 * (d / c - 1):.1f}% to (c)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
