"""The one place the stages are chained.

poll_feed: fetch feed -> parse -> for each new item: fetch page -> extract ->
match -> render -> store article, matches and alerts in one transaction.
deliver: drain the outbox per channel (monitor.outbox); a failed send stays stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from . import notify
from .config import Config, Feed
from .dedup import normalize_url
from .errors import ExtractError, FeedParseError, FetchError, MonitorError
from .extract import extract
from .fetch import Fetcher
from .match import Matcher, compile_topics
from .models import Article, FeedItem, Match
from .outbox import DeliveryReport, Outbox
from .render import render_alert
from .sources.rss import parse_feed
from .storage import NewAlert, Store
from .templates import Templates

log = logging.getLogger(__name__)

MAX_PAGE_ATTEMPTS = 3        # then the feed's own title and summary are matched


@dataclass(frozen=True)
class FeedReport:
    """What one poll of one feed did."""

    feed: str
    ok: bool
    items: int = 0
    new: int = 0
    matched: int = 0
    error: str = ""


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Pipeline:
    """Stages bound to one config, store and fetcher. Thread-safe per feed."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.matcher: Matcher = compile_topics(config.rules())
        self._topics = {t.id: t for t in config.topics}
        self._kinds = {name: notify.channel_kind(list(urls)) for name, urls in config.channels.items()}
        notify.configure(config.notify.telegram_api_url)
        self.outbox = Outbox(config, store)
        tdir = config.notify.templates_dir
        self.templates = Templates(config.path.parent / tdir) if tdir else None

    # ---- polling -------------------------------------------------------
    def poll_feed(self, feed: Feed) -> FeedReport:
        """Poll one feed; every failure is recorded on the feed, never raised."""
        state = self.store.feed_state(feed.name)
        try:
            result = self.fetcher.get(feed.url, etag=state.etag if state else None,
                                      last_modified=state.last_modified if state else None)
            if result.not_modified:
                self.store.record_feed_success(feed.name, feed.url, etag=result.etag,
                                               last_modified=result.last_modified, new_items=0)
                log.info("feed not modified feed=%s", feed.name)
                return FeedReport(feed.name, True)
            items = parse_feed(feed.name, result.content, result.url)
        except (FetchError, FeedParseError) as exc:
            self.store.record_feed_failure(feed.name, feed.url, str(exc))
            log.warning("feed failed feed=%s error=%s", feed.name, exc)
            return FeedReport(feed.name, False, error=str(exc))
        new = matched = 0
        for item in items:
            try:
                outcome = self.process_item(feed, item)
            except MonitorError as exc:   # a store hiccup on one item must not stop the feed
                log.error("item failed feed=%s url=%s error=%s", feed.name, item.url, exc)
                continue
            if outcome is not None:
                new += 1
                matched += bool(outcome)
        self.store.record_feed_success(feed.name, feed.url, etag=result.etag,
                                       last_modified=result.last_modified, new_items=new)
        log.info("feed polled feed=%s items=%d new=%d matched=%d", feed.name, len(items), new, matched)
        return FeedReport(feed.name, True, len(items), new, matched)

    def process_item(self, feed: Feed, item: FeedItem) -> list[Match] | None:
        """Process one feed item; None if it was already processed."""
        url_key = normalize_url(item.url) if item.url else f"guid:{feed.name}:{item.guid}"
        known = self.store.known(url_key, feed.name, item.guid)
        if known is not None and known.status == "done":
            return None
        article = self._article(feed, item, url_key)
        if article is None:
            return None   # page fetch failed; retried on the next poll
        matches = self.matcher.match(article.title, article.body)
        now = utcnow()
        alerts = [
            NewAlert(m.topic_id, channel, r.subject, r.text, r.html,
                     *self.outbox.hold(channel, m.topic_id, now))
            for m in matches
            for channel in self._topics[m.topic_id].notify
            for r in [self._render(article, m, self.config.outlet(feed), self._kinds.get(channel, "other"))]
        ]
        saved = self.store.save_article(article, guid=item.guid, outlet=self.config.outlet(feed),
                                        matches=matches, alerts=alerts)
        if saved is None:
            return None   # another worker stored it first
        if alerts:
            self.outbox.wake()   # channel senders send it now, not after the whole feed
        for m in matches:
            log.info("match topic=%s feed=%s url=%s terms=%s", m.topic_id, feed.name, article.url,
                     "|".join(sorted({h.term for h in m.hits})))
        return matches

    def _render(self, article: Article, match: Match, outlet: str, kind: str):
        r = render_alert(article, match, outlet=outlet, channel_kind=kind)
        return self.templates.apply(r, article, match, outlet=outlet, kind=kind) if self.templates else r

    def _article(self, feed: Feed, item: FeedItem, url_key: str) -> Article | None:
        """Fetch and extract the page; fall back to the feed's text when the page can't be had."""
        title, body, source = item.title, item.summary, "summary"
        if item.url:
            try:
                page = self.fetcher.get(item.url)
                text = extract(page.content, page.url)
                title, body, source = item.title or text.title, text.body, "page"
            except ExtractError as exc:
                log.warning("extract failed feed=%s url=%s error=%s; matching feed text",
                            feed.name, item.url, exc)
            except FetchError as exc:
                attempts = self.store.record_fetch_failure(
                    feed=feed.name, url=item.url, url_key=url_key, guid=item.guid,
                    title=item.title, error=str(exc))
                if attempts < MAX_PAGE_ATTEMPTS:
                    log.warning("page failed feed=%s url=%s attempt=%d error=%s",
                                feed.name, item.url, attempts, exc)
                    return None
                log.warning("page failed feed=%s url=%s attempt=%d; matching feed text",
                            feed.name, item.url, attempts)
        return Article(url=item.url, url_key=url_key, feed=feed.name, title=title, body=body,
                       published=item.published, text_source=source)

    # ---- delivery ------------------------------------------------------
    def deliver(self, now: datetime | None = None, *, ignore_backoff: bool = False) -> DeliveryReport:
        """Send every due alert once, channels in parallel (see monitor.outbox).

        `ignore_backoff` also retries alerts still waiting after a failure (a
        manual `monitor once` pass is an explicit retry).
        """
        return self.outbox.deliver(now, ignore_backoff=ignore_backoff)
