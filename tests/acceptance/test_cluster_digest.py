"""Cluster mode (issue 17): a digest channel on two `monitor run` nodes sends ONE digest per
period, not one per node, with every alert of the period in it once.

An hourly period is too long for a test: each period's end is brought forward by setting
the held alerts' due time (``next_attempt_at``, the end of the period the digest schedule
gave them) to now in the store, which is what the clock reaching the hour does. Everything
else is the real thing: two node processes, the real PostgreSQL, local feeds, the fake Bot
API. Only generous "eventually" waits, never a speed target. With the channel's send lock
and queueing lock taken off the tick's send jobs, the hourly case fails (each period's
digest went out twice, once per node).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.support.cluster import (
    CHAT,
    alerts,
    cluster_config,
    covering_terms,
    grow,
    node_logs,
    site,
    sql,
    start_node,
    stop_nodes,
)
from tests.support.databases import fresh_pg_database
from tests.support.service_helpers import wait_until
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.acceptance

FEEDS = 3

# (case, the digest channel's delivery settings)
DIGESTS = [
    ("hourly digest", {"delivery": "hourly"}),
    ("daily digest, another time zone", {"delivery": "daily", "digest_at": "08:00", "timezone": "Asia/Riyadh"}),
]


def _held(db: str, n: int) -> bool:
    """`n` alerts made, and every pending one held for a later period (none due yet)."""
    import psycopg

    try:
        rows = sql(
            db, "SELECT count(*), count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now()) FROM alerts"
        )
    except psycopg.errors.UndefinedTable:
        return False  # the nodes' migrations are not done yet
    assert rows is not None
    total, held = rows[0]
    return bool(total == n and held > 0 and held == _pending(db))


def _pending(db: str) -> int:
    rows = sql(db, "SELECT count(*) FROM alerts WHERE status = 'pending'")
    assert rows is not None
    return int(rows[0][0])


def _period_ends(db: str, telegram) -> None:
    """The period ends; the Bot API answers its first send slowly, so more ticks queue more
    sends of the channel while the digest is going out (they must wait for it, then find
    nothing due)."""
    telegram.queue(TelegramReply.slow(3.0))
    sql(db, "UPDATE alerts SET next_attempt_at = now() WHERE status = 'pending'")


def _digests(tmp_path, n_nodes: int) -> list[list[int]]:
    """The alert ids of each "digest sent" line of every node's log."""
    found = re.findall(r"digest sent id=([\d,]+) ", node_logs(tmp_path, n_nodes))
    return [[int(i) for i in ids.split(",")] for ids in found]


@pytest.mark.parametrize("case,delivery", DIGESTS, ids=[c[0] for c in DIGESTS])
def test_one_digest_per_channel_per_period(tmp_path, web_server, fake_telegram_unpatched, case, delivery):
    web, telegram = web_server, fake_telegram_unpatched
    arts, per_feed, first_pages = site(web, FEEDS)
    with fresh_pg_database() as db:
        feeds = [(f"F{i}", web.url(f"/f{i}.xml")) for i in range(FEEDS)]
        channel = {"urls": f"tgram://${{TG_TOKEN}}/{CHAT}", "rate": "50/s", **delivery}
        config = cluster_config(
            tmp_path / "config.yaml",
            db,
            feeds,
            covering_terms(arts),
            telegram.base_url,
            channels={"telegram": channel},
        )
        nodes = [start_node(config, f"n{i}", tmp_path / f"n{i}.log") for i in range(2)]
        try:
            periods: list[list[str]] = [first_pages]
            wait_until(lambda: _held(db, len(first_pages)), "period 1's alerts made and held")
            assert telegram.messages == [], case  # held for the digest, nobody sent them
            _period_ends(db, telegram)
            wait_until(lambda: _pending(db) == 0, "period 1's digest sent")
            pages = grow(web, per_feed)
            periods.append([p for p in pages if p not in first_pages])
            wait_until(lambda: _held(db, len(pages)), "period 2's alerts made and held")
            _period_ends(db, telegram)
            wait_until(lambda: _pending(db) == 0, "period 2's digest sent")
            time.sleep(3)  # a second node's late digest would show up now
        finally:
            codes = stop_nodes(nodes)
        logs = node_logs(tmp_path, 2)
        assert codes == [0, 0], logs[-3000:]
        digests = _digests(tmp_path, 2)
        assert len(digests) == 2, f"{case}: one digest per period, got {digests}"
        ids = [i for d in digests for i in d]
        assert len(ids) == len(set(ids)) == len(pages), f"{case}: every alert in one digest once: {digests}"
        for n, period in enumerate(periods):
            got = alerts(telegram, period)
            assert set(got) == set(period), f"{case}: period {n + 1} lost {set(period) - set(got)}"
            assert max(got.values()) == 1, f"{case}: period {n + 1} alerted twice: {got}"
        assert "alert sent" not in logs, f"{case}: a held alert went out on its own"
