"""When a feed may be polled next (pure): backoff on failure, server hints on success.

The daemon's scheduler fires every feed at its configured interval; a poll is
skipped while the feed's `next_poll_at` lies in the future. `next_poll_at` is
only set when something asks for more than the interval (a failure streak, a
Retry-After, a Cache-Control max-age, a feed <ttl>), so normal polls are never
skipped because of scheduler jitter, and a lower bound is never undercut.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta


def backoff(interval: float, failures: int, cap: float) -> float:
    """Seconds to wait after `failures` consecutive failures: the interval doubled per
    failure, at most `cap` (but never less than the interval)."""
    return max(interval, min(cap, interval * 2.0 ** max(0, failures)))


def next_poll(
    now: datetime,
    interval: float,
    *,
    failures: int = 0,
    backoff_cap: float,
    hints: tuple[float | None, ...] = (),
    hint_cap: float,
    base: float | None = None,
) -> datetime | None:
    """The earliest next poll, or None when the plain interval applies. `base` is the
    wait before hints (an adaptive feed's current wait, or the interval to back off from)."""
    base = base or interval
    wait = backoff(base, failures, backoff_cap) if failures else base
    for hint in hints:
        if hint:
            wait = max(wait, min(hint, hint_cap))
    return now + timedelta(seconds=wait) if wait > interval else None


def adapt(rate: float | None, new_items: int, elapsed: float, shortest: float, longest: float) -> tuple[float, float]:
    """Adaptive polling: (new smoothed rate of new items per hour, wait in seconds).

    The wait aims at about one new item per poll, within [shortest, longest]; the
    rate is an exponential average (half weight to the latest poll) so one burst
    or one quiet hour moves it only part of the way.
    """
    sample = new_items * 3600.0 / max(elapsed, 1.0)
    rate = sample if rate is None else 0.5 * rate + 0.5 * sample
    wait = 3600.0 / rate if rate > 0 else longest
    return rate, max(shortest, min(longest, wait))


def is_due(now: datetime, next_poll_at: datetime | None) -> bool:
    return next_poll_at is None or now >= next_poll_at


def jitter_share(feed: str, last_polled_at: datetime) -> float:
    """A share in [0, 1) of the jitter for the poll after `last_polled_at` of `feed`: the
    same on every node (a hash, not a random draw), so a cluster agrees when a feed is due."""
    digest = hashlib.sha256(f"{feed}\0{last_polled_at.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def cluster_due(
    now: datetime,
    feed: str,
    *,
    last_polled_at: datetime | None,
    next_poll_at: datetime | None,
    interval: float,
    jitter: float = 0.0,
) -> bool:
    """Is `feed` due at `now` in cluster mode (no per-node timer: the stored state decides)?

    `next_poll_at` (a backoff or a server hint, see :func:`next_poll`) wins when set; else
    the feed is due `interval` seconds (plus up to `jitter` x interval, :func:`jitter_share`)
    after its last poll, and at once when never polled. Pure: every node computes the same.
    """
    if next_poll_at is not None:
        return now >= next_poll_at
    if last_polled_at is None:
        return True
    wait = interval * (1.0 + jitter * jitter_share(feed, last_polled_at))
    return now >= last_polled_at + timedelta(seconds=wait)
