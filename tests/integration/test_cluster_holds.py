"""Cluster mode against the real PostgreSQL: what red team 17's breaks needed, piece by
piece (the end-to-end runs of `monitor run` nodes are tests/acceptance/test_cluster_redteam.py).

- A channel's hold (a Telegram flood wait, a failure pause, a rate-limit wait) is a row in
  the database, in its clock, honoured by every node's tick and send jobs.
- A send job never sleeps long in a worker slot: a far rate-limit slot ends it.
- Node rows are claimed by one process per name and aged by the database's clock.
- A database migrated by a newer version is refused with the cause and the fix.

Rebuilt (no text copied) from public reports, cited in the rows: claude-code-queue#3 (a
rate-limit hit pauses the whole queue), majiayu000/harness#656 (a shorter pause must not
replace a longer one), inngest/website#449 and pass-culture-main#17021 (a rate-limited
task ends and comes back instead of sleeping), fishtest#1264 and hydroshare#5574 (one
worker name copied to several servers), icinga2#7472 (a name longer than its column),
pgadmin4#1353 and metabase#14904 (an older version on a newer database), liquibase#872 (a
session advisory lock outlives its machine's power loss until the server drops the dead
connection).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitor.delivery.failures import SendResult
from monitor.errors import ConfigError, StoreError
from monitor.service.cluster import ClusterNode
from monitor.service.cluster_status import check_node_name, cluster_summary
from monitor.storage import QUEUE, Lease, NodeId, Store
from monitor.storage.db import head_revision
from tests.support.cluster import node_on, sql
from tests.support.databases import UNDO_AFTER_0015, fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
cluster_stall_after: 3s
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: {{urls: "tgram://1:x/2", rate: {rate}}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


@contextlib.contextmanager
def cluster_node(rate: str = "1/s") -> Iterator[ClusterNode]:
    with fresh_pg_database() as url, node_on(url, CONFIG.format(url=url, rate=rate)) as node:
        yield node


def _url(node: ClusterNode) -> str:
    return node.pipeline.config.storage_url


def _pending_alert(node: ClusterNode, status: str = "pending", sent_ago: float | None = None) -> int:
    """An alert of channel tg (rows by hand: the hold, not the pipeline, is under test)."""
    url = _url(node)
    article = sql(
        url,
        "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
        "VALUES ('http://a/' || gen_random_uuid(), gen_random_uuid()::text, 'F', '', '', 't', 'x', 'done', 0, '') "
        "RETURNING id",
    )
    sent = None if sent_ago is None else f"clock_timestamp() - interval '{sent_ago} seconds'"
    rows = sql(
        url,
        "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, "
        f"delivered, sent_at) VALUES (%s, 't', 'tg', 's', 'x', 'x', %s, 0, now(), '', {sent or 'NULL'}) RETURNING id",
        article[0][0],
        status,
    )
    return int(rows[0][0])


def _hold(node: ClusterNode, reason: str, seconds: float, channel: str = "tg") -> None:
    """Hold `channel` as its send job would: its rate limit (keyed by the channel, under
    its limits now), or a server's hold of its first target (keyed by the target)."""
    sender = node.pipeline.outbox.senders[channel]
    if reason == "rate":
        node.store.hold_rate(channel, seconds, sender.rate)
    else:
        target = sender.hold_ids[sender.targets[0].key]
        node.store.hold_target(target.key, target.label, channel, seconds, reason)


def _held(node: ClusterNode, channel: str = "tg") -> tuple[float, str]:
    """(seconds left, reason) of the hold that keeps `channel` silent; (0, "") if none."""
    hold = node.pipeline.outbox.senders[channel].held(node.store.holds())
    return (hold.left, hold.reason) if hold is not None else (0.0, "")


def _lease(node: ClusterNode, channel: str = "tg") -> Lease:
    """A send job of `channel` running under a live worker (what procrastinate hands a job;
    each its own queueing lock, so a test may run one job after another)."""
    url = _url(node)
    worker = int(sql(url, "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")[0][0])
    job = sql(
        url,
        "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, queueing_lock, args, status, worker_id) "
        "VALUES (%s, 'monitor.send', NULL, %s, '{}', 'doing', %s) RETURNING id",
        QUEUE,
        f"send:{channel}:{worker}",
        worker,
    )
    return Lease(int(job[0][0]), worker)


