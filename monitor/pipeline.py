"""The one place the stages are chained.

poll_feed: fetch feed -> parse -> for each new item: fetch page -> extract ->
match -> render -> store article, matches and alerts in one transaction.
deliver: drain the outbox per channel (monitor.delivery.outbox); a failed send stays stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor import metrics
from monitor.config.load import Config, Feed
from monitor.dedup import neardup, stories
from monitor.dedup.identity import Known, is_linkless_key, item_identity, prior_keys, shared_links
from monitor.dedup.keys import linkless_key, normalize_url, title_key
from monitor.delivery.compose import Composer
from monitor.delivery.outbox import DeliveryReport, Outbox
from monitor.errors import ExtractError, FeedParseError, FetchError, MonitorError
from monitor.extract.interstitial import HostMemory, Interstitial, consent_redirect, detect
from monitor.extract.ownpage import not_own_page
from monitor.fetch import validators
from monitor.fetch.budget import Budget
from monitor.fetch.client import Fetcher, FetchResult
from monitor.fetch.encoding import decode_html
from monitor.fetch.netguard import BlockedAddressError, UnsafeURLError
from monitor.fetch.schedule import adapt, is_due, next_poll
from monitor.models import Article, FeedItem, Match
from monitor.sources import backfill, parse_source
from monitor.storage import FeedState, ItemInput, ItemRow, Resolution, Store, ValidatorRecord
from monitor.storage.items import ALL_DUE
from monitor.storage.stories import FEED_TEXT_SOURCES, StoryInput, StoryRules
from monitor.text.folded import FoldedText
from monitor.text.lang import detect_language

if TYPE_CHECKING:
    from monitor.matching.matcher import Matcher

log = logging.getLogger(__name__)

MAX_PAGE_ATTEMPTS = 3  # then the feed's own title and summary are matched
PAGE_GIVE_UP = 8  # a page that failed this often is given up for good (its teaser matched nothing)
PAGE_RETRY_BASE = 600.0  # seconds before the 4th try of such a page; doubles (10 min ... 160 min, ~5 h in all)
MAX_NEW_PER_POLL = 100  # a feed that suddenly lists hundreds of "new" items is worked off over polls
ITEM_MAX_ATTEMPTS = 5  # an item that keeps raising is `failed` (with its error) after this many tries
ITEM_RETRY_BASE = 60.0  # seconds before the first retry of an item that raised; doubles, capped:
ITEM_RETRY_CAP = 6 * 3600.0
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


@dataclass(frozen=True)
class PageDeferred:
    """An item's page could not be fetched this time; the item is retried on the next poll."""

    attempts: int  # failed fetches so far
    error: str


@dataclass(frozen=True)
class Unread(Interstitial):
    """The item's page could not be read (``attempts`` failed fetches, 0: no text in it),
    so only the feed's title and teaser were matched."""

    attempts: int = 0
    retry: bool = False  # the page may come back (not refused by fetch policy)

    def note(self) -> str:
        why = f"failed {self.attempts} times" if self.attempts else "held no article text"
        return f"; only the feed's title and teaser were matched: its page {why} ({self.evidence})"


_FAILED = object()  # _work_item: the item raised and was recorded as an error


def utcnow() -> datetime:
    return datetime.now(UTC)


def _unchanged_wait(state: FeedState | None, result: FetchResult, unparsed: bool) -> float | None:
    """A full answer not parsed (the same body as last time) keeps the wait the last success
    chose (its <ttl> and max-age, unchanged with the body), so skipping the parse costs no
    politeness."""
    if not unparsed or result.not_modified or state is None or state.consecutive_failures:
        return None
    if state.next_poll_at is None or state.last_polled_at is None:
        return None
    return (state.next_poll_at - state.last_polled_at).total_seconds()


