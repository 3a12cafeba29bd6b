"""Red team 17e #1: a rolling upgrade across migration 0015 (holds keyed by target).

README ("Upgrading a cluster") says: upgrade one node at a time; the old nodes still running
keep working while the new schema only adds to the old one. Migration 0015 dropped
``channel_holds``, which every 0014 node reads in each tick (``due_channels`` joins it) and
in each send job (``channel_hold``), and writes on a flood wait (``hold_channel``): the first
upgraded node to start broke every old node's tick and sends until they were upgraded too.
The statements below are the 0014 code's (storage/cluster.py before d53f58d), run against
the database as an old node would, after a new node migrated it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from monitor.delivery.holds import channel_keys, held_by
from monitor.storage import Store
from tests.support.cluster import sql
from tests.support.databases import fresh_pg_database, migrate

pytestmark = pytest.mark.integration

# (what the 0014 node does, its statement)
OLD_NODE = [
    (
        "its tick: channels due but for the held ones",
        "SELECT a.channel FROM alerts a WHERE a.status = 'pending' AND NOT EXISTS "
        "(SELECT 1 FROM channel_holds h WHERE h.channel = a.channel AND h.until > clock_timestamp()) "
        "GROUP BY a.channel",
    ),
    (
        "its send job: the channel's hold",
        "SELECT extract(epoch FROM until - clock_timestamp()), reason FROM channel_holds "
        "WHERE channel = 'tg' AND until > clock_timestamp()",
    ),
    (
        "a flood wait it got",
        "INSERT INTO channel_holds (channel, until, reason) VALUES "
        "('tg', clock_timestamp() + interval '30 seconds', 'flood wait') ON CONFLICT (channel) DO UPDATE "
        "SET until = GREATEST(channel_holds.until, excluded.until)",
    ),
]


def _at_0014(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            migrate(conn, "0014")  # the old nodes' schema
    finally:
        engine.dispose()


@pytest.mark.parametrize("case,statement", OLD_NODE, ids=[o[0] for o in OLD_NODE])
def test_an_old_node_keeps_working_after_a_new_node_migrated(case, statement):
    with fresh_pg_database() as url:
        _at_0014(url)
        sql(url, statement)  # the old node works on its own schema
        Store(url).close()  # the first upgraded node starts: migrates to head
        sql(url, statement)  # and the old nodes still running keep working (README)


def test_a_flood_wait_an_old_node_got_after_the_migration_holds_the_new_nodes():
    """#6: during the upgrade an old node still writes its flood waits to ``channel_holds``:
    the new nodes wait them out too (keyed ``channel:NAME``, as 0015 moved the older ones)."""
    with fresh_pg_database() as url:
        _at_0014(url)
        store = Store(url)  # the first upgraded node
        try:
            sql(url, OLD_NODE[2][1])  # an old node's flood wait on tg, after the migration
            held = held_by(store.holds(), "tg", channel_keys("tg", ["tgram://1:x/2"]), "")
            assert held is not None and held.reason == "flood wait"
            assert held.left == pytest.approx(30.0, abs=10.0)
            assert store.clear_holds("tg") == 1  # `monitor outbox holds --clear tg` drops it
            assert store.holds() == []
        finally:
            store.close()