# ---- a channel's hold -------------------------------------------------------------------
# (case, holds set one after the other [(reason, seconds)], seconds left about, reason kept)
HOLDS = [
    ("a flood wait holds (claude-code-queue#3)", [("flood wait", 20)], 20, "flood wait"),
    (
        "a shorter rate wait never shortens a flood wait (harness#656)",
        [("flood wait", 20), ("rate", 5)],
        20,
        "flood wait",
    ),
    ("a rate wait replaces a rate wait (the config's rate changed)", [("rate", 3600), ("rate", 5)], 5, "rate"),
    ("a longer flood wait replaces a rate wait", [("rate", 5), ("flood wait", 20)], 20, "flood wait"),
    ("a shorter flood wait keeps the longer failure pause", [("failure", 30), ("flood wait", 10)], 30, "failure"),
    ("an ended flood wait gives way to a rate wait", [("flood wait", 0), ("rate", 5)], 5, "rate"),
    ("nothing held", [], 0, ""),
]


@pytest.mark.parametrize("case,holds,left,reason", HOLDS, ids=[h[0] for h in HOLDS])
def test_a_channel_hold_is_kept_by_the_database_for_every_node(case, holds, left, reason):
    with cluster_node() as node:
        _pending_alert(node)
        for why, seconds in holds:
            _hold(node, why, seconds)
        got_left, got_reason = _held(node)
        assert got_left == pytest.approx(left, abs=2.0), case
        assert got_reason == reason, case
        # the tick queues no send for a held channel; another node's send job does nothing
        assert ("tg" in node.due_work()[1]) is (left == 0), case
        sent: list[object] = []
        node.pipeline.outbox.senders["tg"].send = lambda request: sent.append(request) or SendResult(ok=True)
        node.send_job("tg", _lease(node))
        assert bool(sent) is (left == 0), case


# (case, the channel's rate, its last send this long ago by the database's clock, the job
# sends now, the channel held afterwards about this long (0: not held))
SLOTS = [
    ("1/h, sent 10 s ago: the job ends, held ~1 h (inngest#449, pass-culture#17021)", "1/h", 10.0, False, 3590.0),
    ("20/m used up a second ago by 20 sends: ends, held ~59 s", "20/m", 1.0, False, 59.0),
    ("1/s, sent 0.5 s ago: Telegram's own pace waits in the job", "1/s", 0.5, True, 0.0),
    ("1/m, sent 61 s ago: sends at once", "1/m", 61.0, True, 0.0),
    ("1/h, never sent: sends at once", "1/h", None, True, 0.0),
]


@pytest.mark.parametrize("case,rate,ago,sends,held", SLOTS, ids=[s[0] for s in SLOTS])
def test_a_send_job_waiting_for_a_far_slot_frees_its_worker_slot(case, rate, ago, sends, held):
    with cluster_node(rate) as node:
        if ago is not None:
            for _ in range(20 if rate == "20/m" else 1):
                _pending_alert(node, "sent", ago)
        alert = _pending_alert(node)
        sent: list[object] = []
        node.pipeline.outbox.senders["tg"].send = lambda request: sent.append(request) or SendResult(ok=True)
        node.send_job("tg", _lease(node))
        assert bool(sent) is sends, case
        assert (node.store.get_alert(alert).status == "sent") is sends, case
        left, reason = _held(node)
        assert left == pytest.approx(held, abs=3.0), case
        assert reason == ("rate" if held else ""), case


# (case, retry_after Telegram asks for, the channel held at least this long)
FLOODS = [
    ("429 retry after 20 s: every node waits (telegraf#1563)", 20.0, 20.0),
    ("429 retry after 300 s", 300.0, 300.0),
    ("a transient failure without retry_after: a short pause for every node", None, 1.0),
]