class Pipeline:
    """Stages bound to one config, store and fetcher. Thread-safe per feed."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher) -> None:
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self._matcher: Matcher | None = None  # compiled by the first article to match (`matcher`)
        self._matcher_lock = threading.Lock()
        self.stopping = threading.Event()  # set on shutdown: finish the current item, then return
        d = config.dedup
        self.story_rules = StoryRules(
            timedelta(seconds=d.window),
            d.copy_jaccard,
            timedelta(seconds=d.story_window),
            d.story_similarity,
            timedelta(seconds=d.follow_up_gap),
        )
        self._trusted_feeds = frozenset(f.name for f in config.feeds if f.trusted)
        self._filtered_topics = frozenset(t.id for t in config.topics if t.feeds or t.languages)
        self._pruned_at: datetime | None = None
        self._walls = HostMemory()  # recent page bodies per host (interstitial pages)
        self._walls_lock = threading.Lock()
        self._walled: dict[str, int] = {}  # feed -> interstitial pages met in its current poll
        f = config.fetch
        self.budget = Budget(
            max_bytes=f.max_bytes,
            max_items=f.max_items,
            max_depth=f.max_depth,
            max_page_depth=f.max_page_depth,
            max_elements=f.max_elements,
            max_page_chars=f.max_page_chars,
        )
        self.composer = Composer(config, store)
        self.outbox = Outbox(config, store, message=self.composer.message_group)

    @property
    def matcher(self) -> Matcher:
        """The config's topics compiled, once, when the first article is matched: a pass whose
        feeds all answer 304 never compiles them, nor imports the matcher (issue 16). Config
        loading already refused every term the matcher would (`config.load`)."""
        matcher = self._matcher
        if matcher is None:
            with self._matcher_lock:
                if self._matcher is None:
                    from monitor.matching.matcher import compile_topics

                    self._matcher = compile_topics(self.config.rules())
                matcher = self._matcher
        return matcher

    # ---- polling -------------------------------------------------------
    def poll_feed(
        self, feed: Feed, *, force: bool = False, now: datetime | None = None, drain: bool = False
    ) -> FeedReport:
        """Poll one feed if it is due (or `force`); every failure is recorded on the feed, never raised.

        A poll works at most MAX_NEW_PER_POLL of the feed's due items (the daemon works the
        rest off over the next polls); `drain` (``monitor once``: "everything new") works
        every item due when the poll starts, however many."""
        with metrics.Timer() as timer:
            try:
                report = self._poll_feed(feed, force=force, now=now, drain=drain)
            except Exception as exc:  # the per-feed boundary: a recorded error, never a lost pass
                log.exception("poll raised feed=%s", feed.name)
                report = self._feed_failed(
                    feed,
                    self.store.feed_state(feed.name),
                    MonitorError(f"{type(exc).__name__}: {exc}"),
                    now or utcnow(),
                )
        if not report.skipped:
            metrics.POLL_SECONDS.observe(timer.seconds)
        return report

    def _poll_feed(self, feed: Feed, *, force: bool, now: datetime | None, drain: bool = False) -> FeedReport:
        now = now or utcnow()
        budget = MAX_NEW_PER_POLL
        state, due = self.store.poll_start(feed.name, now, limit=budget)  # one read for a 304
        if state is not None and state.url != feed.url:  # moved in config: old validators and waits are moot
            state = replace(state, etag=None, last_modified=None, next_poll_at=None)
            state = replace(state, body_hash=None, full_fetch_at=None, untrusted=None, untrusted_reason=None)
        if not force and state is not None and not is_due(now, state.next_poll_at):
            log.debug("feed not due feed=%s next=%s", feed.name, state.next_poll_at)
            return FeedReport(feed.name, True, skipped=True)
        fetch_cfg, interval = self.config.fetch, self.config.interval(feed)
        untrusted = validators.untrusted_set(state.untrusted if state else None)
        sent = validators.plan(
            state.etag if state else None,
            state.last_modified if state else None,
            untrusted=untrusted,
            last_full_at=state.full_fetch_at if state else None,
            now=now,
            full_fetch_after=self.config.full_fetch_after(feed),
        )
        digest = state.body_hash if state else None
        try:
            result = self.fetcher.get(feed.url, etag=sent.etag, last_modified=sent.last_modified, fresh=sent.full)
            if sent.full:
                log.info("full fetch feed=%s why=%s status=%s", feed.name, sent.why, result.status)
            parsed = None
            if not result.not_modified:  # how the body is read (kind, link rules) is part of its digest
                digest = validators.body_hash(result.content, feed.kind, feed.links, feed.link_pattern)
            if not result.not_modified and (state is None or digest != state.body_hash):
                parsed = parse_source(
                    feed.kind,
                    feed.name,
                    result.content,
                    result.url,
                    result.content_type,
                    rules=feed.link_rules,
                    budget=self.budget,
                )
        except (FetchError, FeedParseError, ExtractError) as exc:
            return self._feed_failed(feed, state, exc, now)
        except Exception as exc:  # a library raising on odd input (feedparser #590) is a feed error
            log.exception("feed parse raised feed=%s", feed.name)
            return self._feed_failed(feed, state, FeedParseError(f"cannot parse: {type(exc).__name__}: {exc}"), now)
        hints = (result.max_age, parsed.ttl if parsed else None, _unchanged_wait(state, result, parsed is None))
        warnings = list(parsed.warnings) if parsed is not None else []
        if parsed is not None:
            # Every listed item is stored BEFORE the validators: a later 304 cannot hide one.
            since = backfill.cutoff(
                self.config.defaults.backfill,
                state.last_success_at if state else None,
                now,
                self.config.max_interval(feed),
                [it.published for it in parsed.items],
            )
            shared = shared_links(parsed.items)
            rows = self.store.items_by_key(feed.name, prior_keys(parsed.items, shared))
            prior = {k: Known(r.url_key, r.title) for k, r in rows.items()}
            listed = [self._ledger_input(feed, it, since, now, shared, prior) for it in parsed.items]
            added = self.store.enqueue_items(feed.name, listed, now)
            lies = validators.lies_of_200(
                stored_etag=state.etag if state else None,
                stored_last_modified=state.last_modified if state else None,
                stored_hash=state.body_hash if state else None,
                etag=result.etag,
                last_modified=result.last_modified,
                new_hash=digest or "",
                new_items=sum(added.values()),
                published=[it.published for it in parsed.items],
                now=now,
            )
            if since is not None:
                older = added.get("backfill", 0)
                log.info(
                    "backfill feed=%s since=%s listed=%d older=%d",
                    feed.name,
                    f"{since:%Y-%m-%dT%H:%MZ}",
                    len(listed),
                    older,
                )
                if note := backfill.poll_note(older, since):
                    warnings.append(note)
        else:  # a 304, or a full answer whose digest is the last one's
            lies = validators.lies_of_304(sent) if result.not_modified else []
        new = matched = failed = 0
        self._walled[feed.name] = 0
        if parsed is not None or (drain and len(due) >= budget):
            # new items were listed, or `drain` and the first read may not hold every due item
            due = self.store.due_items(feed.name, now, limit=ALL_DUE if drain else budget)
        if not drain and len(due) >= budget and self.store.count_due(feed.name, now) > budget:
            warnings.append(f"more than {budget} new items; the rest wait for the next poll")
        for row in due:
            if self.stopping.is_set():  # the rest stays pending in the ledger for the next run
                log.info("poll interrupted by shutdown feed=%s new=%d", feed.name, new)
                n_items = len(parsed.items) if parsed else 0
                return FeedReport(feed.name, False, n_items, new, matched, error="interrupted")
            outcome = self._work_item(feed, row, now)
            if outcome is _FAILED:
                failed += 1
            elif outcome is not None:
                new += 1
                matched += bool(outcome)
        if not drain and len(due) >= budget:
            self.store.mark_capped(feed.name, now, budget)
        if walled := self._walled.pop(feed.name, 0):
            warnings.append(
                f"{walled} page(s) were consent, challenge, JavaScript or paywall walls (matched the feed's text)"
            )
        if failed:
            warnings.append(f"{failed} item(s) failed and will be retried (see `monitor feeds {feed.name}`)")
        warnings += [f"{lie.validator} not trusted: the server {lie.reason}" for lie in lies]
        if parsed is None and not warnings and state is not None and state.last_warning:
            warnings.append(state.last_warning)
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
            validators=self._validator_record(feed, state, untrusted, lies, digest, result, now),
            now=now,
        )
        if parsed is None:
            log.info("feed not modified feed=%s worked=%d", feed.name, len(due))
            metrics.POLLS.labels(feed.name, "not_modified").inc()
            return FeedReport(feed.name, True, 0, new, matched, warning=warning or "")
        if warning:
            log.warning("feed oddities feed=%s warning=%s", feed.name, warning)
        log.info("feed polled feed=%s items=%d new=%d matched=%d", feed.name, len(parsed.items), new, matched)
        metrics.POLLS.labels(feed.name, "ok").inc()
        self.prune_index()
        return FeedReport(feed.name, True, len(parsed.items), new, matched, warning=warning or "")

    def _validator_record(
        self,
        feed: Feed,
        state: FeedState | None,
        untrusted: frozenset[str],
        lies: list[validators.Lie],
        digest: str | None,
        result: FetchResult,
        now: datetime,
    ) -> ValidatorRecord:
        """The feed's validator record after this poll: a full answer's digest and time, and
        the validators caught lying (kept: they are never sent again for this feed)."""
        caught = {lie.validator for lie in lies} - untrusted
        for lie in lies:
            if lie.validator in caught:
                log.warning("validator untrusted feed=%s validator=%s reason=%s", feed.name, lie.validator, lie.reason)
        return ValidatorRecord(
            body_hash=digest,
            full_fetch_at=(state.full_fetch_at if state else None) if result.not_modified else now,
            untrusted=validators.untrusted_text(untrusted | caught),
            untrusted_reason="; ".join(dict.fromkeys(lie.reason for lie in lies if lie.validator in caught))
            if caught
            else (state.untrusted_reason if state else None),
            untrusted_at=now if caught else (state.untrusted_at if state else None),
        )

    def _ledger_input(
        self,
        feed: Feed,
        item: FeedItem,
        since: datetime | None,
        now: datetime,
        shared: frozenset[str] = frozenset(),
        prior: Mapping[str, Known] | None = None,
    ) -> ItemInput:
        """The ledger row of a listed item (key and article key: monitor.dedup.identity). On a
        backfill poll (`since`, monitor.sources.backfill) a NEW item published before `since`
        starts as skipped with the reason."""
        key, url_key = item_identity(feed.name, item, shared, prior or {})
        if (skip := backfill.skip(item.published, since, now)) is not None:
            return ItemInput(key, url_key, item, title_key(item), "skipped", skip.code, skip.reason)
        return ItemInput(key, url_key, item, title_key(item))

    def _work_item(self, feed: Feed, row: ItemRow, now: datetime) -> list[Match] | None | object:
        """Process one ledger item; any exception becomes a recorded error on the item (retried
        with backoff, `failed` after ITEM_MAX_ATTEMPTS). Returns process_item's result or _FAILED."""
        try:
            return self.process_item(feed, row.feed_item(), ledger=row, now=now)
        except Exception as exc:  # the per-item boundary: record, never lose the pass
            error = f"{type(exc).__name__}: {exc}"[:500]
            attempts = row.attempts + 1
            metrics.ERRORS.labels(feed.name, "item").inc()
            if attempts >= ITEM_MAX_ATTEMPTS:
                log.error(
                    "item failed feed=%s item=%d url=%s attempts=%d error=%s",
                    feed.name,
                    row.id,
                    row.url,
                    attempts,
                    error,
                )
                self._set_item(
                    row,
                    "failed",
                    "item_error",
                    f"gave up after {attempts} attempts: {error}",
                    now,
                    error=error,
                    count_attempt=True,
                )
            else:
                wait = timedelta(seconds=min(ITEM_RETRY_BASE * 2 ** (attempts - 1), ITEM_RETRY_CAP))
                log.warning(
                    "item error feed=%s item=%d url=%s attempt=%d error=%s", feed.name, row.id, row.url, attempts, error
                )
                self._set_item(
                    row,
                    "pending",
                    "item_error",
                    f"attempt {attempts} failed: {error}",
                    now,
                    next_try_at=now + wait,
                    error=error,
                    count_attempt=True,
                )
            return _FAILED

    def _set_item(self, row: ItemRow, state: str, code: str, reason: str, now: datetime, **kw: Any) -> None:
        self.store.set_item(row.id, state, code, reason, now=now, **kw)
        metrics.ITEM_TRANSITIONS.labels(state).inc()

    def _adapt(self, feed: Feed, state: FeedState | None, new: int, now: datetime) -> tuple[float | None, float | None]:
        """(rate, wait) for an adaptive feed; (None, None) otherwise or with no previous poll."""
        if not feed.min_interval or state is None or state.last_polled_at is None or state.last_success_at is None:
            return None, None
        elapsed = (now - state.last_polled_at).total_seconds()
        return adapt(state.new_per_hour, new, elapsed, feed.min_interval, self.config.max_interval(feed))

    def _feed_failed(self, feed: Feed, state: FeedState | None, exc: MonitorError, now: datetime) -> FeedReport:
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

    def process_item(
        self, feed: Feed, item: FeedItem, *, ledger: ItemRow | None = None, now: datetime | None = None
    ) -> list[Match] | None:
        """Process one feed item; None if nothing new was stored (already processed, a page
        retry, a confirmed headline copy). With `ledger` (the item's ledger row) the item's
        outcome is written back to it: see monitor.storage.items for the states.

        A wrapper link (``/url?q=…``) is unwrapped before anything else; a page that
        soft-redirects is read at its final URL, which is the article's URL and dedup
        key; the link the feed gave is kept as an alias key of that article.
        """
        now = now or utcnow()
        url_key = ledger.url_key if ledger else normalize_url(item.url) if item.url else linkless_key(feed.name, item)
        guid = item.guid if ledger is None or ledger.key == f"guid:{item.guid}" else ""  # not a re-used one
        if item.url and not is_linkless_key(url_key):
            target = self.fetcher.unwrap(item.url)
            if target is not None:
                log.info("wrapped link unwrapped feed=%s url=%s target=%s", feed.name, item.url, target)
                item = replace(item, url=target)
                url_key = normalize_url(target)
        # one poller at a time per article URL (storage/claims.py): a page two feeds list, polled
        # at once (two nodes, or two worker threads), is fetched once; the second finds it stored
        claim = self.store.claim_page(url_key) if item.url and not is_linkless_key(url_key) else nullcontext()
        with claim:
            return self._process_item(feed, item, ledger, now, url_key, guid)

    def _process_item(
        self, feed: Feed, item: FeedItem, ledger: ItemRow | None, now: datetime, url_key: str, guid: str
    ) -> list[Match] | None:
        """process_item after the link is unwrapped, under the URL's claim."""
        # by key, by GUID, or a link seen before that soft-redirected to a stored article; else
        # the ledger's twin of the item (one read transaction)
        seen = self.store.seen(
            url_key,
            feed.name,
            guid,
            _ALIAS + url_key if item.url else "",
            ledger=ledger,
            twin_since=now - timedelta(seconds=self.config.dedup.window),
        )
        known = seen.known
        if known is not None and known.status == "done":
            if ledger is not None and not self._match_for_feed(feed, known.id, ledger, now):
                self._settle(ledger, known.id, now)
            return None
        if ledger is not None:
            twin = seen.twin
            if twin is not None:  # a feed rotating GUIDs and links: same headline, date and teaser
                reason = f"same headline, date and teaser as item #{twin.id} (article #{twin.article_id})"
                self._set_item(
                    ledger,
                    "skipped",
                    "title_key_copy",
                    reason,
                    now,
                    ref_item_id=twin.id,
                    ref_article_id=twin.article_id,
                )
                return None
        started = time.monotonic()
        article, wall, folded = self._article(feed, item, url_key)
        if isinstance(article, PageDeferred):  # retried on the next poll
            if ledger is not None:
                reason = f"page fetch failed (attempt {article.attempts} of {MAX_PAGE_ATTEMPTS}): {article.error}"
                self._set_item(ledger, "pending", "page_retry", reason[:500], now, next_try_at=now, error=article.error)
            return None
        if article.url_key != url_key:  # the page moved on to another URL
            final = self.store.known(article.url_key, feed.name, "")
            if final is not None and final.status == "done":
                self.store.link_guid(feed.name, _ALIAS + url_key, final.id)
                log.info("moved to a stored article feed=%s url=%s final=%s", feed.name, item.url, article.url)
                if ledger is not None:
                    self._settle(ledger, final.id, now)
                return None
        language = feed.language or detect_language(f"{article.title}\n{article.body}")
        if folded is None:  # folded once: wall check, matching, fingerprint, profile
            folded = FoldedText.of(article.title, article.body)
        matches = self.matcher.match(article.title, article.body, feed=feed.name, language=language, folded=folded)
        if ledger is not None and not matches and isinstance(wall, Unread) and wall.retry:
            if wall.attempts < PAGE_GIVE_UP:  # the teaser says nothing: the page may, once it is back
                self._read_later(ledger, wall, now)
                return None
        now = utcnow()
        alerts = self.composer.alerts(article, matches, self.config.outlet(feed), now, self.outbox.hold)
        terms = stories.story_terms_folded(folded)  # profile, echoes and head from one key-term pass
        story = StoryInput(
            neardup.fingerprint_words(neardup.article_words(folded)),
            terms.profile,
            self.story_rules,
            trusted=feed.trusted,
            trusted_feeds=self._trusted_feeds,
            echoes=terms.echoes,
            head=terms.head,
            # only a feed summary (a failed or walled page's) is compared by its head (Member.words)
            words=folded.body_pieces if article.text_source in FEED_TEXT_SOURCES else None,
        )
        outlet = self.config.outlet(feed)
        done: ItemRow | None = None
        if ledger is not None:  # the article and its item's outcome in one transaction
            note = f"; its page was a {wall.describe()}, so the feed's text was matched" if wall else ""
            note = wall.note() if isinstance(wall, Unread) else note
            got = self.store.save_and_resolve(
                article,
                guid=item.guid,
                outlet=outlet,
                matches=matches,
                alerts=alerts,
                story=story,
                resolve=Resolution(ledger.id, now, note),
            )
            saved, done = (got.id, got.item) if got is not None else (None, None)
        else:
            saved = self.store.save_article(
                article, guid=item.guid, outlet=outlet, matches=matches, alerts=alerts, story=story
            )
        if saved is None:  # another worker stored it first
            other = self.store.article_by_key(url_key) if ledger is not None else None
            if ledger is not None and other is not None:
                self._settle(ledger, other, now)
            return None
        if article.url_key != url_key:
            self.store.link_guid(feed.name, _ALIAS + url_key, saved)
        if done is not None:
            metrics.ITEM_TRANSITIONS.labels(done.state).inc()
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

    def _read_later(self, ledger: ItemRow, wall: Unread, now: datetime) -> None:
        """An item whose page failed MAX_PAGE_ATTEMPTS times or more and whose teaser matches
        no topic stays pending: its page is tried again with a doubling wait (PAGE_RETRY_BASE)
        until PAGE_GIVE_UP failures, then the teaser's outcome is final and says so. Nothing
        is stored for it meanwhile, so a page back later is read in full (oksskolten#73)."""
        wait = PAGE_RETRY_BASE * 2 ** max(wall.attempts - MAX_PAGE_ATTEMPTS, 0)
        retry = now + timedelta(seconds=wait)
        reason = (
            f"page fetch failed {wall.attempts} times ({wall.evidence}); its feed title and teaser match no "
            f"topic, so the page is tried again at {retry:%Y-%m-%d %H:%M} UTC (gives up after {PAGE_GIVE_UP})"
        )
        log.info("page retried later url=%s attempts=%d next=%s", ledger.url, wall.attempts, retry.isoformat())
        self._set_item(ledger, "pending", "page_retry", reason[:500], now, next_try_at=retry, error=wall.evidence)

    def _match_for_feed(self, feed: Feed, article_id: int, ledger: ItemRow, now: datetime) -> bool:
        """A stored article listed by another feed: the topics limited by ``feeds:`` or
        ``languages:`` that did not apply where it was first read may apply here (tt-rss#57,
        FreshRSS#6916: one article in overlapping feeds). Their matches and alerts are added
        to the article and the item is resolved from it; True if any was added."""
        if not self._filtered_topics:
            return False
        stored = self.store.stored_article(article_id)
        if stored is None:
            return False
        language = feed.language or detect_language(f"{stored.title}\n{stored.body}")
        matches = self.matcher.match(stored.title, stored.body, feed=feed.name, language=language)
        matches = [m for m in matches if m.topic_id in self._filtered_topics]
        if not matches:
            return False
        article = Article(stored.url, ledger.url_key, stored.feed, stored.title, stored.body, stored.published)
        alerts = self.composer.alerts(article, matches, stored.outlet, utcnow(), self.outbox.hold)
        added = self.store.add_matches(article_id, matches, alerts, utcnow())
        if not added:
            return False
        note = f"; first read from feed {stored.feed}, matched {', '.join(added)} as listed by this feed"
        done = self.store.resolve_item(ledger.id, article_id, now, note=note)
        metrics.ITEM_TRANSITIONS.labels(done.state).inc()
        if alerts:
            self.outbox.wake()
        return True

    def _settle(self, ledger: ItemRow, article_id: int, now: datetime) -> None:
        """An item whose article is already stored: another item's (skipped) or its own,
        stored before a crash or before the ledger existed (state read back from the store)."""
        other = self.store.item_of_article(article_id, other_than=ledger.id)
        if other is not None:
            reason = f"same URL or GUID as item #{other.id} (article #{article_id})"
            self._set_item(
                ledger, "skipped", "same_article", reason, now, ref_item_id=other.id, ref_article_id=article_id
            )
            return
        done = self.store.resolve_item(ledger.id, article_id, now)
        metrics.ITEM_TRANSITIONS.labels(done.state).inc()

    def _article(
        self, feed: Feed, item: FeedItem, url_key: str
    ) -> tuple[Article | PageDeferred, Interstitial | None, FoldedText | None]:
        """Fetch and extract the page; fall back to the feed's text when the page can't be had
        or is an interstitial (consent wall, bot challenge, "enable JavaScript", paywall stub:
        monitor.extract.interstitial), which is returned with the article. The third value is
        the article's ``FoldedText`` when the repeated-body check already made it, else None."""
        folded: FoldedText | None = None
        title, body, source = item.title, item.summary, "summary"
        url, published = item.url, item.published
        wall = not_own_page(item.url, key=url_key) if item.url else None  # a hash route, a shared link
        given_key = url_key
        if item.url and wall is None:
            # lxml and the extractor come with the first page to read (issue 16: not with a 304 pass)
            from monitor.extract.article import extract
            from monitor.extract.htmlcheck import check_page

            try:
                page = self.fetcher.get(item.url)
                if any(not how.startswith("http-") for _, how in page.via):  # an interstitial moved on
                    url, url_key = page.url, normalize_url(page.url)
                    log.info(
                        "page moved feed=%s url=%s final=%s via=%s",
                        feed.name,
                        item.url,
                        page.url,
                        "|".join(how for _, how in page.via),
                    )
                checked = check_page(decode_html(page.content, page.content_type), page.url, self.budget)
                if checked.warning:
                    log.warning("page over budget feed=%s url=%s warning=%s", feed.name, item.url, checked.warning)
                wall = consent_redirect(item.url, page.url) or not_own_page(item.url, page.url)
                text = None
                if wall is None:
                    try:
                        text = extract(checked.text, page.url)
                    except ExtractError:  # no article text: say why when the page is a wall
                        wall = detect(checked.text, url=page.url, item_title=item.title, body=None)
                        if wall is None:
                            raise
                if wall is None and text is not None:
                    # a page reached by a soft redirect is another URL's article on purpose: headline
                    # and repetition tell nothing there, only a wall's own markers do
                    headline = item.title if url_key == given_key else ""
                    wall = detect(
                        checked.text, url=page.url, item_title=headline, page_title=text.title, body=text.body
                    )
                    if wall is None and headline:
                        folded = FoldedText.of(item.title or text.title, text.body)  # the article's, if no wall
                        wall = self._repeated(page.url, url_key, item.title, folded.body)
                if wall is not None:
                    self._walled[feed.name] = self._walled.get(feed.name, 0) + 1
                    metrics.ERRORS.labels(feed.name, "interstitial").inc()
                    log.warning(
                        "interstitial page feed=%s url=%s kind=%s signal=%s evidence=%r; matching feed text",
                        feed.name,
                        item.url,
                        wall.kind,
                        wall.signal,
                        wall.evidence,
                    )
                    url, url_key = item.url, given_key  # not the consent host's URL
                    source = "interstitial"
                elif text is not None:
                    title, body = item.title or text.title, text.body
                    source = "page" if text.source == "page" else text.source
                    published = published or text.published
            except ExtractError as exc:
                metrics.ERRORS.labels(feed.name, "extract").inc()
                log.warning("extract failed feed=%s url=%s error=%s; matching feed text", feed.name, item.url, exc)
                wall = Unread("unread", "extract", str(exc)[:200])
            except FetchError as exc:
                metrics.ERRORS.labels(feed.name, "page").inc()
                attempts = self.store.record_fetch_failure(
                    feed=feed.name, url=item.url, url_key=url_key, guid=item.guid, title=item.title, error=str(exc)
                )
                if attempts < MAX_PAGE_ATTEMPTS:
                    log.warning("page failed feed=%s url=%s attempt=%d error=%s", feed.name, item.url, attempts, exc)
                    return PageDeferred(attempts, str(exc)), None, None
                log.warning("page failed feed=%s url=%s attempt=%d; matching feed text", feed.name, item.url, attempts)
                refused = isinstance(exc, (BlockedAddressError, UnsafeURLError))  # policy: no retry helps
                wall = Unread("unread", "fetch", str(exc)[:200], attempts, retry=not refused)
        article = Article(
            url=url,
            url_key=url_key,
            feed=feed.name,
            title=title,
            body=body,
            published=published,
            text_source=source,
        )
        return article, wall, folded if wall is None else None

    def _repeated(self, url: str, url_key: str, title: str, body: Sequence[str]) -> Interstitial | None:
        """The same body on another URL of this host under another headline (HostMemory)."""
        with self._walls_lock:
            return self._walls.check(url, url_key, title, body)

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
    def deliver(
        self, now: datetime | None = None, *, ignore_backoff: bool = False, max_wait: float | None = None
    ) -> DeliveryReport:
        """Send every due alert once, channels in parallel (see monitor.delivery.outbox).

        `ignore_backoff` also retries alerts still waiting after a failure (a
        manual `monitor once` pass is an explicit retry); `max_wait` (seconds): a channel
        whose rate limit has no slot within that leaves the rest queued.
        """
        return self.outbox.deliver(now, ignore_backoff=ignore_backoff, max_wait=max_wait)


_ALIAS = "url:"  # article_guids key of a feed link that redirected to a stored article
