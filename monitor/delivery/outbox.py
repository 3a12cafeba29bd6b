"""Drain the alert outbox: one sender per channel, rate-limited, retried, never dropped.

Each channel has its own :class:`ChannelSender` (in the daemon, its own thread),
so a slow or failing channel never delays another. A send is recorded per
target (and per message part) as it succeeds, so a retry only resends what a
target has not got. Delivery is at-least-once: a kill between a send and its
record resends that one message once.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor import metrics
from monitor.config.load import Config
from monitor.config.values import parse_hhmm, parse_rate, parse_window
from monitor.dedup.keys import clean_link
from monitor.delivery import followups, grouping, holds, targets, telegram
from monitor.delivery.digest import render_digest, render_migration_notice, render_ops_notice, split_telegram
from monitor.delivery.failures import SendResult
from monitor.delivery.fallback import part_id, plain_fallback
from monitor.delivery.grouping import Planned, stored_message
from monitor.delivery.ratelimit import RateLimiter
from monitor.delivery.records import Recorder
from monitor.delivery.schedule import Plan, release_time
from monitor.delivery.targets import Target, inherit
from monitor.models import CHANNEL_KINDS, ChannelKind, NewAlert, RenderedAlert, channel_kind
from monitor.redact import redact
from monitor.storage import DeliveryProgress, Hold, Lease, Mark, OutboxAlert, Store

log = logging.getLogger(__name__)

RETRY_BASE = 30.0  # seconds; doubles per failed send, capped
RETRY_CAP = 3600.0
# the longest wait a server's retry_after is obeyed for: Telegram's flood waits run seconds to
# hours; an absurd one (1e12 s, inf, NaN: redteam17c #2) would overflow a datetime and crash
# the send instead of holding the channel
RETRY_AFTER_MAX = 86_400.0
PAUSE_AFTER_FAILURE = 30.0  # a channel that just failed transiently rests this long (at most)
TELEGRAM_DEFAULT = ("1/s",)  # per chat (Telegram's guidance)
TELEGRAM_GROUP_DEFAULT = ("1/s", "20/m")  # group chats (negative ids)


@dataclass(frozen=True)
class DeliveryReport:
    """Alerts of one pass: sent, failed (retrying), dead; ``stranded``: pending alerts of
    channels the config no longer names (renamed or removed), kept, sent when a channel of
    that name is back or after ``monitor outbox move OLD NEW``; ``waiting``: due alerts a
    `monitor once` pass left queued because a channel's rate limit had no slot within
    ONCE_MAX_WAIT seconds (sent by the next pass or the daemon)."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    stranded_by: tuple[tuple[str, int], ...] = ()  # (channel, pending alerts) per channel not in config
    waiting: int = 0

    @property
    def stranded(self) -> int:
        return sum(n for _, n in self.stranded_by)

    def __add__(self, other: DeliveryReport) -> DeliveryReport:
        return DeliveryReport(
            self.sent + other.sent,
            self.failed + other.failed,
            self.dead + other.dead,
            self.stranded_by + other.stranded_by,
            self.waiting + other.waiting,
        )


