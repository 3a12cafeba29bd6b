"""Cluster rows (table ``cluster_nodes``) and reads of procrastinate's job tables.

Cluster mode (service/cluster.py) runs several `monitor run` nodes on one PostgreSQL
store. Each node beats its ``cluster_nodes`` row; the work itself is procrastinate jobs
(``procrastinate_jobs``, ``procrastinate_workers``, created by migration 0009), read here
as plain SQL for /healthz and `monitor status`, and used as the fence of a send
(:class:`Lease`): a send job sends, and writes any outcome of a send (sent, failed, dead,
what a target got or refused, a message id), only while its job still holds the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    cast,
    column,
    exists,
    func,
    literal,
    select,
    table,
    update,
)

from monitor.storage.claims import SessionLock
from monitor.storage.db import Database, lock_key, record
from monitor.storage.schema import alerts, cluster_nodes, feeds

log = logging.getLogger(__name__)

# procrastinate's tables as plain SQL (their DDL is procrastinate's, applied by migration 0009).
_jobs = table(
    "procrastinate_jobs",
    column("id"),
    column("queue_name"),
    column("status"),
    column("worker_id"),
    column("task_name"),
    column("lock"),
    column("queueing_lock"),
    column("attempts"),
)
_workers = table("procrastinate_workers", column("id"), column("last_heartbeat"))

QUEUE = "monitor"
"""The procrastinate queue of every monitor job but polls. Workers listen on it and
:data:`POLL_QUEUE` alone, so another application's jobs in a shared procrastinate schema
are never fetched (and failed as an unknown task); counts and takeovers look at them alone too."""
POLL_QUEUE = "monitor.poll"
"""The queue of poll jobs: a node takes them only while it has a poll slot free, so polls
hanging on slow pages never take the slots of the tick and the sends (service/cluster.py)."""
QUEUES = (QUEUE, POLL_QUEUE)


@dataclass(frozen=True)
class Lease:
    """A send's hold on its channel: run `attempt` of procrastinate job `job_id` by worker
    `worker_id` (the job's ``attempts`` when the worker fetched it).

    It holds while the job is still ``doing`` under that worker at that attempt. A job of a
    worker found stalled and retried (service/cluster.py) loses it: procrastinate's retry
    counts one more attempt, so not even the same worker fetching the job again revives the
    old run's lease. A run whose lease is gone sends nothing more and its outcomes do not
    count (storage/outbox.py)."""

    job_id: int
    worker_id: int
    attempt: int = 0


def lease_holds(lease: Lease) -> ColumnElement[bool]:
    """The SQL condition "`lease` still holds" (for a WHERE clause). The job row is read
    FOR SHARE, so a takeover's retry of the job (an UPDATE of that row) waits for the
    statement's transaction, or the statement sees the retried row: a fenced write and a
    takeover never interleave."""
    return exists(
        select(_jobs.c.id)
        .where(
            _jobs.c.id == lease.job_id,
            cast(_jobs.c.status, String) == "doing",
            _jobs.c.worker_id == lease.worker_id,
            _jobs.c.attempts == lease.attempt,
        )
        .with_for_update(read=True)
    )


@dataclass(frozen=True)
class NodeRow:
    """One `monitor run` node as its heartbeat row says (datetimes aware UTC)."""

    name: str
    host: str
    pid: int
    started_at: datetime
    last_beat: datetime
    stopped_at: datetime | None = None
    worker_id: int | None = None  # its procrastinate worker while one runs
    stall_after: float | None = None  # its own cluster_stall_after, seconds (None: rows before 0011)
    beat_age: float = 0.0  # seconds since its last beat, by the database's clock (as read)


@dataclass(frozen=True)
class NodeId:
    """One `monitor run` process: its MONITOR_NODE name, and (host, pid, start) telling it
    from another process under the same name (the row's owner)."""

    name: str
    host: str
    pid: int
    started_at: datetime


@dataclass(frozen=True)
class JobCounts:
    """procrastinate jobs at one moment: waiting, running, running under a worker whose
    heartbeat is older than the stall timeout (or gone), and failed for good."""

    queued: int
    running: int
    stalled: int
    failed: int


@dataclass(frozen=True)
class RecentSend:
    """One alert a node sent: how many seconds ago (the database's clock, so a sender's
    skewed clock does not shorten a wait) and its stored HTML (how many messages it took is
    the channel's business: a long Telegram alert is several)."""

    age: float
    html: str


@dataclass(frozen=True)
class StalledJob:
    """A running job whose worker is silent past its holder's stall timeout (or gone)."""

    id: int
    task_name: str
    lock: str | None


@dataclass(frozen=True)
class FeedClock:
    """What cluster_due needs of a feed's stored state."""

    name: str
    last_polled_at: datetime | None
    next_poll_at: datetime | None


# the database's clock (PostgreSQL: cluster mode only): every liveness and rate stamp of a
# cluster is read and written with it, never a node's (db-scheduler#433, margince#1346)
DB_NOW = func.clock_timestamp()
_BEAT_AGE = cast(func.extract("epoch", DB_NOW - cluster_nodes.c.last_beat), Float).label("beat_age")
NODE_NAME_MAX: int = (
    getattr(cluster_nodes.c.name.type, "length", None) or 200
)  # a MONITOR_NODE longer is refused at start
_NODE_COLS = [cluster_nodes.c[f.name] for f in fields(NodeRow) if f.name in cluster_nodes.c] + [_BEAT_AGE]


NODE_LOCK = "monitor-node:"  # what a node's name is prefixed with in its locks' keys
_NODE_SPACE = 0x6E6F64  # classid of the nodes' session locks on their names (apart from page claims')
# seconds a start waits for its name's session lock: a namesake that just stopped cleanly may
# still be closing its connection; a live one keeps it and the start is refused after this
NAME_LOCK_WAIT = 3.0


def _owned(node: NodeId) -> ColumnElement[bool]:
    c = cluster_nodes.c
    return and_(c.name == node.name, c.host == node.host, c.pid == node.pid, c.started_at == node.started_at)


class ClusterRows(Database):
    """Heartbeats, due work and job counts for cluster mode (raise StoreError)."""

    def node_lock(self, name: str) -> SessionLock:
        """The session lock a node holds on its name for its process's life (not yet taken)."""
        return SessionLock(self, _NODE_SPACE, lock_key(NODE_LOCK + name), f"node:{name}")

    def claim_node(self, node: NodeId, lock: SessionLock, silent: Callable[[NodeRow], bool]) -> NodeRow | None:
        """Take the row of `node`'s name for this process, unless another live process holds
        the name: that one's row is returned (the caller refuses to start, celery's
        DuplicateNodenameWarning kind, celery#2046); None when `lock` (the name's session
        lock, :meth:`node_lock`) and the row are now ours. A process is live while it holds
        the name's lock: a session of its own, freed by the server the moment the process
        dies or its connection closes, so a restart after a crash (kill -9, a container
        restarted or recreated) takes its name back at once, and two live processes with the
        same host and pid (two containers' pid 1 on one host network) never take each
        other's name (redteam17c #4). A holder whose row is `silent` (the caller's measure:
        no beat for several times as long as a node stays alive) while its session still
        holds the lock is a frozen process or a dead machine whose connection the server
        still thinks open (it may for hours, until TCP keepalives give up): its session is
        ended and the name taken (the frozen one, thawed, finds its name taken and says so)."""
        if not lock.acquire():
            row = self._node_row(node.name)
            if row is None or (row.stopped_at is None and not silent(row)):
                return row or NodeRow(node.name, "(no row yet)", 0, node.started_at, node.started_at)
            if row.stopped_at is None:
                ended = lock.end_holders()
                log.warning(
                    "node name taken from a silent holder node=%s host=%s pid=%d last_beat_age=%.0fs sessions_ended=%d",
                    node.name,
                    row.host,
                    row.pid,
                    row.beat_age,
                    ended,
                )
            # a stopped holder may still be closing its connection; an ended one is going
            if not lock.acquire(NAME_LOCK_WAIT):
                return row
        values = {
            "host": node.host,
            "pid": node.pid,
            "started_at": node.started_at,
            "last_beat": DB_NOW,
            "stopped_at": None,
            "worker_id": None,
            "stall_after": None,
        }
        ins = self.insert_into(cluster_nodes).values(name=node.name, **values)
        with self.tx() as conn:
            conn.execute(ins.on_conflict_do_update(index_elements=["name"], set_=values))
        self._retire_dead(node)
        return None

    def _retire_dead(self, node: NodeId) -> None:
        """Mark stopped the rows of `node`'s host whose process is gone (its name's lock is
        free): a restart under a new default name leaves its old row, which would show as a
        dead node until the prune. A node of an older version (no lock) marked so is
        unmarked by its next beat."""
        c = cluster_nodes.c
        with self.tx() as conn:
            names = conn.execute(
                select(c.name).where(c.host == node.host, c.stopped_at.is_(None), c.name != node.name)
            ).scalars()
            for name in list(names):
                key = lock_key(NODE_LOCK + name)
                if conn.execute(select(func.pg_try_advisory_xact_lock(_NODE_SPACE, key))).scalar():
                    conn.execute(update(cluster_nodes).where(c.name == name).values(stopped_at=DB_NOW))

    def _node_row(self, name: str) -> NodeRow | None:
        with self.tx() as conn:
            row = conn.execute(select(*_NODE_COLS).where(cluster_nodes.c.name == name)).first()
        return record(NodeRow, row) if row is not None else None

    def beat(self, node: NodeId, *, worker_id: int | None = None, stall_after: float | None = None) -> bool:
        """Refresh `node`'s heartbeat row (the database's clock) with its running procrastinate
        worker and its own stall timeout in seconds; the row is made again if the prune
        dropped it. False when another process holds the name's row now."""
        values = {"last_beat": DB_NOW, "stopped_at": None, "worker_id": worker_id, "stall_after": stall_after}
        with self.tx() as conn:
            if conn.execute(update(cluster_nodes).where(_owned(node)).values(**values)).rowcount:
                return True
            ins = self.insert_into(cluster_nodes).values(
                name=node.name, host=node.host, pid=node.pid, started_at=node.started_at, **values
            )
            made = ins.on_conflict_do_nothing(index_elements=["name"]).returning(cluster_nodes.c.name)
            return conn.execute(made).first() is not None

    def node_stopped(self, node: NodeId) -> None:
        """`node` stopped cleanly (its own row only, never a namesake's)."""
        with self.tx() as conn:
            conn.execute(update(cluster_nodes).where(_owned(node)).values(stopped_at=DB_NOW))

    def nodes(self) -> list[NodeRow]:
        """Every node that ever beat, most recent beat first, each with its beat's age."""
        with self.tx() as conn:
            rows = conn.execute(select(*_NODE_COLS).order_by(cluster_nodes.c.last_beat.desc())).all()
        return [record(NodeRow, r) for r in rows]

    def forget_nodes(self, seconds: float) -> int:
        """Drop rows of nodes whose last beat is over `seconds` old; how many."""
        old = cluster_nodes.c.last_beat < DB_NOW - func.make_interval(0, 0, 0, 0, 0, 0, literal(seconds, Float))
        with self.tx() as conn:
            return int(conn.execute(cluster_nodes.delete().where(old)).rowcount or 0)

    def db_now(self) -> datetime:
        """The database's clock now (aware UTC): what cluster stamps are compared with."""
        with self.tx() as conn:
            now: datetime = conn.execute(select(DB_NOW)).scalar_one()
        return now

    def feed_clocks(self) -> dict[str, FeedClock]:
        """{feed name: its last poll and next allowed poll} for every stored feed."""
        with self.tx() as conn:
            rows = conn.execute(select(feeds.c.name, feeds.c.last_polled_at, feeds.c.next_poll_at)).all()
        return {r.name: FeedClock(r.name, r.last_polled_at, r.next_poll_at) for r in rows}

    def due_channels(self, now: datetime) -> list[str]:
        """Channels with a pending alert due at `now` (sorted). Holds are judged by the
        caller against the config (delivery/holds.py): which targets a channel sends to
        and at what rate are the config's."""
        due = alerts.c.next_attempt_at.is_(None) | (alerts.c.next_attempt_at <= now)
        with self.tx() as conn:
            rows = conn.execute(
                select(alerts.c.channel).where(alerts.c.status == "pending", due).group_by(alerts.c.channel)
            ).all()
        return sorted(str(r.channel) for r in rows)

    def recent_sends(self, channel: str, seconds: float) -> list[RecentSend]:
        """Alerts of `channel` sent in the last `seconds` (how long ago by the database's
        clock, and their stored HTML), oldest first (rate limits across nodes)."""
        age = func.extract("epoch", DB_NOW - alerts.c.sent_at)
        since = DB_NOW - func.make_interval(0, 0, 0, 0, 0, 0, literal(seconds, Float))
        with self.tx() as conn:
            rows = conn.execute(
                select(age.label("age"), alerts.c.html)
                .where(alerts.c.channel == channel, alerts.c.status == "sent", alerts.c.sent_at >= since)
                .order_by(alerts.c.sent_at)
            ).all()
        return [RecentSend(float(r.age), str(r.html or "")) for r in rows]

    def job_counts(self, stall_after: float) -> JobCounts:
        """Counts of our procrastinate jobs (queues :data:`QUEUES`); a running job is stalled
        when its worker is gone or silent longer than its holder's stall timeout (the
        holder node's ``stall_after``; `stall_after` seconds for a worker no node claims)."""
        ours = _jobs.c.queue_name.in_(QUEUES)
        with self.tx() as conn:
            by_status = {
                str(s): int(n)
                for s, n in conn.execute(
                    select(cast(_jobs.c.status, String), func.count())
                    .where(ours)
                    .group_by(cast(_jobs.c.status, String))
                ).all()
            }
            stalled = conn.execute(_stalled(select(func.count()), stall_after)).scalar()
        return JobCounts(
            by_status.get("todo", 0), by_status.get("doing", 0), int(stalled or 0), by_status.get("failed", 0)
        )

    def stalled_jobs(self, stall_after: float) -> list[StalledJob]:
        """Our running jobs whose worker is gone or silent longer than the *holder's*
        ``cluster_stall_after`` (its node row; `stall_after` seconds when no row names the
        worker), oldest first. The holder's own figure, so a node configured with a
        shorter timeout does not take the live work of a node that beats less often."""
        with self.tx() as conn:
            rows = conn.execute(
                _stalled(select(_jobs.c.id, _jobs.c.task_name, _jobs.c.lock), stall_after).order_by(_jobs.c.id)
            ).all()
        return [StalledJob(int(r.id), str(r.task_name), r.lock) for r in rows]

    def waiting_locks(self) -> set[str]:
        """The queueing locks of our jobs waiting to run (``todo``): a job already waits
        for each (procrastinate allows one waiting job per queueing lock)."""
        with self.tx() as conn:
            rows = conn.execute(
                select(_jobs.c.queueing_lock).where(
                    _jobs.c.queue_name.in_(QUEUES),
                    cast(_jobs.c.status, String) == "todo",
                    _jobs.c.queueing_lock.is_not(None),
                )
            ).all()
        return {str(r.queueing_lock) for r in rows}

    def still_doing(self, worker_id: int, job_ids: list[int]) -> list[int]:
        """Those of `job_ids` still ``doing`` under worker `worker_id` (sorted)."""
        if not job_ids:
            return []
        with self.tx() as conn:
            rows = conn.execute(
                select(_jobs.c.id).where(
                    _jobs.c.id.in_(job_ids),
                    _jobs.c.worker_id == worker_id,
                    cast(_jobs.c.status, String) == "doing",
                )
            ).all()
        return sorted(int(r.id) for r in rows)

    def lease_covers(self, lease: Lease, alert_ids: list[int]) -> bool:
        """Whether `lease` still holds and every one of `alert_ids` is still pending: a
        send job asks right before each send (a run frozen past the stall timeout wakes
        to find its job rerun elsewhere, or the alert sent by the new holder)."""
        if not alert_ids:
            return False
        with self.tx() as conn:
            n = conn.execute(
                select(func.count())
                .select_from(alerts)
                .where(alerts.c.id.in_(alert_ids), alerts.c.status == "pending", lease_holds(lease))
            ).scalar()
        return int(n or 0) == len(set(alert_ids))

    def worker_of_job(self, job_id: int) -> int | None:
        """The procrastinate worker running job `job_id` now (None: not running)."""
        with self.tx() as conn:
            wid = conn.execute(
                select(_jobs.c.worker_id).where(_jobs.c.id == job_id, cast(_jobs.c.status, String) == "doing")
            ).scalar()
        return int(wid) if wid is not None else None


def _stalled(query: Any, stall_after: float) -> Any:
    """`query` over our ``doing`` jobs whose worker row is gone, or older than the holder
    node's ``stall_after`` (`stall_after` when no node row names the worker)."""
    holder = cluster_nodes.alias("holder")
    limit = func.coalesce(holder.c.stall_after, literal(stall_after, Float))
    return query.select_from(
        _jobs.outerjoin(_workers, _workers.c.id == _jobs.c.worker_id).outerjoin(
            holder, holder.c.worker_id == _jobs.c.worker_id
        )
    ).where(
        _jobs.c.queue_name.in_(QUEUES),
        cast(_jobs.c.status, String) == "doing",
        _workers.c.id.is_(None)
        | (_workers.c.last_heartbeat < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, limit)),
    )
