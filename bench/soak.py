#!/usr/bin/env python3
"""Soak: `monitor run` against many local feeds with accelerated polling; do RSS, FDs and
outbox age stay flat?

    python3 bench/soak.py [--feeds 500] [--minutes 30] [--interval 30] [--new-every 300]
                          [--sample 30] [--articles 1500] [--outage-every 300] [--check]

A local web server (tests/support/web.py WebServer) serves `--feeds` RSS feeds. Each feed
publishes a new item every `--new-every` seconds (staggered across feeds) and lists its
last 10; items point at pages built around REAL article text (full SaudiNewsNet corpus
at ../shared/corpus when present, else the tests/fixtures excerpts; the script says
which). Feeds answer 304 to a matching If-None-Match. Matches go to a local fake
Telegram Bot API through apprise; every `--outage-every` seconds its next 20 sends fail
(HTTP 502), so alerts go through the retry/backoff path and the outbox age moves. The daemon runs as a real subprocess with
`http.listen`, polling each feed every `--interval` seconds (the shipped default is 10 min).

Every `--sample` seconds it prints: elapsed, RSS (MB, /proc/PID/status), open FDs
(/proc/PID/fd), threads, polls, articles, alerts sent, outbox pending and the age of
the oldest pending alert (from /healthz and /metrics). At the end: SIGTERM, the stop
time and exit code, PRAGMA integrity_check, and the drift of each series between the
second quarter and the last quarter of the run (the first quarter is warm-up).
`--check` exits 1 if RSS grew more than 15%, FDs more than 10, or the outbox's oldest
pending alert got older than 3 poll intervals (+300 s when outages are injected).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import yaml  # noqa: E402

from tests.support import corpus_pages as cp  # noqa: E402
from tests.support.telegram import FakeTelegram, TelegramReply  # noqa: E402
from tests.support.web import Request, Response, WebServer  # noqa: E402

WINDOW = 10  # items listed per feed


def load_articles(n: int) -> list[dict]:
    """Reuse bench/pipeline.py's corpus loader (full corpus or the fixture excerpts)."""
    spec = importlib.util.spec_from_file_location("bench_pipeline", ROOT / "bench" / "pipeline.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    arts, source = mod.load_articles(n)
    print(f"corpus: {source}: {len(arts)} articles")
    return arts


class Site:
    """Feeds whose newest item depends on the clock; pages built once per article."""

    def __init__(self, web: WebServer, arts: list[dict], feeds: int, new_every: float) -> None:
        self.web, self.arts, self.feeds, self.new_every = web, arts, feeds, new_every
        self.start = time.monotonic()
        self.pages = [
            cp.article_page(
                a["title"],
                cp.split_paragraphs(a["content"]),
                outlet=a["source"],
                url=f"https://{a['source']}.example/{i}",
                style=i % len(cp.STYLES),
            ).encode()
            for i, a in enumerate(arts)
        ]
        web.routes["/feed.xml"] = self.feed
        web.routes["/p.html"] = self.page

    def published(self, i: int) -> int:
        """Items feed i has published so far (at least WINDOW, staggered per feed)."""
        offset = (i * self.new_every) / self.feeds
        return WINDOW + int((time.monotonic() - self.start + offset) // self.new_every)

    def article(self, i: int, j: int) -> int:
        return (i * 7919 + j * 104729) % len(self.arts)

    def feed(self, req: Request) -> Response:
        i = int(req.query["i"][0])
        n = self.published(i)
        etag = f'"{i}-{n}"'
        if req.headers.get("If-None-Match") == etag:
            return Response(304, b"", {"ETag": etag})
        items = "".join(
            f"<item><title>{_esc(self.arts[self.article(i, j)]['title'])}</title>"
            f"<link>{self.web.url(f'/p.html?i={i}&j={j}')}</link><guid>f{i}-{j}</guid></item>"
            for j in range(n - 1, n - 1 - WINDOW, -1)
        )
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>feed {i}</title>'
            f"<link>{self.web.url('/')}</link><description>soak</description>{items}</channel></rss>"
        )
        return Response(200, body.encode(), {"Content-Type": "application/rss+xml", "ETag": etag})

    def page(self, req: Request) -> Response:
        i, j = int(req.query["i"][0]), int(req.query["j"][0])
        return Response(200, self.pages[self.article(i, j)], {"Content-Type": "text/html; charset=utf-8"})


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_stats(pid: int) -> tuple[float, int, int]:
    """RSS in MB, open FDs, threads of a live process (Linux /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1))
    threads = int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")), threads


def metric(text: str, name: str, label: str = "") -> float:
    """Sum of the samples of `name` whose labels contain `label`."""
    return sum(float(v) for labels, v in re.findall(rf"^{name}(?:{{([^}}]*)}})? (\S+)$", text, re.M) if label in labels)


def drift(series: list[float]) -> tuple[float, float]:
    """(mean of the second quarter, mean of the last quarter)."""
    q = max(1, len(series) // 4)
    return statistics.fmean(series[q : 2 * q] or series), statistics.fmean(series[-q:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--feeds", type=int, default=500)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--interval", type=float, default=30.0, help="poll interval per feed, seconds")
    ap.add_argument("--new-every", type=float, default=300.0, help="seconds between new items per feed")
    ap.add_argument("--sample", type=float, default=30.0, help="seconds between samples")
    ap.add_argument("--articles", type=int, default=1500)
    ap.add_argument(
        "--outage-every",
        type=float,
        default=300.0,
        help="seconds between Telegram outages (20 failed sends each); 0: none",
    )
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()

    arts = load_articles(args.articles)
    tmp = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    with WebServer() as web, FakeTelegram() as telegram:
        Site(web, arts, args.feeds, args.new_every)
        port = free_port()
        shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config = {
            "storage": "sqlite:///monitor.db",
            # backfill off: the first poll works its whole listing, as soaks before the default did
            "defaults": {"interval": args.interval, "jitter": 0.2, "timeout": "20s", "backfill": "off"},
            "notify": {"telegram_api_url": telegram.base_url},
            "fetch": {"allow_private_networks": True},  # the soak servers listen on 127.0.0.1
            "http": {"listen": f"127.0.0.1:{port}"},
            "feeds": [{"name": f"feed-{i:03d}", "url": web.url(f"/feed.xml?i={i}")} for i in range(args.feeds)],
            "channels": {"telegram": "tgram://123456:SOAKTOKENabcdefghijklmnopqrstuvwx/1"},
            # Real-world topics: the shipped ones plus one that matches a good share of this corpus.
            "topics": [{**t, "notify": ["telegram"]} for t in shipped["topics"]]
            + [{"id": "riyadh", "name": "Riyadh", "any": ["الرياض"], "min_score": 0, "notify": ["telegram"]}],
        }
        (tmp / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "NOTIFY_", "WATCHDOG_"))}
        env["PYTHONPATH"] = str(ROOT)
        log = open(tmp / "monitor.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(tmp / "config.yaml"), "run"],
            stdout=log,
            stderr=log,
            env=env,
            cwd=tmp,
        )
        print(
            f"soak: {args.feeds} feeds every {args.interval:.0f}s (jitter 20%), a new item per feed every "
            f"{args.new_every:.0f}s, {args.minutes:g} min, sample every {args.sample:.0f}s, Telegram outage "
            f"(20 sends fail) every {args.outage_every:.0f}s; "
            f"pid {proc.pid}, state in {tmp}"
        )
        print(
            f"{'t(s)':>6} {'rss_mb':>7} {'fds':>4} {'thr':>4} {'polls':>7} {'articles':>8} "
            f"{'sent':>6} {'pending':>7} {'oldest_s':>8}"
        )
        rows = []
        start = time.monotonic()
        next_outage = args.outage_every or math.inf
        try:
            while time.monotonic() - start < args.minutes * 60:
                time.sleep(args.sample)
                if time.monotonic() - start >= next_outage:
                    telegram.queue(*[TelegramReply.error(502, "Bad Gateway")] * 20)
                    next_outage += args.outage_every
                if proc.poll() is not None:
                    print(f"daemon exited early with {proc.returncode}; see {tmp / 'monitor.log'}")
                    return 1
                rss, fds, threads = proc_stats(proc.pid)
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).json()
                    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
                except httpx.HTTPError as exc:
                    print(f"  (sample skipped: {type(exc).__name__})")
                    continue
                oldest = health.get("oldest_pending_age_seconds") or 0.0
                row = (
                    time.monotonic() - start,
                    rss,
                    fds,
                    threads,
                    metric(text, "monitor_polls_total"),
                    metric(text, "monitor_articles_total"),
                    metric(text, "monitor_alerts_total", 'outcome="sent"'),
                    health.get("outbox_pending", 0),
                    oldest,
                )
                rows.append(row)
                print(
                    f"{row[0]:6.0f} {rss:7.1f} {fds:4d} {threads:4d} {row[4]:7.0f} {row[5]:8.0f} "
                    f"{row[6]:6.0f} {row[7]:7d} {oldest:8.1f}",
                    flush=True,
                )
        finally:
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            stop_s = time.monotonic() - t0
            log.close()
    with sqlite3.connect(tmp / "monitor.db") as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    print(f"stop: SIGTERM -> exit {code} in {stop_s:.1f}s; PRAGMA integrity_check: {integrity}")
    print(f"telegram messages received: {len(telegram.messages)}")
    if len(rows) < 4:
        print("too few samples for drift figures (run longer or sample more often)")
        return 0
    rss_a, rss_b = drift([r[1] for r in rows])
    fd_a, fd_b = drift([r[2] for r in rows])
    old_max = max(r[8] for r in rows[len(rows) // 4 :])
    print(
        f"rss: {rss_a:.1f} MB (2nd quarter mean) -> {rss_b:.1f} MB (last quarter mean), "
        f"{100 * (rss_b - rss_a) / rss_a:+.1f}%"
    )
    print(f"fds: {fd_a:.1f} -> {fd_b:.1f} (min {min(r[2] for r in rows)}, max {max(r[2] for r in rows)})")
    old_a, old_b = drift([r[8] for r in rows])
    print(
        f"outbox age: mean {old_a:.1f}s (2nd quarter) -> {old_b:.1f}s (last quarter); "
        f"oldest pending alert at most {old_max:.1f}s after warm-up "
        f"(poll interval {args.interval:.0f}s); pending at most {max(r[7] for r in rows)}"
    )
    rate = rows[-1][4] / rows[-1][0] if rows[-1][0] else math.nan
    print(f"throughput: {rate:.1f} polls/s, {rows[-1][5]:.0f} articles, {rows[-1][6]:.0f} alerts sent")
    # A send failed in an outage is retried after 30-37 s, then 60-75 s, ...: allow a few rounds.
    limit = 3 * args.interval + (300 if args.outage_every else 0)
    ok = (rss_b - rss_a) / rss_a <= 0.15 and fd_b - fd_a <= 10 and old_max <= limit and code == 0 and integrity == "ok"
    print(
        f"flat: {'yes' if ok else 'NO'} (RSS growth <= 15%, FDs +10 at most, oldest pending <= {limit:.0f}s, "
        f"clean stop, intact store)"
    )
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