@pytest.mark.parametrize("case,retry_after,least", FLOODS, ids=[f[0] for f in FLOODS])
def test_a_flood_wait_is_held_for_the_cluster(case, retry_after, least):
    with cluster_node() as node:
        first, second = _pending_alert(node), _pending_alert(node)
        calls: list[object] = []

        def flood(request: object) -> SendResult:
            calls.append(request)
            return SendResult(ok=False, error="429 Too Many Requests", retry_after=retry_after)

        node.pipeline.outbox.senders["tg"].send = flood
        lease = _lease(node)
        node.send_job("tg", lease)
        left, reason = _held(node)
        assert left >= least - 1.0, case
        assert reason == ("flood wait" if retry_after else "failure"), case
        assert len(calls) == 1, case  # the first alert's 429 stopped the pass
        # the next send job (any node: a fresh sender's memory is empty) sends nothing
        node.pipeline.outbox.senders["tg"].blocked_until = None
        node.send_job("tg", lease)
        assert len(calls) == 1, case
        assert {node.store.get_alert(a).status for a in (first, second)} == {"pending"}


# ---- node rows: one process per name, the database's clock --------------------------------
def _dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


# (case, the row held: (host, pid, beat age s, stopped) or None, its process's session still holds
# the name's lock, this process takes the name). Live is the lock (a session the server ends
# with its process), never the row's host or pid; a holder silent 3x past the stall timeout
# has its session ended (a frozen VM; a dead machine's connection the server still keeps).
CLAIMS = [
    ("no row yet", None, False, True),
    ("its node stopped cleanly", ("other-host", 4242, 1.0, True), False, True),
    ("a live node on another host (fishtest#1264, hydroshare#5574)", ("other-host", 4242, 1.0, False), True, False),
    ("a live process on this host", ("HERE", "LIVE", 1.0, False), True, False),
    ("this host's process died (a kill -9, then systemd restarts it)", ("HERE", "DEAD", 1.0, False), False, True),
    ("this pid on this host: a container restarted as pid 1 again", ("HERE", "MINE", 1.0, False), False, True),
    ("two live containers' pid 1 on one host network (redteam17c #4)", ("HERE", "MINE", 1.0, False), True, False),
    (
        "another host's node silent past the stall timeout, its process gone",
        ("other-host", 4242, 600.0, False),
        False,
        True,
    ),
    (
        "silent past the stall timeout, its session still open (a frozen VM, or a dead machine's half-open "
        "connection: liquibase#872): the session ended, the name taken",
        ("other-host", 4242, 600.0, False),
        True,
        True,
    ),
    (
        "a container recreated under a new hostname: the old one died 1 s ago",
        ("other-host", 1, 1.0, False),
        False,
        True,
    ),
]


@pytest.mark.parametrize("case,row,live,taken", CLAIMS, ids=[c[0] for c in CLAIMS])
def test_a_node_name_is_claimed_by_one_live_process(case, row, live, taken):
    with cluster_node() as node, contextlib.ExitStack() as stack:
        if row is not None:
            host, pid, age, stopped = row
            host = node.host if host == "HERE" else host
            pid = {"LIVE": os.getppid(), "DEAD": _dead_pid(), "MINE": node.pid}.get(pid, pid)
            sql(
                _url(node),
                "INSERT INTO cluster_nodes (name, host, pid, started_at, last_beat, stopped_at) VALUES "
                "(%s, %s, %s, now() - interval '1 hour', clock_timestamp() - make_interval(secs => %s), "
                "CASE WHEN %s THEN now() END)",
                node.name,
                host,
                pid,
                age,
                stopped,
            )
        if live:  # the holder's own session (another store: another connection)
            holder = Store(_url(node))
            stack.callback(holder.close)
            lock = holder.node_lock(node.name)
            assert lock.acquire(), case
            stack.callback(lock.release)
        if taken:
            node.claim_name()
            mine = [r for r in node.store.nodes() if r.name == node.name]
            assert [(r.host, r.pid) for r in mine] == [(node.host, node.pid)], case
            assert node.store.beat(node.node, worker_id=None, stall_after=3.0), case
            if live:  # the silent holder's session was ended: on thaw it finds its name taken
                assert not lock.held(), case
        else:
            with pytest.raises(ConfigError, match="MONITOR_NODE=.* is in use by another running node"):
                node.claim_name()
            # the live holder's row is untouched, and this process's beats never overwrite it
            assert not node.store.beat(node.node, worker_id=None, stall_after=3.0), case
            assert node.started_at not in [r.started_at for r in node.store.nodes()], case


def test_a_namesakes_stop_does_not_mark_the_holders_row_stopped():
    with cluster_node() as node:
        node.claim_name()
        other = NodeId(node.name, "other-host", 4242, datetime.now(UTC))
        node.store.node_stopped(other)
        (row,) = node.store.nodes()
        assert row.stopped_at is None


