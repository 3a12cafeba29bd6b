"""Cluster mode on loopback: N `monitor run` nodes x M feeds on one fresh PostgreSQL
database, alerts caught by the fake Bot API (tests/support/telegram.py), pages served by
tests/support/web.py. Articles are real SaudiNewsNet text from tests/fixtures (through
tests/support/corpus_pages; ../shared is not read).

Two runs per node count:

- backlog (CPU-bound): every feed lists all its articles at start and is polled once
  (interval 2 min); the time from the first page fetched to the last alert gives
  articles/s (fetch, extract, match, store, send; the nodes' start-up is left out).
  Run with 1 node, then N nodes: the ratio is the cluster's speed-up.
- arrivals (--minutes K): one new article per feed every K*60/8 s; with --kill, node 0
  gets kill -9 half-way; prints each page alerted / copy_after_send / lost, duplicated alerts, duplicate
  page fetches, and the takeover time (kill -> a survivor reruns or fails the dead node's
  job in favour of its waiting copy; the log line's time).

Every page served is accounted for from the run's own store (the item ledger): "alerted"
= a message names the page (as its article, or in "also in" when the copy was placed
before the alert went out); "copy_after_send" = the ledger records the page as a copy
(same text) of an article a message names: it arrived after that alert was sent, and is
added to the story by design (`monitor stories`), not alerted again; "lost" = anything
else (no ledger row, an item still pending or failed, a copy of an article no message
names), listed by ledger state. "duplicated" counts a page named by more than one message.
"placement_lock_waited": of the moments (sampled every 20 ms) the nodes run SQL, the share
where a session waits on an advisory lock (story placement's per-band and per-term locks,
storage/placelock.py; before them one lock for the whole cluster): near 100% means placement,
not CPU, sets the cluster's pace. "row_lock_waited": the share where one waits on a row lock
(a story another placement joins or merges, or a job row).

    python3 bench/cluster.py [--nodes 2] [--feeds 12] [--minutes 1] [--kill] [--backlog-only]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.cluster import cluster_config, covering_terms, start_node, title_term  # noqa: E402
from tests.support.corpus_pages import saudinewsnet_articles  # noqa: E402
from tests.support.databases import fresh_pg_database  # noqa: E402
from tests.support.service_helpers import serve_feed  # noqa: E402
from tests.support.telegram import FakeTelegram  # noqa: E402
from tests.support.web import WebServer  # noqa: E402

DAYS = ("2015-07-21", "2015-07-22", "2015-07-23")
PER_FEED = 8
SETTLE = 15.0  # seconds after the last arrival for the last alerts (and a takeover)
BACKLOG_LIMIT = 600.0  # seconds: give up waiting for a backlog run


def _articles(n: int) -> list[dict]:
    """`n` distinct real articles whose title has a word the topic can match."""
    pool = [a for d in DAYS for a in saudinewsnet_articles(d) if title_term(a)]
    if n > len(pool):
        raise SystemExit(f"only {len(pool)} usable fixture articles: use fewer --feeds ({PER_FEED} articles each)")
    return pool[:n]


def _alerted(tg: FakeTelegram, web: WebServer, shown: list[int]) -> collections.Counter[str]:
    """Alerts per page path (a page alerted twice counts 2)."""
    got: collections.Counter[str] = collections.Counter()
    urls = {
        web.url(f"/f{i}/article-{j}.html"): f"/f{i}/article-{j}.html" for i, n in enumerate(shown) for j in range(n)
    }
    for m in tg.messages:
        for url, path in urls.items():
            if url in m.text:
                got[path] += 1
    return got


def _wait_busy(db: str, log: Path, limit: float = 30.0) -> None:
    """Wait (at most `limit` s) until node 0's worker (its "node worker ... worker=W" line)
    runs a job."""
    import psycopg

    end = time.monotonic() + limit
    while time.monotonic() < end:
        found = re.search(r"node worker node=n0 worker=(\d+)", log.read_text())
        if found:
            with psycopg.connect(db.replace("+psycopg", "")) as conn:
                row = conn.execute(
                    "SELECT 1 FROM procrastinate_jobs WHERE status = 'doing' AND worker_id = %s", (int(found[1]),)
                ).fetchone()
            if row:
                return
        time.sleep(0.02)


def _ledger(db: str) -> dict[str, tuple[str, str, str | None]]:
    """{page path: (ledger state, reason code, path of the article it copies or None)}."""
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        rows = conn.execute(
            "SELECT i.url, i.state, i.reason_code, a.url FROM items i LEFT JOIN articles a ON a.id = i.ref_article_id"
        ).fetchall()
    path = lambda url: "/" + url.split("/", 3)[3] if url else None  # noqa: E731
    return {str(path(u)): (st, code, path(ref)) for u, st, code, ref in rows}


def _worked(db: str) -> tuple[int, float]:
    """(items worked: no longer pending in the ledger, when the last was worked: epoch s)."""
    import psycopg

    with psycopg.connect(db.replace("+psycopg", "")) as conn:
        n, last = conn.execute("SELECT count(*), max(updated_at) FROM items WHERE state <> 'pending'").fetchone()
    return int(n), last.timestamp() if last else 0.0


def account(
    pages: list[str], got: collections.Counter[str], ledger: dict[str, tuple[str, str, str | None]]
) -> dict[str, object]:
    """Each served page (path) as alerted, copy_after_send or lost (see the module docstring)."""
    copies, lost = [], collections.Counter[str]()
    for page in pages:
        if got[page]:
            continue
        seen, row = {page}, ledger.get(page)
        while row is not None and row[0] == "copy" and row[2] is not None and not got[row[2]] and row[2] not in seen:
            seen.add(row[2])  # a copy of a copy: follow it to the article alerted
            row = ledger.get(row[2])
        if row is not None and row[0] == "copy" and row[2] is not None and got[row[2]]:
            copies.append(page)
        else:
            kind = "no_ledger_row" if row is None else f"{row[0]}/{row[1]}"
            lost["copy_of_unalerted" if row is not None and row[0] == "copy" else kind] += 1
    return {"copy_after_send": len(copies), "lost": sum(lost.values()), "lost_by_state": dict(lost)}


class LockSampler:
    """Samples the database's sessions every 20 ms while the nodes work: the share of samples
    where the nodes run SQL at all (`busy`), where at least one waits on an advisory lock (story
    placement's band and term locks: storage/placelock.py) and where one waits on a row lock
    (a story row another placement holds, or a job row)."""

    def __init__(self, db: str) -> None:
        self.name = db.rsplit("/", 1)[1]
        self.busy = self.waiting = self.row_waiting = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as conn:
            while not self._stop.wait(0.02):
                rows = conn.execute(
                    "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE datname = %s AND state = 'active'",
                    (self.name,),
                ).fetchall()
                if rows:
                    self.busy += 1
                    self.waiting += any(r[1] == "advisory" for r in rows)
                    self.row_waiting += any(r[0] == "Lock" and r[1] in ("transactionid", "tuple") for r in rows)

    def share(self) -> tuple[float, float]:
        """(advisory lock wait share, row lock wait share) of the busy samples."""
        self._stop.set()
        self._thread.join(5)
        return self.waiting / max(self.busy, 1), self.row_waiting / max(self.busy, 1)


def _log_time(line: str) -> float:
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def run(nodes: int, feeds: int, *, backlog: bool, minutes: float = 1.0, kill: bool = False) -> dict[str, object]:
    arts = _articles(feeds * PER_FEED)
    groups = [arts[i * PER_FEED : (i + 1) * PER_FEED] for i in range(feeds)]
    with WebServer() as web, FakeTelegram() as tg, fresh_pg_database() as db, tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shown = [PER_FEED if backlog else 1] * feeds
        for i in range(feeds):
            serve_feed(web, f"/f{i}.xml", groups[i][: shown[i]])
        config = cluster_config(
            base / "config.yaml",
            db,
            [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(feeds)],
            covering_terms(arts),
            tg.base_url,
            cluster_stall_after="6s",
            # backlog: each feed polled once in the run, so the work is the articles, not re-polls
            defaults={"interval": 120 if backlog else 1, "jitter": 0, "timeout": "10s"},
        )
        load = os.getloadavg()[0]
        sampler = LockSampler(db)
        procs = [start_node(config, f"n{i}", base / f"n{i}.log") for i in range(nodes)]
        start = time.monotonic()
        killed_at: float | None = None
        if backlog:  # from the first page fetched to the last alert (node start-up left out)
            previous, first, still, first_wall = 0, None, start, time.time()
            while time.monotonic() - start < BACKLOG_LIMIT:  # until no new alert for SETTLE s
                time.sleep(0.1)
                if first is None and any("/article-" in r.url_path for r in list(web.requests)):
                    first, first_wall = time.monotonic(), time.time()
                n = sum(_alerted(tg, web, shown).values())
                if n != previous:
                    previous, still = n, time.monotonic()
                elif previous and time.monotonic() - still > SETTLE:
                    break
            elapsed = still - (first or start)
        else:
            step = minutes * 60 / PER_FEED
            while min(shown) < PER_FEED:
                time.sleep(step)
                for i in range(feeds):
                    shown[i] += 1
                    serve_feed(web, f"/f{i}.xml", groups[i][: shown[i]])
                if kill and killed_at is None and min(shown) > PER_FEED // 2 and nodes > 1:
                    _wait_busy(db, base / "n0.log")  # kill it while it holds a poll or a send
                    procs[0].send_signal(signal.SIGKILL)
                    killed_at = time.time()
            time.sleep(SETTLE)
            elapsed = time.monotonic() - start
            first_wall = time.time() - elapsed
        lock_share, row_share = sampler.share()
        live = [p for p in procs if p.poll() is None]  # a killed node is reaped here (its CPU not counted)
        for p in live:
            p.send_signal(signal.SIGTERM)
        cpu = 0.0  # CPU seconds of the live node processes (user + system), from their rusage
        for p in live:
            _pid, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
        logs = [(base / f"n{i}.log").read_text() for i in range(nodes)]
        got = _alerted(tg, web, shown)
        pages = [f"/f{i}/article-{j}.html" for i, n in enumerate(shown) for j in range(n)]
        accounted = account(pages, got, _ledger(db))
        worked, last_worked = _worked(db)
        worked_s = max(last_worked - first_wall, 1e-9)
        fetches = collections.Counter(r.url_path for r in web.requests if "/article-" in r.url_path)
        polls = sum(log.count("feed polled") + log.count("feed not modified") for log in logs)
        takeover = "-"
        if killed_at is not None:
            lines = [ln for log in logs[1:] for ln in log.splitlines() if "stalled job" in ln]
            takeover = (
                f"{_log_time(lines[0]) - killed_at:.1f}s" if lines else "none needed (the killed node held no job)"
            )
        return {
            "nodes": nodes,
            "got": got,
            "pages": len(pages),
            **accounted,
            "duplicate_fetches": sum(n - 1 for n in fetches.values()),
            "seconds": elapsed,
            "polls_per_s": polls / elapsed,
            "articles_per_s": len(got) / elapsed,
            "takeover": takeover,
            "cpu_per_article": cpu / max(len(got), 1),
            "worked_per_s": worked / worked_s,
            "worked_s": worked_s,
            "load": load,
            "lock_share": lock_share,
            "row_share": row_share,
        }


def _line(kind: str, r: dict[str, object]) -> str:
    got = r["got"]
    assert isinstance(got, collections.Counter)
    lost = f" lost_by_state={r['lost_by_state']}" if r["lost"] else ""
    return (
        f"{kind:8} nodes={r['nodes']} pages={r['pages']} alerted={len(got)} "
        f"copy_after_send={r['copy_after_send']} lost={r['lost']} "
        f"duplicated={sum(n - 1 for n in got.values())} "
        f"duplicate_fetches={r['duplicate_fetches']} seconds={r['seconds']:.1f} "
        f"articles/s={r['articles_per_s']:.2f} worked/s={r['worked_per_s']:.2f} ({r['worked_s']:.1f}s) "
        f"polls/s={r['polls_per_s']:.2f} "
        f"node_cpu_s/article={r['cpu_per_article']:.3f} takeover={r['takeover']} "
        f"placement_lock_waited={r['lock_share']:.0%} row_lock_waited={r['row_share']:.0%} load1={r['load']:.2f}{lost}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=2)
    ap.add_argument("--feeds", type=int, default=12)
    ap.add_argument("--minutes", type=float, default=1.0, help="length of the arrivals run")
    ap.add_argument("--backlog-only", action="store_true", help="skip the arrivals run")
    ap.add_argument("--kill", action="store_true", help="kill -9 node 0 half-way through the arrivals run")
    args = ap.parse_args()
    one = run(1, args.feeds, backlog=True)
    many = run(args.nodes, args.feeds, backlog=True)
    print(_line("backlog", one))
    print(_line("backlog", many))
    ratio = float(many["articles_per_s"]) / max(float(one["articles_per_s"]), 1e-9)  # type: ignore[arg-type]
    print(f"cluster speed-up on the backlog (articles/s, {args.nodes} nodes vs 1): {ratio:.2f}x")
    worked = float(many["worked_per_s"]) / max(float(one["worked_per_s"]), 1e-9)  # type: ignore[arg-type]
    print(f"cluster speed-up on the backlog (items worked/s, {args.nodes} nodes vs 1): {worked:.2f}x")
    if args.backlog_only:
        return 0
    arrivals = run(args.nodes, args.feeds, backlog=False, minutes=args.minutes, kill=args.kill)
    print(_line("arrivals", arrivals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