STRANDED = "channel not in config (renamed or removed)"
BATCH = 200  # alerts read per query; a batch, never a limit on a pass (issue 12, loss 4)
# `monitor once` waits this long (seconds) at most for a rate-limit slot: Telegram's own
# defaults (1/s, 20/m) are waited for, a slower `rate:` (1/h) leaves the rest queued (issue 18)
ONCE_MAX_WAIT = 60.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def target_key(url: str) -> str:
    """A stable, secret-free name for one target URL."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]


def message_id(alert: OutboxAlert, *, digest: bool = False) -> str:
    """The same Message-ID for every send of one alert (retries thread together)."""
    kind = "digest" if digest else "alert"
    return f"<monitor.{kind}.{alert.id}.{alert.article_id}.{alert.created_at:%Y%m%d%H%M%S}@monitor.invalid>"


@dataclass(frozen=True)
class SendRequest:
    """One message part for one target, as the outbox hands it to a send function.

    ``url`` -- the target's apprise URL (an email follow-up's carries its
    In-Reply-To header). ``kind`` -- the channel's kind. ``message_id`` -- the
    email Message-ID (stable across retries). ``threaded`` -- send through the
    direct Bot API call (keeps the Telegram ``message_id``); ``reply_to`` -- the
    Telegram ``message_id`` a threaded send replies to (None: a new thread).
    ``preview``: the channel's ``link_preview`` (Telegram; a direct call sends it as
    ``link_preview_options``).
    """

    url: str
    part: RenderedAlert
    kind: ChannelKind
    message_id: str
    threaded: bool = False
    reply_to: str | None = None
    preview: str = "off"


Send = Callable[[SendRequest], SendResult]


def send_request(request: SendRequest, *, telegram_api_url: str | None = None) -> SendResult:
    """The real send: the direct Bot API call for a threaded request, else apprise."""
    if request.threaded:
        return telegram.send(
            request.url,
            request.part.html,
            reply_to=request.reply_to,
            api_url=telegram_api_url,
            preview=request.preview,
        )
    from monitor.delivery import notify  # apprise's senders: imported by the first send (issue 16)

    return notify.send_one(request.url, request.part, kind=request.kind, message_id=request.message_id)


def default_rates(url: str) -> tuple[str, ...]:
    """Rate limits of a target without `rate:` (Telegram: per chat, stricter for a group)."""
    if channel_kind([url]) is not ChannelKind.TELEGRAM:
        return ()
    chat = url.split("://", 1)[1].split("?", 1)[0].split("/")[1:2]
    return TELEGRAM_GROUP_DEFAULT if chat and chat[0].startswith("-") else TELEGRAM_DEFAULT


def backoff(attempts: int, retry_after: float | None) -> float:
    """Seconds until the next try: exponential with jitter, never before `retry_after`
    (itself bounded by RETRY_AFTER_MAX; a value that is not a finite number counts as that)."""
    delay: float = min(RETRY_CAP, RETRY_BASE * 2.0 ** min(attempts, 20)) * random.uniform(1.0, 1.25)
    wait = retry_after or 0.0
    if not math.isfinite(wait) or wait > RETRY_AFTER_MAX:
        wait = RETRY_AFTER_MAX
    return max(delay, wait)


class ChannelSender:
    """Sends one channel's due alerts (one caller at a time)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        name: str,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], object] | None = None,
        message: Callable[[list[OutboxAlert]], RenderedAlert] | None = None,
        send: Send | None = None,
    ) -> None:
        """`message(alerts)`: the message for one alert, or for several topics' alerts of
        one article (default :func:`stored_message`; the pipeline passes
        :meth:`monitor.delivery.compose.Composer.message_group`).
        `send(request)`: delivers one part to one target (default :func:`send_request`,
        apprise or the direct Bot API); tests pass a fake."""
        self.config, self.store, self.name = config, store, name
        self.message = message or (lambda group: stored_message(group, self.kind))
        api_url = config.notify.telegram_api_url
        self.send: Send = send or (lambda request: send_request(request, telegram_api_url=api_url))
        self.stop = threading.Event()
        self.wake = threading.Event()
        opts = config.channel(name)
        urls = list(config.channels[name])
        self.kind = channel_kind(urls)
        self.link_preview = opts.link_preview
        self.plan = Plan(
            mode=opts.delivery,
            daily_at=parse_hhmm(opts.digest_at),
            tz=opts.timezone or config.notify.timezone,
            quiet=parse_window(opts.quiet_hours) if opts.quiet_hours else None,
        )
        kwargs: dict[str, Any] = {"sleep": sleep or self.stop.wait}
        if clock is not None:
            kwargs["clock"] = clock
        self.targets: list[Target] = []
        for configured in urls:
            split = targets.expand(configured)  # one target per chat/recipient
            for url in split:
                rate = opts.rate if opts.rate is not None else default_rates(url)
                rates = [rate] if isinstance(rate, str) else list(rate)
                limiter = RateLimiter([parse_rate(r) for r in rates], **kwargs)
                whole = target_key(configured) if split != [configured] else ""
                self.targets.append(Target(target_key(url), url, limiter, whole))
        # cluster holds (delivery/holds.py): a server's is the target's, a rate hold its limits'
        self.hold_ids = {t.key: holds.identity(t.url) for t in self.targets}
        self.hold_keys = holds.channel_keys(name, urls)
        self.rate = holds.rate_signature(limit for t in self.targets for limit in t.limiter.limits)
        self.blocked_until: datetime | None = None
        self.lease: Lease | None = None  # cluster mode: the job holding this channel (see take_over)
        self.lease_lost = False
        self.max_wait: float | None = None  # set for one `once` pass (see drain)
        self.rate_limited = False  # this pass stopped at a rate limit with no slot within max_wait
        self.rate_wait = 0.0  # then: seconds until that limit's next slot
        self.records = Recorder(sleep=self.stop.wait)  # what went out is written, or owed (records.py)
        self._lock = threading.Lock()
        self._topics = {t.id: t for t in config.topics}

    # ---- cluster mode ---------------------------------------------------
    def take_over(self, lease: Lease) -> None:
        """Cluster mode: this node's job `lease` holds the channel now. The rate limits start
        from the channel's sends in the store (made by whichever node held it before, their
        ages by the database's clock), so a limit holds across the cluster whatever the
        nodes' clocks: one send per Bot API message (a long Telegram alert counts its
        split_telegram parts; alerts batched into one message count each, erring slow).
        Each send waits for `lease` to be checked first, and every outcome written
        is fenced by it (see :meth:`drain`, which calls this under the drain lock for the
        job's own lease). The store's holds were judged by the send job right before
        (:meth:`held`, one read): a job runs only on a channel no hold keeps silent."""
        longest = max((p for t in self.targets for _, p in t.limiter.limits), default=0.0)
        sent = self.store.recent_sends(self.name, longest) if longest else []
        split = CHANNEL_KINDS[self.kind].telegram_html  # a long alert went out as several messages
        ages = [send.age for send in sent for _ in range(len(split_telegram(send.html)) if split and send.html else 1)]
        for target in self.targets:
            target.limiter.restart_from(ages)
        self.blocked_until = None
        self.lease, self.lease_lost = lease, False

    def held(self, found: list[Hold]) -> Hold | None:
        """The hold among `found` (the store's, :meth:`Store.holds`) that keeps this channel
        silent now: a server's on one of its targets, or its rate hold made under the limits
        it has now (delivery/holds.py); None when it may send."""
        return holds.held_by(found, self.name, self.hold_keys, self.rate)

    def _may_send(self, ids: list[int]) -> bool:
        """Whether this pass may send alerts `ids` now: always without a lease; in cluster
        mode only while the job's lease holds and they are still pending (asked right before
        each send, so the one message a taken-over run may still put out is the one already
        in flight when it froze)."""
        lease = self.lease
        if lease is None or self.store.lease_covers(lease, ids):
            return lease is None or not self.lease_lost
        self._lose(ids[0], "send")
        return False

    def _lose(self, alert_id: int, step: str) -> None:
        self.lease_lost = True
        log.warning(
            "lease lost id=%d channel=%s step=%s; the node holding the channel now sends it",
            alert_id,
            self.name,
            step,
        )

    def _record(self, what: str, write: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """Write one outcome of a send through the Recorder (retried, else owed), fenced by
        the pass's lease in cluster mode: False when the lease is gone (the pass stops).
        An owed write keeps the lease of the pass that made it, so settled by a later pass
        it is still fenced by its own job, and its refusal does not stop the later pass."""
        lease = self.lease

        def fenced() -> None:
            if lease is None:
                write(*args, **kwargs)
            elif write(*args, lease=lease, **kwargs) is False and lease is self.lease and not self.lease_lost:
                self._lose(int(args[0][0] if isinstance(args[0], list) else args[0]), what)

        self.records.write(what, fenced)
        return not (lease is not None and self.lease_lost)

    # ---- one pass ---------------------------------------------------------
    def drain(
        self,
        now: datetime | None = None,
        *,
        ignore_backoff: bool = False,
        max_wait: float | None = None,
        lease: Lease | None = None,
    ) -> DeliveryReport:
        """Send what is due now. The daemon's pass stops at a transient failure (the channel
        rests); an `ignore_backoff` pass (`monitor once`) tries every pending alert once.
        With `max_wait` (seconds) a rate limit with no slot within that stops the pass: the
        rest stays queued, counted in the report's ``waiting``.

        Cluster mode: `lease` is the send job's own (:meth:`take_over`, done here under the
        drain lock, so two jobs of one node never share or swap a lease). Right before each
        send the lease is checked (still held, the alert still pending), each outcome is
        written only while it holds, and the pass stops the moment it is found lost: a node
        frozen past the stall timeout sends nothing on thaw but what was already in flight."""
        with self._lock:
            self.max_wait, self.rate_limited = max_wait, False
            if lease is not None:
                self.take_over(lease)
            try:
                report = self._drain(now, ignore_backoff)
            finally:
                self.max_wait = None
                if lease is not None:
                    self.lease = None
            if self.rate_limited:
                left = self.store.channel_due(self.name, now or utcnow(), ignore_backoff=True, limit=1_000_000)
                level = logging.INFO if lease is not None else logging.WARNING  # a cluster job: routine
                log.log(level, "rate limit channel=%s waiting=%d; left queued for the next pass", self.name, len(left))
                report += DeliveryReport(waiting=len(left))
            return report

    def _drain(self, now: datetime | None, ignore_backoff: bool) -> DeliveryReport:
        now = now or utcnow()
        if self.blocked_until and now < self.blocked_until and not ignore_backoff:
            return DeliveryReport()
        self.blocked_until = None
        self.records.settle()  # what went out before a store refusal is written before any send
        report = DeliveryReport()
        tried: set[int] = set()  # an ignore_backoff pass pages past what it already tried
        while not self.stop.is_set() and not self.lease_lost and not self.rate_limited:
            due = self.store.channel_due(self.name, now, ignore_backoff=ignore_backoff, limit=BATCH + len(tried))
            due = [a for a in due if a.id not in tried]
            if not due:
                break
            tried.update(a.id for a in due)
            held = [a for a in due if a.digest]
            single = [a for a in due if not a.digest]
            progressed = 0
            if held:
                outcome = self._send_group(held, now)
                report += outcome
                progressed += outcome.sent + outcome.dead
                if outcome.failed and not ignore_backoff:
                    break
            for batch in self.batches(single):
                if self.stop.is_set() or self.lease_lost or self.rate_limited:
                    break
                outcome = self._send_group(batch, now)
                report += outcome
                progressed += outcome.sent + outcome.dead
                if outcome.failed and not ignore_backoff:
                    return report  # the channel rests (blocked_until) before the next try
            if not ignore_backoff and not progressed:
                break  # failed ones would come straight back; they wait for their next try
        return report

    def preview(self, now: datetime) -> list[Planned]:
        """The messages an `ignore_backoff` :meth:`drain` at `now` would send, rendered the
        same way (digest, grouped alerts, single alerts); nothing is sent or written."""
        due = self.store.channel_due(self.name, now, ignore_backoff=True, limit=1_000_000)
        held = [a for a in due if a.digest]
        groups = ([held] if held else []) + self.batches([a for a in due if not a.digest])
        return [
            Planned(
                self.name,
                tuple(a.id for a in g),
                tuple(dict.fromkeys(a.topic_id for a in g)),
                bool(g[0].digest),
                tuple(self._render(g)[0]),
            )
            for g in groups
        ]

    def batches(self, due: list[OutboxAlert]) -> list[list[OutboxAlert]]:
        """Due single alerts -> messages (:func:`monitor.delivery.grouping.batches`)."""
        return grouping.batches(due, self._topics)

    def _render(self, group: list[OutboxAlert]) -> tuple[list[RenderedAlert], str]:
        first = group[0]
        if first.digest:
            # the links a digest shows are the readers' URLs (utm_* and fragments dropped), as in alerts
            arts = {
                k: replace(v, url=clean_link(v.url))
                for k, v in self.store.alert_articles([a.article_id for a in group]).items()
            }
            topics = {t.id: t.name for t in self.config.topics}
            # the copies known now (some may have arrived after the alert was held), as single alerts list them
            also = {
                a.id: self.store.also_reported(a.article_id, followups.copy_scope(self._topics.get(a.topic_id)))
                for a in group
            }
            rendered = render_digest(group, arts, topics, kind=self.kind, tz=self.plan.tz, also=also)
            mid = message_id(first, digest=True)
        else:
            rendered = self.message(group)
            mid = message_id(first)
        if CHANNEL_KINDS[self.kind].telegram_html:
            return [RenderedAlert(rendered.subject, rendered.text, part) for part in split_telegram(rendered.html)], mid
        return [rendered], mid

    def _send_group(self, group: list[OutboxAlert], now: datetime) -> DeliveryReport:
        """Send one alert (or one digest of several) to every target that lacks it.

        Progress is kept per target (storage/progress.py): got it, got part i, or refused it
        for good. A digest counts as had by a target only if every alert in it was.
        """
        ids = [a.id for a in group]
        parts, mid = self._render(group)
        progress = inherit(DeliveryProgress.common(a.progress for a in group), self.targets)
        errors: list[str] = []
        waits: list[tuple[Target, bool]] = []  # targets that failed for now (asked to wait)
        transient, retry_after = False, None
        ours = False  # a server refused even the plain form of our message (never the channel's fault)
        for n, target in enumerate(self.targets):
            if progress.settled(target.key):
                continue
            for i, part in enumerate(parts):
                if len(parts) > 1 and progress.got_part(target.key, i):
                    continue
                if not target.limiter.acquire(self.max_wait):
                    self.rate_limited = not self.stop.is_set()
                    self.rate_wait = target.limiter.wait_time(target.limiter.clock())
                    return DeliveryReport()  # stopping or no slot soon: stays pending, sent later
                if not self._may_send(ids):
                    return DeliveryReport()  # the lease is gone: the channel's new holder sends it
                with metrics.Timer() as timer:
                    result = self._send(target, part, group[0], i, mid)
                metrics.SEND_SECONDS.labels(self.name).observe(timer.seconds)
                if not result.ok and result.message_fault:  # our message, not the channel: once, plainer
                    log.warning(
                        "message refused id=%s channel=%s error=%s; resending it plain", ids[0], self.name, result.error
                    )
                    for k, piece in enumerate(plain_fallback(part, self.kind)):  # every line kept, split
                        if not self._may_send(ids):
                            return DeliveryReport()
                        result = self._send(target, piece, group[0], i, part_id(mid, k))
                        if not result.ok:
                            break
                    if not result.ok and result.message_fault:
                        ours = True
                if not result.ok:
                    label = f"{self.name}[{n}]" if len(self.targets) > 1 else self.name
                    errors.append(f"{label} {result.error}")
                    if result.permanent or result.message_fault:
                        if not self._record("refused", self.store.mark_delivered, ids, target.key, refused=True):
                            return DeliveryReport()  # a taken-over run's verdict does not count
                        progress = progress.add(Mark(target.key, refused=True))
                    if not (result.permanent or result.message_fault):
                        transient = True
                        waits.append((target, result.retry_after is not None))
                    if result.retry_after is not None:
                        retry_after = max(retry_after or 0.0, result.retry_after)
                    break
                if len(parts) > 1 and not group[0].digest:
                    if not self._record("part", self.store.mark_delivered, ids, target.key, part=i):
                        return DeliveryReport()
            else:
                if not self._record("delivered", self.store.mark_delivered, ids, target.key):
                    return DeliveryReport()
        what = "digest" if group[0].digest else "alert"
        first, lease = group[0], self.lease
        refused = [t for t in self.targets if progress.refused(t.key)]
        if not errors and not refused:
            sent_at = utcnow()
            for a in group:
                if not self._record("sent", self.store.mark_sent, a.id, sent_at):
                    return DeliveryReport()  # another node took the channel over: it owns the rest
            log.info("%s sent id=%s topic=%s channel=%s", what, ",".join(map(str, ids)), first.topic_id, self.name)
            metrics.ALERTS.labels(self.name, "sent").inc(len(group))
            return DeliveryReport(sent=len(group))
        error = redact("; ".join(errors)) or (first.last_error or "refused by a target")
        if not transient:  # every target has it or refused it for good
            if ours:
                error = f"message refused by the server (not a channel fault): {error}"
            action = "report it (our message was refused)" if ours else "fix the channel"
            for n, a in enumerate(group):  # one notice per dead digest, else per dead alert (grouped ones too)
                notice = self._ops_notice(a, error, len(group)) if first.digest else self._ops_notice(a, error)
                if not self.store.mark_dead(a.id, error, notice if n == 0 or not first.digest else None, lease=lease):
                    if lease is not None:
                        self._lose(a.id, "dead")
                        return DeliveryReport(dead=n)
                log.error(
                    "alert dead id=%d topic=%s channel=%s error=%s "
                    "OPERATOR ACTION NEEDED: %s, then `monitor outbox retry %d`",
                    a.id,
                    a.topic_id,
                    self.name,
                    error,
                    action,
                    a.id,
                )
            metrics.ALERTS.labels(self.name, "dead").inc(len(group))
            return DeliveryReport(dead=len(group))
        delay = backoff(max(a.attempts for a in group), retry_after)
        for a in group:
            if not self.store.mark_failed(a.id, error, now + timedelta(seconds=delay), lease=lease) and lease:
                self._lose(a.id, "retry")
                return DeliveryReport()
        pause = delay if retry_after else min(delay, PAUSE_AFTER_FAILURE)
        self.blocked_until = utcnow() + timedelta(seconds=pause)
        if self.lease is not None:  # cluster mode: a flood wait is the target's, every node and name waits
            for target, asked in waits:
                held = self.hold_ids[target.key]
                self.store.hold_target(held.key, held.label, self.name, pause, "flood wait" if asked else "failure")
        log.warning(
            "%s retry id=%s topic=%s channel=%s attempt=%d in=%.0fs error=%s",
            what,
            ",".join(map(str, ids)),
            first.topic_id,
            self.name,
            first.attempts + 1,
            delay,
            error,
        )
        metrics.ALERTS.labels(self.name, "failed").inc(len(group))
        return DeliveryReport(failed=len(group))

    def _send(self, target: Target, part: RenderedAlert, alert: OutboxAlert, i: int, mid: str) -> SendResult:
        """One part to one target, at the chat Telegram moved it to if it did (issue 12, loss 7):
        a 400 naming ``migrate_to_chat_id`` is remembered, the operator told the new id, and
        the part resent there at once."""
        moves = self.store.chat_migrations(target.key) if self.kind is ChannelKind.TELEGRAM else {}
        url = telegram.migrate_chat(target.url, moves)
        result = self._send_to(url, target, part, alert, i, mid)
        if result.ok or not result.migrate_to:
            return result
        chats = telegram.chats(url)
        old = result.migrate_from or (chats[0] if len(chats) == 1 else None)
        if old is None or old not in chats or old == result.migrate_to:
            return result  # cannot tell which chat moved: retried or dead as usual
        new = result.migrate_to
        ops = self._migration_notice(old, new)
        self.store.record_chat_migration(target.key, old, new, ops, article_id=alert.article_id)
        log.error(
            "telegram chat moved channel=%s old_chat=%s new_chat=%s OPERATOR ACTION NEEDED: "
            "update the channel's URL in the config (/%s -> /%s); alerts go to the new chat meanwhile",
            self.name,
            old,
            new,
            old,
            new,
        )
        # the other chats of the URL got it already: resend to the moved one only
        resend = telegram.migrate_chat(url, {old: new})
        if len(chats) > 1:
            resend = telegram.only_chat(resend, new)
        return self._send_to(resend, target, part, alert, i, mid)

    def _send_to(
        self, url: str, target: Target, part: RenderedAlert, alert: OutboxAlert, i: int, mid: str
    ) -> SendResult:
        """Alerts of threaded topics (per-story with follow-ups) go to a plain Telegram
        target through the direct Bot API call, keeping the message id; a follow-up replies
        to the story's first message (Telegram) or thread (email). A Telegram channel's
        ``link_preview`` (other than off) also takes the direct call to a plain target (its
        ``link_preview_options`` place the preview above or below); apprise gets other
        targets with ``preview=yes`` (below). Alerts, grouped alerts and digests alike."""
        threaded = not alert.digest and followups.threaded(self._topics.get(alert.topic_id))
        preview = self.link_preview if self.kind is ChannelKind.TELEGRAM else "off"
        if (threaded or preview != "off") and self.kind is ChannelKind.TELEGRAM and telegram.target(url):
            parent = (
                self.store.message_ref(alert.reply_to, target.key)
                if threaded and alert.reply_to is not None and i == 0
                else None
            )
            result = self.send(SendRequest(url, part, self.kind, mid, threaded=True, reply_to=parent, preview=preview))
            if threaded and result.ok and i == 0 and result.message_id is not None:
                self._record("message id", self.store.record_message, alert.id, target.key, str(result.message_id))
            return result
        if preview != "off":
            url = telegram.with_preview(url)
        if alert.reply_to is not None and self.kind is ChannelKind.EMAIL and not alert.digest:
            first = self.store.get_alert(alert.reply_to)
            url = followups.email_reply_url(url, message_id(first)) if first else url
        return self.send(SendRequest(url, part, self.kind, mid))

    def _migration_notice(self, old: str, new: str) -> NewAlert | None:
        ops = self.config.notify.ops_channel
        if not ops or ops not in self.config.channels:
            return None
        r = render_migration_notice(self.name, old, new, kind=channel_kind(self.config.channels[ops]))
        return NewAlert(f"ops:migrated:{target_key(self.name)}:{old}:{new}"[:100], ops, r.subject, r.text, r.html)

    def _ops_notice(self, alert: OutboxAlert, error: str, count: int = 1) -> NewAlert | None:
        ops = self.config.notify.ops_channel
        if not ops or ops not in self.config.channels or alert.topic_id.startswith("ops:"):
            return None
        r = render_ops_notice(alert, self.name, error, count=count, kind=channel_kind(self.config.channels[ops]))
        return NewAlert(f"ops:{alert.id}", ops, r.subject, r.text, r.html)

    # ---- daemon loop --------------------------------------------------------
    def run(self) -> None:
        """Drain, then sleep until the next alert is due, a wake-up, or stop."""
        log.info("sender started channel=%s", self.name)
        while not self.stop.is_set():
            try:
                self.drain()
                wait = self._wait_seconds()
            except Exception as exc:
                log.error("sender error channel=%s error=%s", self.name, exc)
                wait = PAUSE_AFTER_FAILURE
            self.wake.wait(wait)
            self.wake.clear()
        log.info("sender stopped channel=%s", self.name)

    def _wait_seconds(self) -> float:
        now = utcnow()
        nxt = self.store.next_due(self.name)
        if self.blocked_until and (nxt is None or nxt < self.blocked_until):
            nxt = self.blocked_until
        if nxt is None:
            return 60.0
        return min(60.0, max(0.05, (nxt - now).total_seconds()))


class Outbox:
    """Every channel's sender, plus the hold rules used when alerts are made."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        message: Callable[[list[OutboxAlert]], RenderedAlert] | None = None,
        **kwargs: Any,
    ) -> None:
        """`message(alerts)`: the text to send for one alert or one article's alerts of
        several topics (default :func:`stored_message`)."""
        self.config, self.store = config, store
        self.senders = {name: ChannelSender(config, store, name, message=message, **kwargs) for name in config.channels}
        self._topics = {t.id: t for t in config.topics}
        self._threads: list[threading.Thread] = []

    def hold(self, channel: str, topic_id: str, now: datetime) -> tuple[datetime | None, str | None]:
        """(hold_until, digest reason) for a new alert; (None, None): send at once."""
        sender = self.senders.get(channel)
        topic = self._topics.get(topic_id)
        if sender is None or topic is None:
            return None, None
        return release_time(now, sender.plan, mode=topic.delivery, urgent=topic.urgent)

    def orphans(self) -> dict[str, int]:
        """Pending alerts per channel the config no longer names ({channel: count})."""
        return {c: n for c, n in self.store.pending_by_channel().items() if c not in self.senders}

    def warn_orphans(self) -> dict[str, int]:
        """Log alerts waiting for a channel the config no longer has (they stay stored,
        pending: a channel of that name coming back sends them; `monitor outbox move`
        gives them to another). Returns :meth:`orphans`."""
        orphans = self.orphans()
        for channel, n in orphans.items():
            log.warning(
                "alerts stranded channel=%s count=%d reason=%s OPERATOR ACTION NEEDED: "
                "`monitor outbox move %s NEW` or restore the channel",
                channel,
                n,
                STRANDED,
                channel,
            )
        return orphans

    def deliver(
        self, now: datetime | None = None, *, ignore_backoff: bool = False, max_wait: float | None = None
    ) -> DeliveryReport:
        """One pass over every channel, channels in parallel (`max_wait`: see
        :meth:`ChannelSender.drain`). Ctrl-C (KeyboardInterrupt) stops every sender, also
        one waiting in a rate limiter, and is raised at once."""
        stranded = DeliveryReport(stranded_by=tuple(self.warn_orphans().items()))
        if not self.senders:
            return stranded
        pool = ThreadPoolExecutor(max_workers=min(8, len(self.senders)))
        try:
            reports = list(
                pool.map(
                    lambda s: s.drain(now, ignore_backoff=ignore_backoff, max_wait=max_wait), self.senders.values()
                )
            )
        except BaseException:
            for sender in self.senders.values():
                sender.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        total = stranded
        for r in reports:
            total += r
        ops = self.senders.get(self.config.notify.ops_channel or "")
        if ops is not None and total.dead:  # notices of alerts this pass marked dead go out now (issue 18)
            total += ops.drain(now, max_wait=max_wait)
        return total

    def preview(self, now: datetime | None = None) -> list[Planned]:
        """What :meth:`deliver` with `ignore_backoff` would send now, channel by channel."""
        when = now or utcnow()
        return [planned for sender in self.senders.values() for planned in sender.preview(when)]

    def wake(self) -> None:
        for sender in self.senders.values():
            sender.wake.set()

    def start(self) -> None:
        self.warn_orphans()
        for name, sender in self.senders.items():
            thread = threading.Thread(target=sender.run, name=f"sender:{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float | None = None) -> None:
        for sender in self.senders.values():
            sender.stop.set()
            sender.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
