"""The one place the stages are chained.

poll_feed: fetch feed -> parse -> for each new item: fetch page -> extract ->
match -> render -> store article, matches and alerts in one transaction.
deliver: drain the outbox per channel (monitor.outbox); a failed send stays stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from monitor import metrics
from monitor.config.load import Config, Feed
from monitor.dedup import neardup, stories
from monitor.dedup.keys import normalize_url
from monitor.delivery import followups, notify
from monitor.delivery.outbox import DeliveryReport, Outbox
from monitor.delivery.render import render_alert
from monitor.delivery.templates import Templates
from monitor.errors import ExtractError, FeedParseError, FetchError, MonitorError
from monitor.extract.article import extract
from monitor.extract.htmlcheck import check_depth
from monitor.fetch.client import Fetcher
from monitor.fetch.encoding import decode_html
from monitor.fetch.schedule import adapt, is_due, next_poll
from monitor.matching.matcher import Matcher, compile_topics
from monitor.models import Article, FeedItem, Match, RenderedAlert, TermHit
from monitor.sources import parse_source
from monitor.storage import NewAlert, OutboxAlert, Store
from monitor.storage.stories import StoryInput, StoryRules
from monitor.text.lang import detect_language
from monitor.text.normalize import fold

log = logging.getLogger(__name__)

MAX_PAGE_ATTEMPTS = 3  # then the feed's own title and summary are matched
MAX_NEW_PER_POLL = 100  # a feed that suddenly lists hundreds of "new" items is worked off over polls
TITLE_KEY_MIN_WORDS = 4  # shorter titles ("عاجل", "Live") recur for different stories
PRUNE_EVERY = 600.0  # seconds between near-duplicate index prunes


@dataclass(frozen=True)
class FeedReport:
    """What one poll of one feed did."""

    feed: str
    ok: bool
    items: int = 0
    new: int = 0
    matched: int = 0
    error: str = ""
    skipped: bool = False  # not due yet (backoff, Retry-After, ttl)
    warning: str = ""  # what looked wrong in the feed (duplicate GUIDs, bad dates...)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Stages bound to one config, store and fetcher. Thread-safe per feed."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.matcher: Matcher = compile_topics(config.rules())
        self._topics = {t.id: t for t in config.topics}
        self._kinds = {name: notify.channel_kind(list(urls)) for name, urls in config.channels.items()}
        self._poll = threading.local()  # per-poll counters (each feed is polled in one thread)
        self.stopping = threading.Event()  # set on shutdown: finish the current item, then return
        d = config.dedup
        self.story_rules = StoryRules(
            timedelta(seconds=d.window),
            d.copy_jaccard,
            timedelta(seconds=d.story_window),
            d.story_similarity,
            timedelta(seconds=d.follow_up_gap),
        )
        self._pruned_at: datetime | None = None
        notify.configure(config.notify.telegram_api_url)
        self.outbox = Outbox(config, store, message=self._message)
        tdir = config.notify.templates_dir
        self.templates = Templates(config.path.parent / tdir) if tdir else None

    # ---- polling -------------------------------------------------------
    def poll_feed(self, feed: Feed, *, force: bool = False, now: datetime | None = None) -> FeedReport:
        """Poll one feed if it is due (or `force`); every failure is recorded on the feed, never raised."""
        with metrics.Timer() as timer:
            report = self._poll_feed(feed, force=force, now=now)
        if not report.skipped:
            metrics.POLL_SECONDS.observe(timer.seconds)
        return report

    def _poll_feed(self, feed: Feed, *, force: bool, now: datetime | None) -> FeedReport:
        now = now or utcnow()
        state = self.store.feed_state(feed.name)
        if state is not None and state.url != feed.url:  # moved in config: old validators and waits are moot
            state = replace(state, etag=None, last_modified=None, next_poll_at=None)
        if not force and state is not None and not is_due(now, state.next_poll_at):
            log.debug("feed not due feed=%s next=%s", feed.name, state.next_poll_at)
            return FeedReport(feed.name, True, skipped=True)
        fetch_cfg, interval = self.config.fetch, self.config.interval(feed)
        try:
            result = self.fetcher.get(
                feed.url, etag=state.etag if state else None, last_modified=state.last_modified if state else None
            )
            parsed = None
            if not result.not_modified:
                parsed = parse_source(
                    feed.kind,
                    feed.name,
                    result.content,
                    result.url,
                    result.content_type,
                    rules=feed.link_rules,
                )
        except (FetchError, FeedParseError, ExtractError) as exc:
            return self._feed_failed(feed, state, exc, now)
        hints = (result.max_age, parsed.ttl if parsed else None)
        if parsed is None:
            rate, wait = self._adapt(feed, state, 0, now)
            self.store.record_feed_success(
                feed.name,
                feed.url,
                etag=result.etag,
                last_modified=result.last_modified,
                new_items=0,
                next_poll_at=next_poll(
                    now,
                    interval,
                    backoff_cap=fetch_cfg.backoff_cap,
                    hints=hints,
                    hint_cap=fetch_cfg.max_hint,
                    base=wait,
                ),
                warning=state.last_warning if state else None,
                kind=feed.kind,
                new_per_hour=rate,
                now=now,
            )
            log.info("feed not modified feed=%s", feed.name)
            metrics.POLLS.labels(feed.name, "not_modified").inc()
            return FeedReport(feed.name, True)
        new = matched = 0
        warnings = list(parsed.warnings)
        self._poll.deferred = 0  # items whose page fetch failed this poll: work done, nothing stored
        for item in parsed.items:
            if self.stopping.is_set():  # the rest waits for the next run; keep the old ETag for it
                log.info("poll interrupted by shutdown feed=%s new=%d", feed.name, new)
                return FeedReport(feed.name, False, len(parsed.items), new, matched, error="interrupted")
            if new + self._poll.deferred >= MAX_NEW_PER_POLL:
                warnings.append(f"more than {MAX_NEW_PER_POLL} new items; the rest wait for the next poll")
                break
            try:
                outcome = self.process_item(feed, item)
            except MonitorError as exc:  # a store hiccup on one item must not stop the feed
                log.error("item failed feed=%s url=%s error=%s", feed.name, item.url, exc)
                metrics.ERRORS.labels(feed.name, "item").inc()
                continue
            if outcome is not None:
                new += 1
                matched += bool(outcome)
        warning = "; ".join(warnings) or None
        rate, wait = self._adapt(feed, state, new, now)
        upcoming = next_poll(
            now, interval, backoff_cap=fetch_cfg.backoff_cap, hints=hints, hint_cap=fetch_cfg.max_hint, base=wait
        )
        self.store.record_feed_success(
            feed.name,
            feed.url,
            etag=result.etag,
            last_modified=result.last_modified,
            new_items=new,
            next_poll_at=upcoming,
            warning=warning,
            kind=feed.kind,
            new_per_hour=rate,
            now=now,
        )
        if warning:
            log.warning("feed oddities feed=%s warning=%s", feed.name, warning)
        log.info("feed polled feed=%s items=%d new=%d matched=%d", feed.name, len(parsed.items), new, matched)
        metrics.POLLS.labels(feed.name, "ok").inc()
        self.prune_index()
        return FeedReport(feed.name, True, len(parsed.items), new, matched, warning=warning or "")

    def _adapt(self, feed: Feed, state, new: int, now: datetime) -> tuple[float | None, float | None]:
        """(rate, wait) for an adaptive feed; (None, None) otherwise or with no previous poll."""
        if not feed.min_interval or state is None or state.last_polled_at is None or state.last_success_at is None:
            return None, None
        elapsed = (now - state.last_polled_at).total_seconds()
        return adapt(state.new_per_hour, new, elapsed, feed.min_interval, self.config.max_interval(feed))

    def _feed_failed(self, feed: Feed, state, exc: MonitorError, now: datetime) -> FeedReport:
        """Record a failed poll: back off (doubling, capped, at least Retry-After); flag after a day."""
        fetch_cfg = self.config.fetch
        failures = (state.consecutive_failures if state else 0) + 1
        upcoming = next_poll(
            now,
            self.config.interval(feed),
            failures=failures,
            backoff_cap=fetch_cfg.backoff_cap,
            base=self.config.max_interval(feed),
            hints=(getattr(exc, "retry_after", None),),
            hint_cap=fetch_cfg.max_hint,
        )
        after = self.store.record_feed_failure(
            feed.name,
            feed.url,
            str(exc),
            next_poll_at=upcoming,
            flag_after=fetch_cfg.flag_after,
            kind=feed.kind,
            now=now,
        )
        if after.flagged_at is not None and (state is None or state.flagged_at is None):
            log.error(
                "feed flagged feed=%s failing_since=%s failures=%d error=%s",
                feed.name,
                after.failing_since.isoformat() if after.failing_since else "?",
                failures,
                exc,
            )
        else:
            log.warning(
                "feed failed feed=%s failures=%d next=%s error=%s",
                feed.name,
                failures,
                upcoming.isoformat() if upcoming else "interval",
                exc,
            )
        metrics.POLLS.labels(feed.name, "error").inc()
        metrics.ERRORS.labels(feed.name, "feed").inc()
        return FeedReport(feed.name, False, error=str(exc))

    def process_item(self, feed: Feed, item: FeedItem) -> list[Match] | None:
        """Process one feed item; None if it was already processed."""
        url_key = normalize_url(item.url) if item.url else _linkless_key(feed.name, item)
        known = self.store.known(url_key, feed.name, item.guid)
        tkey = title_key(item)
        if (known is None or known.status != "done") and tkey:
            # Feeds that change GUIDs and links on every fetch still repeat the headline.
            by_title = self.store.known(url_key, feed.name, tkey)
            known = by_title if by_title is not None and by_title.status == "done" else known
        if known is not None and known.status == "done":
            return None
        started = time.monotonic()
        article = self._article(feed, item, url_key)
        if article is None:
            return None  # page fetch failed; retried on the next poll
        language = feed.language or detect_language(f"{article.title}\n{article.body}")
        matches = self.matcher.match(article.title, article.body, feed=feed.name, language=language)
        now = utcnow()
        alerts = [
            NewAlert(
                m.topic_id,
                channel,
                r.subject,
                r.text,
                r.html,
                *self.outbox.hold(channel, m.topic_id, now),
                per=self._per(m.topic_id),
                follow_up=self._follow_up(article, m, feed, channel),
            )
            for m in matches
            for channel in self._topics[m.topic_id].notify
            for r in [self._render(article, m, self.config.outlet(feed), self._kinds.get(channel, "other"))]
        ]
        story = StoryInput(
            neardup.fingerprint(neardup.article_text(article.title, article.body)),
            stories.profile(article.title, article.body),
            self.story_rules,
        )
        saved = self.store.save_article(
            article, guid=item.guid, outlet=self.config.outlet(feed), matches=matches, alerts=alerts, story=story
        )
        if saved is None:
            return None  # another worker stored it first
        if tkey:
            self.store.link_guid(feed.name, tkey, saved)
        if alerts:
            self.outbox.wake()  # channel senders send it now, not after the whole feed
        metrics.ARTICLE_SECONDS.observe(time.monotonic() - started)
        metrics.ARTICLES.labels(feed.name, article.text_source).inc()
        for m in matches:
            metrics.MATCHES.labels(m.topic_id).inc()
            log.info(
                "match topic=%s feed=%s url=%s terms=%s",
                m.topic_id,
                feed.name,
                article.url,
                "|".join(sorted({h.term for h in m.hits})),
            )
        return matches

    def _render(
        self, article: Article, match: Match, outlet: str, kind: str, also: tuple[str, ...] = ()
    ) -> RenderedAlert:
        r = render_alert(article, match, outlet=outlet, channel_kind=kind, also=also)
        if self.templates:
            return self.templates.apply(r, article, match, outlet=outlet, kind=kind, also=also)
        return r

    def _follow_up(self, article: Article, match: Match, feed: Feed, channel: str) -> tuple[str, str, str] | None:
        """The short update sent if this article joins an alerted story (topics with follow-ups)."""
        if not followups.threaded(self._topics.get(match.topic_id)):
            return None
        r = followups.render_follow_up(
            article,
            outlet=self.config.outlet(feed),
            topic=match.topic_name,
            channel_kind=self._kinds.get(channel, "other"),
        )
        return r.subject, r.text, r.html

    def _article(self, feed: Feed, item: FeedItem, url_key: str) -> Article | None:
        """Fetch and extract the page; fall back to the feed's text when the page can't be had."""
        title, body, source = item.title, item.summary, "summary"
        if item.url:
            try:
                page = self.fetcher.get(item.url)
                html = check_depth(decode_html(page.content, page.content_type), page.url)
                text = extract(html, page.url)
                title, body, source = item.title or text.title, text.body, "page"
            except ExtractError as exc:
                metrics.ERRORS.labels(feed.name, "extract").inc()
                log.warning("extract failed feed=%s url=%s error=%s; matching feed text", feed.name, item.url, exc)
            except FetchError as exc:
                metrics.ERRORS.labels(feed.name, "page").inc()
                attempts = self.store.record_fetch_failure(
                    feed=feed.name, url=item.url, url_key=url_key, guid=item.guid, title=item.title, error=str(exc)
                )
                if attempts < MAX_PAGE_ATTEMPTS:
                    self._poll.deferred = getattr(self._poll, "deferred", 0) + 1
                    log.warning("page failed feed=%s url=%s attempt=%d error=%s", feed.name, item.url, attempts, exc)
                    return None
                log.warning("page failed feed=%s url=%s attempt=%d; matching feed text", feed.name, item.url, attempts)
        return Article(
            url=item.url,
            url_key=url_key,
            feed=feed.name,
            title=title,
            body=body,
            published=item.published,
            text_source=source,
        )

    def _per(self, topic_id: str) -> str:
        topic = self._topics.get(topic_id)
        return "story" if topic is not None and topic.alert == "per-story" else "article"

    def prune_index(self, now: datetime | None = None, *, force: bool = False) -> int:
        """Drop near-duplicate index entries older than the window (at most every PRUNE_EVERY)."""
        now = now or utcnow()
        if not force and self._pruned_at and (now - self._pruned_at).total_seconds() < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        try:
            n = self.store.prune_index(now, self.story_rules)
        except MonitorError as exc:
            log.warning("index prune failed error=%s", exc)
            return 0
        if n:
            log.info("index pruned entries=%d", n)
        return n

    # ---- delivery ------------------------------------------------------
    def deliver(self, now: datetime | None = None, *, ignore_backoff: bool = False) -> DeliveryReport:
        """Send every due alert once, channels in parallel (see monitor.outbox).

        `ignore_backoff` also retries alerts still waiting after a failure (a
        manual `monitor once` pass is an explicit retry).
        """
        return self.outbox.deliver(now, ignore_backoff=ignore_backoff)

    def _message(self, alert: OutboxAlert) -> RenderedAlert:
        """The stored message, or, when other outlets have reported it since, one re-rendered to
        list them (the outbox calls this at send time)."""
        if alert.reply_to is not None:  # a story follow-up: short, as made
            return RenderedAlert(alert.subject, alert.text, alert.html)
        also = self.store.also_reported(alert.article_id, self._per(alert.topic_id))
        source = self.store.alert_source(alert.id) if also else None
        if source is None:
            return RenderedAlert(alert.subject, alert.text, alert.html)
        stored, topic_id, hits, snippet = source
        topic = self._topics.get(topic_id)
        article = Article(
            url=stored.url, url_key="", feed=stored.feed, title=stored.title, body="", published=stored.published
        )
        match = Match(
            topic_id, topic.name if topic else topic_id, tuple(TermHit(**h) for h in json.loads(hits)), snippet
        )
        return self._render(article, match, stored.outlet, self._kinds.get(alert.channel, "other"), also=tuple(also))


def title_key(item: FeedItem) -> str:
    """A per-feed fingerprint of a headline long enough to be specific ("" otherwise)."""
    folded = " ".join(fold(item.title).split())
    if len(folded.split()) < TITLE_KEY_MIN_WORDS:
        return ""
    return "title:" + hashlib.sha1(folded.encode("utf-8")).hexdigest()


def _linkless_key(feed: str, item: FeedItem) -> str:
    if item.guid:
        return f"guid:{feed}:{item.guid}"
    text = f"{item.title}\n{item.summary}".encode()
    return f"text:{feed}:{hashlib.sha1(text).hexdigest()}"
