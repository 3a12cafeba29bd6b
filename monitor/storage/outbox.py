"""Outbox rows (tables ``alerts``, ``alert_messages``): what is due, what each target got,
what went dead, and what each target called the message it took."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, null, select, update

from monitor.models import NewAlert
from monitor.storage.articles import STORED_COLS, StoredArticle
from monitor.storage.cluster import DB_NOW, Lease, lease_holds
from monitor.storage.db import Database, columns, record, utcnow
from monitor.storage.prepared import Prepared
from monitor.storage.progress import DeliveryProgress, Mark
from monitor.storage.schema import alert_messages, alerts, articles, chat_migrations, matches

# the outcomes of a send without a lease, compiled once (issue 16)
_BY_ID = alerts.c.id == bindparam("alert_id")
_MARK_SENT = Prepared(
    update(alerts).where(_BY_ID).values(status="sent", sent_at=bindparam("sent_at"), next_attempt_at=null())
)
_SUFFIX = bindparam("suffix", type_=alerts.c.delivered.type)
_MARK_DELIVERED = Prepared(update(alerts).where(_BY_ID).values(delivered=func.trim(alerts.c.delivered + _SUFFIX)))


@dataclass(frozen=True)
class OutboxAlert:
    id: int
    article_id: int
    topic_id: str
    channel: str
    subject: str
    text: str
    html: str
    attempts: int
    created_at: datetime
    status: str  # "pending" | "sent" | "dead"
    last_error: str | None
    next_attempt_at: datetime | None
    delivered: str = ""  # the column as stored; read it through `progress`
    digest: str | None = None
    reply_to: int | None = None  # a story follow-up: the alert it follows (its message is replied to)

    @property
    def progress(self) -> DeliveryProgress:
        """What each target has had of this alert (storage/progress.py)."""
        return DeliveryProgress.parse(self.delivered)


_ALERT_COLS = columns(alerts, OutboxAlert)


class _NotHeld(Exception):
    """A fenced write found its lease gone part-way (rolls its transaction back)."""


class OutboxRows(Database):
    """Reads and writes of the alert outbox (raise StoreError). Datetimes are aware UTC."""

    def due_alerts(self, now: datetime, channel: str | None = None, limit: int = 100) -> list[OutboxAlert]:
        """Pending alerts due at `now` (of `channel`, or of all), oldest first."""
        q = select(*_ALERT_COLS).where(
            alerts.c.status == "pending", (alerts.c.next_attempt_at.is_(None)) | (alerts.c.next_attempt_at <= now)
        )
        if channel is not None:
            q = q.where(alerts.c.channel == channel)
        q = q.order_by(alerts.c.created_at, alerts.c.id).limit(limit)
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [record(OutboxAlert, r) for r in rows]

    def _update_alert(self, alert_id: int, **values: Any) -> int:
        with self.tx() as conn:
            result = conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))
        return int(result.rowcount or 0)

    @staticmethod
    def _fenced(q: Any, lease: Lease | None) -> Any:
        """`q` (an UPDATE of alerts) limited to pending alerts while `lease` holds (cluster
        mode: the send job's fence, storage/cluster.py); `q` itself without a lease."""
        return q if lease is None else q.where(alerts.c.status == "pending", lease_holds(lease))

    def mark_sent(self, alert_id: int, now: datetime, lease: Lease | None = None) -> bool:
        """Every target has the alert. With a `lease` (cluster mode) it only counts while the
        lease still holds and the alert is pending, and is stamped with the database's clock
        instead of `now` (`rate:` is read with it on any node); False when it did not count."""
        if lease is None:  # compiled once (issue 16: one per alert sent)
            with self.tx() as conn:
                return bool(_MARK_SENT.execute(conn, {"alert_id": alert_id, "sent_at": now}).rowcount)
        q = self._fenced(update(alerts).where(alerts.c.id == alert_id), lease)
        with self.tx() as conn:
            done = conn.execute(q.values(status="sent", sent_at=DB_NOW, next_attempt_at=None)).rowcount
        return bool(done)

    def mark_failed(self, alert_id: int, error: str, next_attempt_at: datetime, lease: Lease | None = None) -> bool:
        """One more failed attempt; stays pending until `next_attempt_at`. Fenced by `lease`
        as :meth:`mark_sent`; False when it did not count."""
        q = self._fenced(update(alerts).where(alerts.c.id == alert_id), lease)
        values = {"attempts": alerts.c.attempts + 1, "last_error": error, "next_attempt_at": next_attempt_at}
        with self.tx() as conn:
            return bool(conn.execute(q.values(**values)).rowcount)

    def mark_dead(self, alert_id: int, error: str, notice: NewAlert | None = None, lease: Lease | None = None) -> bool:
        """Give up (counts as an attempt); `notice` (an ops message) is queued in the same
        transaction, once per dead alert. Fenced by `lease` as :meth:`mark_sent` (a node
        whose job was taken over never writes off an alert, nor queues its notice); False
        when it did not count."""
        with self.tx() as conn:
            row = conn.execute(
                self._fenced(update(alerts).where(alerts.c.id == alert_id), lease)
                .values(status="dead", attempts=alerts.c.attempts + 1, last_error=error, next_attempt_at=None)
                .returning(alerts.c.article_id)
            ).first()
            if row is not None and notice is not None:
                self._queue_notice(conn, row.article_id, notice)
        return row is not None

    def mark_delivered(
        self,
        alert_ids: list[int],
        key: str,
        *,
        part: int | None = None,
        refused: bool = False,
        lease: Lease | None = None,
    ) -> bool:
        """Record that target `key` got these alerts (or their part `part`; or, `refused`,
        refused them for good), so a retry skips it. Appends one mark (progress.Mark) to
        each alert's progress in the database, so concurrent marks are never lost.
        Fenced by `lease` as :meth:`mark_sent`, all alerts or none; False when it did not
        count. Raises ValueError for a key the progress grammar cannot hold."""
        suffix = Mark(key, part, refused).appended()
        try:
            with self.tx() as conn:
                if lease is None:  # compiled once (issue 16: one per alert and target)
                    _MARK_DELIVERED.execute_many(conn, [{"alert_id": i, "suffix": suffix} for i in alert_ids])
                    return True
                for alert_id in alert_ids:
                    q = self._fenced(update(alerts).where(alerts.c.id == alert_id), lease)
                    if not conn.execute(q.values(delivered=func.trim(alerts.c.delivered + suffix))).rowcount and lease:
                        raise _NotHeld  # rolls the marks already made back: all or none
        except _NotHeld:
            return False
        return True

    def retry_now(self, alert_id: int) -> bool:
        """A pending alert that failed before ("retrying") due now, its attempts kept;
        False if it is not pending with attempts, or held for a digest."""
        with self.tx() as conn:
            done = conn.execute(
                update(alerts)
                .where(
                    alerts.c.id == alert_id,
                    alerts.c.status == "pending",
                    alerts.c.attempts > 0,
                    alerts.c.digest.is_(None),
                )
                .values(next_attempt_at=None)
            ).rowcount
        return bool(done)

    def requeue(self, alert_id: int) -> bool:
        """A dead alert back to pending with attempts 0, its refused targets to be tried
        again (targets that got it are kept); False if it is not dead."""
        with self.tx() as conn:
            row = conn.execute(
                select(alerts.c.delivered).where(alerts.c.id == alert_id, alerts.c.status == "dead")
            ).first()
            if row is None:
                return False
            kept = DeliveryProgress.parse(row.delivered).without_refusals().format()
            conn.execute(
                update(alerts)
                .where(alerts.c.id == alert_id)
                .values(status="pending", attempts=0, next_attempt_at=None, digest=None, delivered=kept)
            )
        return True

    def record_message(self, alert_id: int, target: str, message_id: str, lease: Lease | None = None) -> bool:
        """What `target` called the message that carried the alert (Telegram: its message_id).
        With a `lease` only while it holds and the alert is pending; False when not written."""
        with self.tx() as conn:
            if lease is not None:
                held = select(alerts.c.id).where(
                    alerts.c.id == alert_id, alerts.c.status == "pending", lease_holds(lease)
                )
                if conn.execute(held).first() is None:
                    return False
            conn.execute(
                self.insert_into(alert_messages)
                .values(alert_id=alert_id, target=target, message_id=str(message_id))
                .on_conflict_do_nothing(index_elements=["alert_id", "target"])
            )
        return True

    def _queue_notice(self, conn: Any, article_id: int, notice: NewAlert) -> None:
        """Queue an ops notice (on `article_id`, once per topic id) inside the caller's transaction."""
        conn.execute(
            self.insert_into(alerts)
            .values(
                article_id=article_id,
                topic_id=notice.topic_id,
                channel=notice.channel,
                subject=notice.subject,
                text=notice.text,
                html=notice.html,
                status="pending",
                attempts=0,
                created_at=utcnow(),
                delivered="",
            )
            .on_conflict_do_nothing(index_elements=["article_id", "topic_id", "channel"])
        )

    def record_chat_migration(
        self,
        target: str,
        old_chat: str,
        new_chat: str,
        notice: NewAlert | None = None,
        *,
        article_id: int | None = None,
    ) -> None:
        """Remember that chat `old_chat` of `target` (outbox.target_key) is now `new_chat`;
        `notice` (an ops message, on the alert's `article_id`) is queued in the same
        transaction, once per migration."""
        with self.tx() as conn:
            conn.execute(
                self.insert_into(chat_migrations)
                .values(target=target, old_chat=old_chat, new_chat=new_chat, migrated_at=utcnow())
                .on_conflict_do_update(
                    index_elements=["target", "old_chat"], set_={"new_chat": new_chat, "migrated_at": utcnow()}
                )
            )
            if notice is not None and article_id is not None:
                self._queue_notice(conn, article_id, notice)

    def chat_migrations(self, target: str) -> dict[str, str]:
        """{old chat id: new chat id} remembered for `target` (outbox.target_key)."""
        with self.tx() as conn:
            rows = conn.execute(
                select(chat_migrations.c.old_chat, chat_migrations.c.new_chat).where(chat_migrations.c.target == target)
            ).all()
        return {r.old_chat: r.new_chat for r in rows}

    def message_ref(self, alert_id: int, target: str) -> str | None:
        """What `target` called the message that carried alert `alert_id` (None: unknown)."""
        with self.tx() as conn:
            ref: str | None = conn.execute(
                select(alert_messages.c.message_id).where(
                    alert_messages.c.alert_id == alert_id, alert_messages.c.target == target
                )
            ).scalar()
        return ref

    def channel_due(
        self, channel: str, now: datetime, *, ignore_backoff: bool = False, limit: int = 100
    ) -> list[OutboxAlert]:
        """Pending alerts of `channel` due at `now`, oldest first. `ignore_backoff` also
        takes failed ones still waiting to retry (never alerts held for a digest)."""
        due: ColumnElement[bool] = alerts.c.next_attempt_at.is_(None) | (alerts.c.next_attempt_at <= now)
        if ignore_backoff:
            due = due | alerts.c.digest.is_(None) | (alerts.c.attempts > 0)
        q = (
            select(*_ALERT_COLS)
            .where(alerts.c.status == "pending", alerts.c.channel == channel, due)
            .order_by(alerts.c.created_at, alerts.c.id)
            .limit(limit)
        )
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [record(OutboxAlert, r) for r in rows]

    def next_due(self, channel: str) -> datetime | None:
        """When the next pending alert of `channel` is due (None: nothing pending)."""
        with self.tx() as conn:
            pending = alerts.c.status == "pending"
            if conn.execute(
                select(alerts.c.id)
                .where(pending, alerts.c.channel == channel, alerts.c.next_attempt_at.is_(None))
                .limit(1)
            ).first():
                return datetime.min.replace(tzinfo=UTC)
            due: datetime | None = conn.execute(
                select(func.min(alerts.c.next_attempt_at)).where(pending, alerts.c.channel == channel)
            ).scalar()
        return due

    def alert_articles(self, article_ids: list[int]) -> dict[int, StoredArticle]:
        """The articles behind some alerts (for digests), by id."""
        if not article_ids:
            return {}
        with self.tx() as conn:
            rows = conn.execute(select(*STORED_COLS).where(articles.c.id.in_(set(article_ids)))).all()
        return {r.id: record(StoredArticle, r) for r in rows}

    def alert_source(self, alert_id: int) -> tuple[StoredArticle, str, str, str] | None:
        """(article, topic_id, hits JSON, snippet) an alert was rendered from."""
        with self.tx() as conn:
            row = conn.execute(
                select(
                    *STORED_COLS,
                    matches.c.topic_id.label("m_topic"),
                    matches.c.hits.label("m_hits"),
                    matches.c.snippet.label("m_snippet"),
                )
                .join_from(alerts, articles, articles.c.id == alerts.c.article_id)
                .join(
                    matches, (matches.c.article_id == alerts.c.article_id) & (matches.c.topic_id == alerts.c.topic_id)
                )
                .where(alerts.c.id == alert_id)
            ).first()
        if row is None:
            return None
        return record(StoredArticle, row), row.m_topic, row.m_hits, row.m_snippet

    def pending_by_channel(self) -> dict[str, int]:
        """Pending alerts per channel name."""
        with self.tx() as conn:
            rows = conn.execute(
                select(alerts.c.channel, func.count()).where(alerts.c.status == "pending").group_by(alerts.c.channel)
            ).all()
        return {str(c): int(n) for c, n in rows}

    def alert_outcomes(self, article_ids: list[int]) -> dict[int, dict[str, int]]:
        """{article id: {alert status ("pending" | "sent" | "dead"): count}} for the articles
        given (the ledger's ``alerted`` says an alert was made; this says what became of it)."""
        if not article_ids:
            return {}
        out: dict[int, dict[str, int]] = {}
        with self.tx() as conn:
            rows = conn.execute(
                select(alerts.c.article_id, alerts.c.status, func.count())
                .where(alerts.c.article_id.in_(sorted(set(article_ids))))
                .group_by(alerts.c.article_id, alerts.c.status)
            ).all()
        for article_id, status, n in rows:
            out.setdefault(int(article_id), {})[str(status)] = int(n)
        return out

    def move_channel(self, old: str, new: str) -> int:
        """Give every pending alert of channel `old` to channel `new` (a renamed channel);
        their attempts and per-target progress are kept (a target URL both channels share
        does not get an alert twice), the next try is now. Returns how many moved."""
        with self.tx() as conn:
            moved = conn.execute(
                update(alerts)
                .where(alerts.c.channel == old, alerts.c.status == "pending")
                .values(channel=new, next_attempt_at=None)
            ).rowcount
        return int(moved or 0)

    def get_alert(self, alert_id: int) -> OutboxAlert | None:
        """Alert `alert_id`, or None."""
        with self.tx() as conn:
            row = conn.execute(select(*_ALERT_COLS).where(alerts.c.id == alert_id)).first()
        return record(OutboxAlert, row) if row else None

    def list_alerts(self, status: str | None = None, limit: int = 100) -> list[OutboxAlert]:
        """At most `limit` alerts (of `status`, or any), newest first."""
        q = select(*_ALERT_COLS)
        if status is not None:
            q = q.where(alerts.c.status == status)
        q = q.order_by(alerts.c.created_at.desc(), alerts.c.id.desc()).limit(limit)
        with self.tx() as conn:
            rows = conn.execute(q).all()
        return [record(OutboxAlert, r) for r in rows]
