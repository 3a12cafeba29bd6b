"""The one place the stages are chained.

poll_feed: fetch feed -> parse -> for each new item: fetch page -> extract ->
match -> render -> store article, matches and alerts in one transaction.
deliver: drain the outbox through notify; a failed send stays stored.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from . import metrics, notify
from .config import Config, Feed
from .dedup import normalize_url
from .errors import ExtractError, FeedParseError, FetchError, MonitorError
from .extract import extract
from .fetch import Fetcher
from .match import Matcher, compile_topics
from .models import Article, FeedItem, Match
from .render import render_alert
from .sources.rss import parse_feed
from .storage import NewAlert, OutboxAlert, Store

log = logging.getLogger(__name__)

MAX_PAGE_ATTEMPTS = 3        # then the feed's own title and summary are matched
RETRY_BASE = 30.0            # seconds; doubles per failed send, capped
RETRY_CAP = 3600.0


@dataclass(frozen=True)
class FeedReport:
    """What one poll of one feed did."""

    feed: str
    ok: bool
    items: int = 0
    new: int = 0
    matched: int = 0
    error: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


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
        self._deliver_lock = threading.Lock()
        self.stopping = threading.Event()   # set on shutdown: finish the current item, then return
        notify.configure(config.notify.telegram_api_url)

    # ---- polling -------------------------------------------------------
    def poll_feed(self, feed: Feed) -> FeedReport:
        """Poll one feed; every failure is recorded on the feed, never raised."""
        with metrics.Timer() as timer:
            report = self._poll_feed(feed)
        metrics.POLL_SECONDS.observe(timer.seconds)
        return report

    def _poll_feed(self, feed: Feed) -> FeedReport:
        state = self.store.feed_state(feed.name)
        try:
            result = self.fetcher.get(feed.url, etag=state.etag if state else None,
                                      last_modified=state.last_modified if state else None)
            if result.not_modified:
                self.store.record_feed_success(feed.name, feed.url, etag=result.etag,
                                               last_modified=result.last_modified, new_items=0)
                log.info("feed not modified feed=%s", feed.name)
                metrics.POLLS.labels(feed.name, "not_modified").inc()
                return FeedReport(feed.name, True)
            items = parse_feed(feed.name, result.content, result.url)
        except (FetchError, FeedParseError) as exc:
            self.store.record_feed_failure(feed.name, feed.url, str(exc))
            log.warning("feed failed feed=%s error=%s", feed.name, exc)
            metrics.POLLS.labels(feed.name, "error").inc()
            metrics.ERRORS.labels(feed.name, "feed").inc()
            return FeedReport(feed.name, False, error=str(exc))
        new = matched = 0
        for item in items:
            if self.stopping.is_set():   # the rest waits for the next run; keep the old ETag for it
                log.info("poll interrupted by shutdown feed=%s new=%d", feed.name, new)
                return FeedReport(feed.name, False, len(items), new, matched, error="interrupted")
            try:
                outcome = self.process_item(feed, item)
            except MonitorError as exc:   # a store hiccup on one item must not stop the feed
                log.error("item failed feed=%s url=%s error=%s", feed.name, item.url, exc)
                metrics.ERRORS.labels(feed.name, "item").inc()
                continue
            if outcome is not None:
                new += 1
                matched += bool(outcome)
        self.store.record_feed_success(feed.name, feed.url, etag=result.etag,
                                       last_modified=result.last_modified, new_items=new)
        log.info("feed polled feed=%s items=%d new=%d matched=%d", feed.name, len(items), new, matched)
        metrics.POLLS.labels(feed.name, "ok").inc()
        return FeedReport(feed.name, True, len(items), new, matched)

    def process_item(self, feed: Feed, item: FeedItem) -> list[Match] | None:
        """Process one feed item; None if it was already processed."""
        url_key = normalize_url(item.url) if item.url else f"guid:{feed.name}:{item.guid}"
        known = self.store.known(url_key, feed.name, item.guid)
        if known is not None and known.status == "done":
            return None
        started = time.monotonic()
        article = self._article(feed, item, url_key)
        if article is None:
            return None   # page fetch failed; retried on the next poll
        matches = self.matcher.match(article.title, article.body)
        alerts = [
            NewAlert(m.topic_id, channel, r.subject, r.text, r.html)
            for m in matches
            for channel in self._topics[m.topic_id].notify
            for r in [render_alert(article, m, outlet=self.config.outlet(feed),
                                   channel_kind=self._kinds.get(channel, "other"))]
        ]
        saved = self.store.save_article(article, guid=item.guid, outlet=self.config.outlet(feed),
                                        matches=matches, alerts=alerts)
        if saved is None:
            return None   # another worker stored it first
        metrics.ARTICLE_SECONDS.observe(time.monotonic() - started)
        metrics.ARTICLES.labels(feed.name, article.text_source).inc()
        for m in matches:
            metrics.MATCHES.labels(m.topic_id).inc()
            log.info("match topic=%s feed=%s url=%s terms=%s", m.topic_id, feed.name, article.url,
                     "|".join(sorted({h.term for h in m.hits})))
        return matches

    def _article(self, feed: Feed, item: FeedItem, url_key: str) -> Article | None:
        """Fetch and extract the page; fall back to the feed's text when the page can't be had."""
        title, body, source = item.title, item.summary, "summary"
        if item.url:
            try:
                page = self.fetcher.get(item.url)
                text = extract(page.content, page.url)
                title, body, source = item.title or text.title, text.body, "page"
            except ExtractError as exc:
                metrics.ERRORS.labels(feed.name, "extract").inc()
                log.warning("extract failed feed=%s url=%s error=%s; matching feed text",
                            feed.name, item.url, exc)
            except FetchError as exc:
                metrics.ERRORS.labels(feed.name, "page").inc()
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
        """Send every due alert once; failures are rescheduled, never dropped.

        `ignore_backoff` sends every pending alert (a manual `monitor once` pass
        is an explicit retry).
        """
        with self._deliver_lock:   # two callers must not send the same alert twice
            now = now or utcnow()
            sent = failed = dead = 0
            due_by = now + timedelta(days=3650) if ignore_backoff else now
            for alert in self.store.due_alerts(due_by, limit=1000):
                if self.stopping.is_set():
                    break
                outcome = self._send(alert, now)
                sent += outcome == "sent"
                failed += outcome == "failed"
                dead += outcome == "dead"
            return DeliveryReport(sent, failed, dead)

    def _send(self, alert: OutboxAlert, now: datetime) -> str:
        urls = self.config.channels.get(alert.channel)
        if not urls:
            log.warning("alert held id=%d channel=%s reason=channel not in config", alert.id, alert.channel)
            return "held"
        with metrics.Timer() as timer:
            result = notify.send(alert.channel, list(urls),
                                 notify.RenderedAlert(alert.subject, alert.text, alert.html),
                                 kind=self._kinds[alert.channel])
        metrics.SEND_SECONDS.labels(alert.channel).observe(timer.seconds)
        metrics.ALERTS.labels(alert.channel, "sent" if result.ok else "dead" if result.permanent else "failed").inc()
        if result.ok:
            self.store.mark_sent(alert.id, utcnow())
            log.info("alert sent id=%d topic=%s channel=%s", alert.id, alert.topic_id, alert.channel)
            return "sent"
        if result.permanent:
            self.store.mark_dead(alert.id, result.error)
            log.error("alert dead id=%d topic=%s channel=%s error=%s",
                      alert.id, alert.topic_id, alert.channel, result.error)
            return "dead"
        delay = min(RETRY_CAP, RETRY_BASE * 2 ** alert.attempts) * random.uniform(1.0, 1.25)
        delay = max(delay, result.retry_after or 0.0)
        self.store.mark_failed(alert.id, result.error, now + timedelta(seconds=delay))
        log.warning("alert retry id=%d topic=%s channel=%s attempt=%d in=%.0fs error=%s",
                    alert.id, alert.topic_id, alert.channel, alert.attempts + 1, delay, result.error)
        return "failed"
