"""Cluster mode against the real PostgreSQL: the send job's lease fences every send and
every outcome a send job writes (issue 17, redteam17b #1 and #5).

A node frozen (SIGSTOP, a paused VM) past the stall timeout wakes with its send job
rerun elsewhere. Whatever it then does must not count: no new send (the lease is checked
right before each), and no sent / retry / dead / delivered / refused / message-id write.

Rebuilt (no text copied) from public reports of the kind:
- celery/celery#5935 and pretix/pretix#2058: a long task redelivered to a second worker
  while the first, only slow, still ran it: mails sent twice.
- procrastinate-org/procrastinate#740: retry a stalled job only when reasonably sure it
  is not running any more; both runs write their outcome otherwise.
- ayrat555/el_monitorro#66: delivery state written from a stale view after a partial
  failure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from monitor.config.load import parse_config
from monitor.delivery.failures import SendResult
from monitor.delivery.outbox import ChannelSender, SendRequest
from monitor.models import NewAlert
from monitor.service.cluster_status import conninfo
from monitor.storage import QUEUE, Lease, Store
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: "tgram://1:x/2", ops: "tgram://1:x/3"}}
notify: {{ops_channel: ops}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


@pytest.fixture(scope="module")
def pg():
    """(store, config) on one fresh database for the module: each case makes its own rows."""
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            yield store, parse_config(CONFIG.format(url=url), env={})
        finally:
            store.close()


def sql(store: Store, query: str, *args: object) -> list[tuple]:
    url = str(store.engine.url.render_as_string(hide_password=False)) if store.engine else ""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


def held_job(store: Store) -> Lease:
    """A send job running under a live worker, and its lease."""
    worker = int(sql(store, "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")[0][0])
    job = int(
        sql(
            store,
            "INSERT INTO procrastinate_jobs (queue_name, task_name, lock, args, status, worker_id) "
            "VALUES (%s, 'monitor.send', NULL, '{}', 'doing', %s) RETURNING id",
            QUEUE,
            worker,
        )[0][0]
    )
    return Lease(job, worker, 0)


def pending_alert(store: Store, n: int = 0) -> int:
    article = int(
        sql(
            store,
            "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
            "VALUES (%s, %s, 'F', '', '', 't', 'x', 'done', 0, '') RETURNING id",
            f"http://a/{n}/{datetime.now(UTC).timestamp()}",
            f"a/{n}/{datetime.now(UTC).timestamp()}",
        )[0][0]
    )
    return int(
        sql(
            store,
            "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, "
            "delivered) VALUES (%s, 't', 'tg', 's', 'x', 'x', 'pending', 0, now() + make_interval(secs => %s), '') "
            "RETURNING id",
            article,
            n,
        )[0][0]
    )


# what a takeover (or the new holder) did to the lease's job or to the alert before the write
def _rerun(store: Store, lease: Lease) -> None:  # the tick's retry: back to todo, one more attempt
    sql(
        store,
        "SELECT procrastinate_retry_job_v2(%s::bigint, now(), NULL::int, NULL::varchar, NULL::varchar)",
        lease.job_id,
    )


def _refetched_by_same_worker(store: Store, lease: Lease) -> None:
    _rerun(store, lease)
    sql(
        store,
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
        lease.worker_id,
        lease.job_id,
    )


def _run_by_another_worker(store: Store, lease: Lease) -> None:
    other = int(sql(store, "INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")[0][0])
    _rerun(store, lease)
    sql(store, "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s", other, lease.job_id)


def _superseded(store: Store, lease: Lease) -> None:  # a waiting copy existed: the stalled job deleted
    sql(store, "DELETE FROM procrastinate_jobs WHERE id = %s", lease.job_id)


def _sent_by_new_holder(store: Store, lease: Lease, alert: int) -> None:
    sql(store, "UPDATE alerts SET status = 'sent', sent_at = now() WHERE id = %s", alert)


# (case, what happened before the write, the write counts)
STATES = [
    ("the lease holds", None, True),
    ("rerun by the tick: back to todo", _rerun, False),
    ("rerun, then fetched again by the same worker (one more attempt)", _refetched_by_same_worker, False),
    ("rerun, now run by another worker", _run_by_another_worker, False),
    ("superseded by a waiting copy: job deleted", _superseded, False),
    ("job still held, alert sent by the new holder meanwhile", "alert", False),
]

NOTICE = NewAlert("ops:fence", "ops", "s", "t", "h")

# (write, call) of every outcome a send job writes
WRITES = [
    ("sent", lambda s, a, lease: s.mark_sent(a, datetime.now(UTC), lease)),
    ("retry", lambda s, a, lease: s.mark_failed(a, "e", datetime.now(UTC) + timedelta(seconds=30), lease=lease)),
    ("dead, with its ops notice", lambda s, a, lease: s.mark_dead(a, "e", NOTICE, lease=lease)),
    ("delivered", lambda s, a, lease: s.mark_delivered([a], "k1", lease=lease)),
    ("refused", lambda s, a, lease: s.mark_delivered([a], "k1", refused=True, lease=lease)),
    ("part", lambda s, a, lease: s.mark_delivered([a], "k1", part=0, lease=lease)),
    ("message id", lambda s, a, lease: s.record_message(a, "k1", "77", lease=lease)),
]


def _row(store: Store, alert: int) -> tuple:
    return (
        sql(store, "SELECT status, attempts, delivered, last_error FROM alerts WHERE id = %s", alert)[0],
        sql(store, "SELECT count(*) FROM alert_messages WHERE alert_id = %s", alert)[0][0],
        sql(store, "SELECT count(*) FROM alerts WHERE topic_id = 'ops:fence'")[0][0],
    )


@pytest.mark.parametrize("write,call", WRITES, ids=[w[0] for w in WRITES])
@pytest.mark.parametrize("case,before,counts", STATES, ids=[s[0] for s in STATES])
def test_every_outcome_of_a_send_is_fenced(pg, write, call, case, before, counts):
    store, _config = pg
    sql(store, "DELETE FROM alerts WHERE topic_id = 'ops:fence'")
    lease, alert = held_job(store), pending_alert(store)
    if before == "alert":
        _sent_by_new_holder(store, lease, alert)
    elif before is not None:
        before(store, lease)
    untouched = _row(store, alert)
    assert store.lease_covers(lease, [alert]) is counts, case  # what a send asks right before it goes
    assert call(store, alert, lease) is counts, f"{write}: {case}"
    assert (_row(store, alert) != untouched) is counts, f"{write}: {case}: {_row(store, alert)}"


class FakeBot:
    """The channel's send function: records each request; `during(n)` runs inside send n
    (0-based) before its answer (the freeze: the takeover happens while it is in flight)."""

    def __init__(self, answer: SendResult, during=None) -> None:
        self.answer, self.during, self.sent = answer, during, []

    def __call__(self, request: SendRequest) -> SendResult:
        n = len(self.sent)
        self.sent.append(request.part.html)
        if self.during is not None and n == 0:
            self.during()
            return self.answer
        return SendResult(True)


OK, FORBIDDEN = SendResult(True), SendResult(False, "403 Forbidden: bot was blocked by the user", permanent=True)
TRANSIENT = SendResult(False, "connection reset", retry_after=None)

# (case, the channel's rate, the first send's answer, lease lost while the first send is in
# flight (else: during the rate-limit wait before it), Bot API sends, alert states after)
SENDER = [
    ("control: the lease holds, both sent", None, OK, None, 2, ("sent", "sent")),
    # redteam17b #1: frozen in the rate-limit wait, no message in flight: nothing may go out
    ("lost during the rate-limit wait: nothing sent", "1/s", OK, False, 0, ("pending", "pending")),
    # the in-flight message may arrive (the one allowed duplicate); its record does not count
    ("lost with an accepted send in flight: not recorded, drain stops", None, OK, True, 1, ("pending", "pending")),
    # redteam17b #5: a thawed node's 403 must not write off an alert the takeover delivered
    ("lost with a 403 in flight: the alert is not made dead", None, FORBIDDEN, True, 1, ("pending", "pending")),
    ("lost with a transient failure in flight: no retry counted", None, TRANSIENT, True, 1, ("pending", "pending")),
]


@pytest.mark.parametrize("case,rate,answer,in_flight,sends,states", SENDER, ids=[s[0] for s in SENDER])
def test_a_sender_whose_lease_is_lost_stops(pg, case, rate, answer, in_flight, sends, states):
    store, config = pg
    sql(store, "UPDATE alerts SET status = 'sent' WHERE channel = 'tg' AND status = 'pending'")
    options = dict(config.channel_options)
    options["tg"] = options["tg"].model_copy(update={"rate": rate if rate else []})
    config = replace(config, channel_options=options)
    lease = held_job(store)
    alerts = [pending_alert(store, 0), pending_alert(store, 1)]
    if rate:  # a send a moment ago: the first send waits on the limiter (its sleep is the freeze)
        earlier = pending_alert(store, -1)
        store.mark_sent(earlier, datetime.now(UTC))

    def lose() -> None:
        _run_by_another_worker(store, lease)

    def freeze(seconds: float) -> None:
        if in_flight is False:
            lose()

    bot = FakeBot(answer, during=lose if in_flight else None)
    sender = ChannelSender(config, store, "tg", send=bot, sleep=freeze)
    report = sender.drain(lease=lease)
    assert len(bot.sent) == sends, case
    got = tuple(store.get_alert(a).status for a in alerts)
    assert got == states, case
    if in_flight is not None:
        assert report.sent == report.dead == report.failed == 0, report
        assert all(store.get_alert(a).attempts == 0 and store.get_alert(a).delivered == "" for a in alerts), case
    assert sender.lease is None  # the lease was the job's, not left on the shared sender
