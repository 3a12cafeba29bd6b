"""Read-only summaries of the store for /healthz, /metrics, `monitor status` and ``Store.counts``.

Each function takes any :class:`~monitor.storage.db.Database` (a ``Store`` is one) and
raises StoreError when the store does not answer. Datetimes are aware UTC; ages are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from monitor.storage.db import Database
from monitor.storage.schema import alerts, articles, feeds, matches


@dataclass(frozen=True)
class Backlog:
    """The outbox and the page-retry queue at one moment."""

    pending: int  # alerts not yet sent (due now or backing off)
    due: int  # pending alerts whose next attempt is now or past
    dead: int
    oldest_pending_age: float | None  # seconds since the oldest pending alert was made
    articles_retrying: int  # article pages that failed and will be fetched again


@dataclass(frozen=True)
class AlertError:
    id: int
    topic_id: str
    channel: str
    status: str
    attempts: int
    error: str
    created_at: datetime


def _aware(value: object) -> datetime | None:
    """An aware UTC datetime from what min()/max() return (SQLite: naive text)."""
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def backlog(store: Database, now: datetime | None = None) -> Backlog:
    now = now or datetime.now(UTC)
    pending = alerts.c.status == "pending"
    with store.tx() as conn:
        n_pending, oldest = conn.execute(select(func.count(), func.min(alerts.c.created_at)).where(pending)).one()
        due = conn.execute(
            select(func.count()).where(
                pending, (alerts.c.next_attempt_at.is_(None)) | (alerts.c.next_attempt_at <= now)
            )
        ).scalar_one()
        dead = conn.execute(select(func.count()).where(alerts.c.status == "dead")).scalar_one()
        retrying = conn.execute(select(func.count()).where(articles.c.status == "fetch_failed")).scalar_one()
    oldest = _aware(oldest)
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else None
    return Backlog(int(n_pending), int(due), int(dead), age, int(retrying))


def last_success(store: Database) -> datetime | None:
    """When any feed was last polled successfully."""
    with store.tx() as conn:
        value = conn.execute(select(func.max(feeds.c.last_success_at))).scalar_one()
    return _aware(value)


def matches_by_topic(store: Database, since: datetime) -> dict[str, int]:
    with store.tx() as conn:
        rows = conn.execute(
            select(matches.c.topic_id, func.count()).where(matches.c.created_at >= since).group_by(matches.c.topic_id)
        ).all()
    return {topic: int(n) for topic, n in rows}


def alert_errors(store: Database, limit: int = 5) -> list[AlertError]:
    """The newest alerts that failed at least once (pending retry or dead)."""
    q = (
        select(
            alerts.c.id,
            alerts.c.topic_id,
            alerts.c.channel,
            alerts.c.status,
            alerts.c.attempts,
            alerts.c.last_error.label("error"),
            alerts.c.created_at,
        )
        .where(alerts.c.last_error.is_not(None), alerts.c.status != "sent")
        .order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        .limit(limit)
    )
    with store.tx() as conn:
        rows = conn.execute(q).all()
    return [AlertError(**r._mapping) for r in rows]


def counts(store: Database) -> dict[str, int]:
    """articles (done), articles_failed (fetch_failed), matches, alerts_pending/sent/dead."""
    with store.tx() as conn:
        by_status = {
            str(s): int(n) for s, n in conn.execute(select(articles.c.status, func.count()).group_by(articles.c.status))
        }
        n_matches = int(conn.execute(select(func.count()).select_from(matches)).scalar_one())
        by_alert = {
            str(s): int(n) for s, n in conn.execute(select(alerts.c.status, func.count()).group_by(alerts.c.status))
        }
    return {
        "articles": by_status.get("done", 0),
        "articles_failed": by_status.get("fetch_failed", 0),
        "matches": n_matches,
        "alerts_pending": by_alert.get("pending", 0),
        "alerts_sent": by_alert.get("sent", 0),
        "alerts_dead": by_alert.get("dead", 0),
    }


def ping(store: Database) -> None:
    """One trivial query; raises StoreError when the store does not answer."""
    with store.tx() as conn:
        conn.execute(select(1)).scalar_one()
