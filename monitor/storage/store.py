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

from dataclasses import dataclass
from datetime import datetime

from monitor.storage import stats
from monitor.storage.articles import ArticleRows, KnownArticle, known_in
from monitor.storage.claims import PageClaims
from monitor.storage.cluster import ClusterRows
from monitor.storage.db import Database
from monitor.storage.feeds import FeedRows, FeedState, feed_state_in
from monitor.storage.holds import HoldRows
from monitor.storage.items import ItemRow, ItemRows, due_items_in, text_twin_in, title_twin_in
from monitor.storage.outbox import OutboxRows
from monitor.storage.stories import StoryRows


@dataclass(frozen=True)
class Seen:
    """``Store.seen``'s answer: the stored article of an item, else its ledger twin."""

    known: KnownArticle | None
    twin: ItemRow | None = None


class Store(FeedRows, ArticleRows, OutboxRows, ItemRows, StoryRows, ClusterRows, HoldRows, PageClaims, Database):
    """See the module docstring."""

    def poll_start(self, feed: str, now: datetime, limit: int = 100) -> tuple[FeedState | None, list[ItemRow]]:
        """(``feed_state(feed)``, ``due_items(feed, now, limit)``) read in one transaction: what a
        poll needs before its conditional GET; a 304 then costs one more (the feed's record)."""
        with self.tx(write=False) as conn:
            return feed_state_in(conn, feed), due_items_in(conn, feed, now, limit)

    def seen(
        self, url_key: str, feed: str, *guids: str, ledger: ItemRow | None = None, twin_since: datetime | None = None
    ) -> Seen:
        """The seen checks of an item before its page is fetched, in one read transaction:
        ``known(url_key, feed, *guids)``; unless that is a done article and with its `ledger`
        row, then ``title_twin(ledger)``, else (`twin_since` given) ``text_twin(ledger, twin_since)``."""
        with self.tx(write=False) as conn:
            known = known_in(conn, url_key, feed, *guids)
            if ledger is None or (known is not None and known.status == "done"):
                return Seen(known)
            twin = title_twin_in(conn, ledger)
            if twin is None and twin_since is not None:
                twin = text_twin_in(conn, ledger, twin_since)
            return Seen(known, twin)

    def counts(self) -> dict[str, int]:
        """articles (done), articles_failed (fetch_failed), matches, alerts_pending/sent/dead."""
        return stats.counts(self)
