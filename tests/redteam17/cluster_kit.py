"""Shared bits of the red-team cluster reproductions (issue 17): a site of real articles,
alerts counted at the fake Bot API, nodes stopped, raw SQL on the scratch database."""

from __future__ import annotations

import collections
import signal
import subprocess

from tests.support.service_helpers import SAFETY, articles, serve_feed

FEEDS = 2
FIRST, LATER = 2, 2


def site(web, feeds: int = FEEDS):
    arts = articles("2015-07-21", 0, feeds * (FIRST + LATER))
    per_feed = [arts[i * (FIRST + LATER) : (i + 1) * (FIRST + LATER)] for i in range(feeds)]
    pages: list[str] = []
    for i, group in enumerate(per_feed):
        pages += serve_feed(web, f"/f{i}.xml", group[:FIRST])
    return arts, per_feed, pages


def grow(web, per_feed) -> list[str]:
    pages: list[str] = []
    for i, group in enumerate(per_feed):
        pages += serve_feed(web, f"/f{i}.xml", group)
    return pages


def alerts(telegram, pages: list[str]) -> collections.Counter[str]:
    got: collections.Counter[str] = collections.Counter()
    for m in telegram.messages:
        for url in pages:
            if url in m.text:
                got[url] += 1
    return got


def stop(nodes) -> list[int | None]:
    for p in nodes:
        if p.poll() is None:
            p.send_signal(signal.SIGCONT)
            p.send_signal(signal.SIGTERM)
    for p in nodes:
        try:
            p.wait(SAFETY)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return [p.returncode for p in nodes]


def sql(db: str, query: str, *params):
    import psycopg

    with psycopg.connect(db.replace("+psycopg", ""), autocommit=True) as conn:
        cur = conn.execute(query, params or None)
        return cur.fetchall() if cur.description else None


def logs(tmp_path, n: int) -> str:
    return "\n".join((tmp_path / f"n{i}.log").read_text() for i in range(n) if (tmp_path / f"n{i}.log").exists())
