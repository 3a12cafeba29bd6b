"""Durable storage (SQLite or PostgreSQL via SQLAlchemy Core, schema by Alembic)."""

from monitor.storage.items import ItemInput, ItemRow
from monitor.storage.store import FeedState, KnownArticle, NewAlert, OutboxAlert, Store, StoredArticle

__all__ = ["ItemInput", "ItemRow", "Store", "NewAlert", "FeedState", "KnownArticle", "OutboxAlert", "StoredArticle"]
