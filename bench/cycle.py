#!/usr/bin/env python3
"""One daemon, many feeds: the wall time and peak memory of one full polling cycle (issue 16).

    python3 bench/cycle.py [--feeds 2000] [--hosts 4] [--items 1] [--shared DIR]

Serves --feeds RSS feeds spread over --hosts loopback addresses (127.0.0.1, 127.0.0.2, ...;
each its own threaded HTTP server, so the daemon sees --hosts different hosts). Each feed
lists --items items whose pages are built from REAL SaudiNewsNet articles (the same pages as
bench/versus_script.py: ../shared, else /work/shared, else the tests/fixtures excerpts, and it
says which). Then `python3 -m monitor run` (a real subprocess, SQLite store, every feature
on, the shipped fetch limits: 8 connections in all, 2 per host) polls them with a one-hour
interval, so each feed is polled exactly once in the measured cycle.

The servers count requests in flight per host and in all; the cycle ends when every feed and
every page was served and the store holds every article. Printed: the cycle's wall time, the
daemon's CPU (user+sys) and peak RSS (ru_maxrss via os.wait4 after SIGTERM), RSS samples
during the cycle, and the most requests in flight seen at once per host and in all, against
the configured limits.

Targets (issue 16): peak RSS <= 200 MB; in flight never above the limits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import versus_script as vs  # noqa: E402  (same corpus pages and topics)
import yaml  # noqa: E402

MAX_CONNECTIONS, MAX_PER_HOST = 8, 2  # the shipped fetch defaults (monitor/config/schema.py)


class Counter:
    """Requests in flight per host and in all, with their maxima."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now: dict[str, int] = {}
        self.peak: dict[str, int] = {}
        self.total = self.total_peak = 0
        self.feeds: set[int] = set()
        self.pages = 0

    def enter(self, host: str) -> None:
        with self.lock:
            self.now[host] = self.now.get(host, 0) + 1
            self.peak[host] = max(self.peak.get(host, 0), self.now[host])
            self.total += 1
            self.total_peak = max(self.total_peak, self.total)

    def leave(self, host: str) -> None:
        with self.lock:
            self.now[host] -= 1
            self.total -= 1


def serve(host: str, counter: Counter, pages: list[str], feeds: dict[int, list[int]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:
            counter.enter(host)
            try:
                kind, _, num = self.path.strip("/").partition("/")
                i = int(num.split(".")[0])
                if kind == "feed":
                    port = self.server.server_address[1]
                    items = "".join(
                        f"<item><title>{escape(f'item {j}')}</title><link>http://{host}:{port}/a/{j}.html</link>"
                        f"<guid>http://{host}:{port}/a/{j}.html</guid></item>"
                        for j in feeds[i]
                    )
                    body = (
                        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                        f"<title>feed {i}</title><link>http://{host}:{port}/</link><description>cycle</description>"
                        f"{items}</channel></rss>"
                    ).encode()
                    ctype = "application/rss+xml; charset=utf-8"
                    with counter.lock:
                        counter.feeds.add(i)
                else:
                    body, ctype = pages[i].encode(), "text/html; charset=utf-8"
                    with counter.lock:
                        counter.pages += 1
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            finally:
                counter.leave(host)

    srv = ThreadingHTTPServer((host, 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--feeds", type=int, default=2000)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--items", type=int, default=1)
    ap.add_argument("--shared", default=None)
    ap.add_argument("--timeout", type=float, default=3600.0, help="give up after this many seconds")
    args = ap.parse_args()

    n_pages = args.feeds * args.items
    arts, source = vs.load_articles(n_pages, vs.shared_dir(args.shared))
    pages = vs.build_pages(arts)
    n_pages = len(pages)
    feeds = {i: [j % n_pages for j in range(i * args.items, (i + 1) * args.items)] for i in range(args.feeds)}
    hosts = [f"127.0.0.{h + 1}" for h in range(args.hosts)]
    counter = Counter()
    servers = [serve(h, counter, pages, feeds) for h in hosts]
    print(f"data: {source}; {args.feeds} feeds x {args.items} item(s) over {len(hosts)} hosts, {n_pages} pages")

    work = Path(tempfile.mkdtemp(prefix="cycle-"))
    feed_urls = [
        f"http://{hosts[i % len(hosts)]}:{servers[i % len(hosts)].server_address[1]}/feed/{i}.xml"
        for i in range(args.feeds)
    ]
    config = {
        "storage": "sqlite:///monitor.db",
        "fetch": {"allow_private_networks": True},
        "defaults": {"interval": "1h"},
        "feeds": [{"name": f"feed {i}", "url": u} for i, u in enumerate(feed_urls)],
        "channels": {"sink": "json://127.0.0.1:9/sink"},
        "topics": vs.load_topics(),
    }
    (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.monotonic()
    with open(work / "err.txt", "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(work / "config.yaml"), "run"],
            cwd=work,
            stdout=err,
            stderr=err,
            env=env,
        )
    samples: list[tuple[float, float, int, int]] = []
    done_at = None
    db = work / "monitor.db"
    while time.monotonic() - started < args.timeout and proc.poll() is None:
        time.sleep(5)
        stored = 0
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
                    stored = conn.execute("SELECT count(*) FROM articles WHERE status = 'done'").fetchone()[0]
            except sqlite3.Error:
                pass
        samples.append((time.monotonic() - started, rss_mb(proc.pid), len(counter.feeds), stored))
        if len(counter.feeds) >= args.feeds and stored >= n_pages:
            done_at = time.monotonic() - started
            break
    proc.send_signal(signal.SIGTERM)
    _, status, ru = os.wait4(proc.pid, 0)
    for s in servers:
        s.shutdown()
    print("\n   t (s)   RSS MB   feeds polled   articles stored")
    step = max(1, len(samples) // 12)
    shown = sorted(set(range(0, len(samples), step)) | ({len(samples) - 1} if samples else set()))
    for t, rss, nf, st in (samples[k] for k in shown):
        print(f"  {t:6.0f}   {rss:6.1f}   {nf:12d}   {st:15d}")
    cycle = f"{done_at:.0f} s" if done_at is not None else f"not finished in {args.timeout:.0f} s"
    print(f"\ncycle: {cycle} wall for {args.feeds} feeds and {n_pages} new articles")
    print(f"daemon: CPU {ru.ru_utime + ru.ru_stime:.1f} s, peak RSS {ru.ru_maxrss / 1024:.1f} MB (target <= 200 MB)")
    print(f"exit after SIGTERM: {os.waitstatus_to_exitcode(status)}")
    per_host = ", ".join(f"{h} {counter.peak.get(h, 0)}" for h in hosts)
    print(
        f"most in flight: per host {per_host} (limit {MAX_PER_HOST}); in all {counter.total_peak} (limit {MAX_CONNECTIONS})"
    )
    ok = (
        done_at is not None
        and ru.ru_maxrss / 1024 <= 200
        and max(counter.peak.values(), default=0) <= MAX_PER_HOST
        and counter.total_peak <= MAX_CONNECTIONS
    )
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
