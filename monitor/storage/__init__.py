"""Durable storage (SQLite or PostgreSQL via SQLAlchemy Core, schema by Alembic)."""

from monitor.storage.articles import KnownArticle, SavedArticle, StoredArticle
from monitor.storage.cluster import (
    NODE_NAME_MAX,
    POLL_QUEUE,
    QUEUE,
    QUEUES,
    FeedClock,
    JobCounts,
    Lease,
    NodeId,
    NodeRow,
    RecentSend,
    StalledJob,
)
from monitor.storage.feeds import FeedState, ValidatorRecord
from monitor.storage.holds import Hold
from monitor.storage.items import ItemInput, ItemRow, Resolution
from monitor.storage.outbox import OutboxAlert
from monitor.storage.progress import DeliveryProgress, Mark
from monitor.storage.snapshot import Snapshot, snapshot
from monitor.storage.store import Store

__all__ = [
    "ItemInput",
    "ItemRow",
    "Resolution",
    "SavedArticle",
    "Store",
    "FeedState",
    "ValidatorRecord",
    "KnownArticle",
    "OutboxAlert",
    "StoredArticle",
    "DeliveryProgress",
    "Mark",
    "FeedClock",
    "Hold",
    "JobCounts",
    "Lease",
    "POLL_QUEUE",
    "QUEUE",
    "QUEUES",
    "StalledJob",
    "RecentSend",
    "NODE_NAME_MAX",
    "NodeId",
    "NodeRow",
    "Snapshot",
    "snapshot",
]
