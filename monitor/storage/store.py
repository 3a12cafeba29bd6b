"""The durable store: feed health, article dedup + kept text, matches, stories, alert outbox.

``Store`` is one :class:`~monitor.storage.db.Database` (engine, migrations, ``tx()``)
with the row methods of each table group mixed in, Miniflux-style: a query lives in
the file named after its tables.

| file        | mixin         | tables                                        |
|-------------|---------------|-----------------------------------------------|
| feeds.py    | FeedRows      | feeds                                         |
| articles.py | ArticleRows   | articles, article_guids, matches (+ new alerts) |
| outbox.py   | OutboxRows    | alerts, alert_messages                        |
| items.py    | ItemRows      | items (the item ledger)                       |
| stories.py  | StoryRows     | neardup_*, stories, story_*                   |
| cluster.py  | ClusterRows   | cluster_nodes (+ procrastinate's job tables)  |
| claims.py   | PageClaims    | (advisory locks: one poller per article URL)  |
| stats.py    | (functions)   | read-only counts over all of them             |

Every public method runs in its own short transaction, so one Store is safe to share
between worker threads. ``Store(url)`` raises StoreError when the store is unusable.
"""

from __future__ import annotations

from datetime import datetime

from monitor.storage import stats
from monitor.storage.articles import ArticleRows
from monitor.storage.claims import PageClaims
from monitor.storage.cluster import ClusterRows
from monitor.storage.db import Database
from monitor.storage.feeds import FeedRows, FeedState, feed_state_in
from monitor.storage.holds import HoldRows
from monitor.storage.items import ItemRow, ItemRows, due_items_in
from monitor.storage.outbox import OutboxRows
from monitor.storage.stories import StoryRows


class Store(FeedRows, ArticleRows, OutboxRows, ItemRows, StoryRows, ClusterRows, HoldRows, PageClaims, Database):
    """See the module docstring."""

    def poll_start(self, feed: str, now: datetime, limit: int = 100) -> tuple[FeedState | None, list[ItemRow]]:
        """(``feed_state(feed)``, ``due_items(feed, now, limit)``) read in one transaction: what a
        poll needs before its conditional GET; a 304 then costs one more (the feed's record)."""
        with self.tx() as conn:
            return feed_state_in(conn, feed), due_items_in(conn, feed, now, limit)

    def counts(self) -> dict[str, int]:
        """articles (done), articles_failed (fetch_failed), matches, alerts_pending/sent/dead."""
        return stats.counts(self)