# (case, the node's last beat this long ago by the database's clock, alive)
AGES = [
    ("beat 1 s ago", 1.0, True),
    ("beat 2 min ago (a node whose own clock runs 2 min behind looked dead)", 120.0, False),
    ("beat 5 s in the future (its clock ahead: never 'older' than it is)", -5.0, True),
]


@pytest.mark.parametrize("case,age,alive", AGES, ids=[a[0] for a in AGES])
def test_nodes_alive_by_the_databases_clock(case, age, alive):
    with cluster_node() as node:
        sql(
            _url(node),
            "INSERT INTO cluster_nodes (name, host, pid, started_at, last_beat) VALUES "
            "('n', 'h', 1, now(), clock_timestamp() - make_interval(secs => %s))",
            age,
        )
        summary = cluster_summary(node.store, 30.0, 1.0)
        assert summary["nodes_alive"] == int(alive), case
        assert summary["nodes"][0]["last_beat_age_seconds"] == pytest.approx(age, abs=2.0), case


def test_a_failed_beat_never_skips_the_re_record_of_lost_job_ends():
    with cluster_node() as node:
        recovered: list[bool] = []

        def beat_fails() -> None:
            raise StoreError("value too long for type character varying(200)")

        node._beat_row = beat_fails  # type: ignore[method-assign]
        node._recover_lost_ends = lambda: recovered.append(True)  # type: ignore[method-assign]
        with pytest.raises(StoreError):
            node._heartbeat()
        assert recovered == [True]


# (case, MONITOR_NODE, accepted)
NAMES = [
    ("200 characters: the column's length", "n" * 200, True),
    ("201 characters (icinga2#7472: a name longer than its column)", "n" * 201, False),
    ("200 Arabic letters (the column counts characters, not bytes)", "ع" * 200, True),
    ("a host:pid default", "host.example:1234", True),
]


@pytest.mark.parametrize("case,name,accepted", NAMES, ids=[n[0] for n in NAMES])
def test_a_node_name_longer_than_its_column_is_refused_at_start(monkeypatch, case, name, accepted):
    monkeypatch.setenv("MONITOR_NODE", name)
    if not accepted:
        with pytest.raises(ConfigError, match=f"MONITOR_NODE is {len(name)} characters long"):
            check_node_name(name)
        return
    assert check_node_name(name) == name
    with cluster_node() as node:
        node.claim_name()
        assert [r.name for r in node.store.nodes()] == [name], case


# ---- a database migrated by a newer version ------------------------------------------------
# (case, the revision the database says it is at, refused)
SCHEMAS = [
    ("a revision this version lacks (pgadmin4#1353, metabase#14904)", "f00dfeed0099", True),
    ("a revision before this version's (0013, no holds table): migrated on", "0013", False),
    ("this version's head", None, False),
]


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
@pytest.mark.parametrize("case,revision,refused", SCHEMAS, ids=[s[0] for s in SCHEMAS])
def test_a_database_migrated_by_a_newer_version_is_refused_with_the_fix(tmp_path, kind, case, revision, refused):
    with contextlib.ExitStack() as stack:
        if kind == "postgresql":
            url = stack.enter_context(fresh_pg_database())
        else:
            url = f"sqlite:///{tmp_path / 'monitor.db'}"
        Store(url).close()
        if revision is not None:
            # 0013 had neither holds table (0015 keeps 0014's channel_holds: redteam17e #1)
            older = (
                [*UNDO_AFTER_0015, "DROP TABLE target_holds", "DROP TABLE channel_holds"] if revision == "0013" else []
            )
            if kind == "postgresql":
                for statement in older:
                    sql(url, statement)
                sql(url, "UPDATE alembic_version SET version_num = %s", revision)
            else:
                with sqlite3.connect(tmp_path / "monitor.db") as conn:
                    for statement in older:
                        conn.execute(statement)
                    conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        if refused:
            with pytest.raises(StoreError) as err:
                Store(url)
            said = str(err.value)
            assert f"the database is at schema {revision}, newer than this version's {head_revision()}" in said
            assert "upgrade this node" in said, said
        else:
            Store(url).close()
            if kind == "sqlite":
                with sqlite3.connect(tmp_path / "monitor.db") as conn:
                    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
