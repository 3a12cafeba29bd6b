"""Backfill: which items of a feed's first poll may alert (issue 12, loss 9).

A feed's first successful poll lists its backlog: days or years of items the user
never asked to be alerted about. So does the first poll after an outage longer
than the window (the daemon stopped, the feed failing). On such a *backfill poll*
only items published within ``defaults.backfill`` (default one day) before the
poll go on to be matched and alerted; every other new item is recorded in the
item ledger as ``skipped`` with the reason. Items already in the ledger keep
their state. Every later poll is an ordinary one: each new item may alert,
whatever its date. ``backfill: off`` makes every poll ordinary (the behaviour
before this rule).

Decisions (each a row in tests/integration/test_backfill.py):

- **The window ends at the feed's newest item, not at our clock**: the backlog is
  what a feed listed *before its newest item*. The cutoff is ``window`` before the
  newest credible date of the listing (or before now, when that is later). A live
  feed's newest item is minutes old, so this is "the last day". A feed whose every
  item is old (a quiet feed, an archive, an outlet whose clock is wrong, a test
  site serving a past day) still alerts its newest day instead of nothing: the
  user added it to hear from it, and a first run that says nothing looks broken.
- **Undated items** (no date, or one the source parser threw away as absurd) are
  worked on a backfill poll like on any other: nothing shows they are old, and a
  section page (``kind: page``) or a sitemap without dates lists nothing but
  undated links, which would otherwise never be read on a first run. Matching
  still decides: only the undated items that match a topic alert.
- **Future dates**: up to ``FUTURE_SLACK`` ahead of our clock is a time zone or
  clock-skew slip and counts as fresh; further ahead the date is not trusted and
  the item is taken as undated (the same bound the RSS reader applies).
- **The boundary**: an item published exactly ``window`` before the anchor alerts
  (the window is closed at its old end).
- **An outage** is time without a successful poll beyond the feed's own interval: a
  feed polled less often than the window (``interval: 2d``) is not back from an
  outage on each poll, and every new item of its ordinary polls may alert.
- Any backfill poll that skipped something leaves a note on the feed (``poll_note``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import FUTURE_SLACK

__all__ = ["FUTURE_SLACK", "Skip", "cutoff", "poll_note", "skip"]


@dataclass(frozen=True)
class Skip:
    """Why a new item of a backfill poll is recorded as skipped instead of worked."""

    code: str  # item ledger reason_code: "backfill" (dated before the window)
    reason: str  # for `monitor feeds NAME` and `monitor explain URL`


def cutoff(
    window: float | None,
    last_success: datetime | None,
    now: datetime,
    interval: float = 0.0,
    published: Sequence[datetime | None] = (),
) -> datetime | None:
    """The oldest publication time that may alert on this poll, or None for an ordinary poll.

    `window`: ``defaults.backfill`` in seconds (None: off). `last_success`: the feed's
    last successful poll (None: never). `interval`: the feed's longest regular gap between
    polls in seconds (its configured interval): an outage is time without a successful poll
    beyond it, so a feed polled every two days is never "back from an outage" of a one-day
    window. A backfill poll is the first successful one, or the first after an outage
    longer than `window`. `published`: the dates of the listed items; the window ends at the
    newest credible one (not after `now + FUTURE_SLACK`) when it is older than `now`.
    """
    if window is None:
        return None
    if last_success is not None and (now - last_success).total_seconds() <= window + interval:
        return None
    credible = [p for p in published if p is not None and p <= now + FUTURE_SLACK]
    anchor = min(now, max(credible)) if credible else now
    return anchor - timedelta(seconds=window)


def skip(published: datetime | None, since: datetime | None, now: datetime) -> Skip | None:
    """Skip for a NEW item of a poll whose cutoff is `since` (see `cutoff`); None: work it."""
    if since is None:
        return None
    if published is None or published > now + FUTURE_SLACK:
        return None  # undated, or a date that cannot be trusted: worked, matching decides
    if published < since:
        return Skip(
            "backfill",
            f"published {published:%Y-%m-%d %H:%M} UTC, before the backfill window "
            f"(since {since:%Y-%m-%d %H:%M} UTC: the window before the feed's newest item) of a first "
            "poll or a return from an outage",
        )
    return None


def poll_note(skipped: int, since: datetime) -> str | None:
    """What a backfill poll tells the user on the feed (`monitor feeds`, `monitor once`), or
    None when it skipped nothing. `skipped`: how many new items it recorded as skipped; `since`:
    the poll's cutoff (see `cutoff`)."""
    if not skipped:
        return None
    return (
        f"first poll (or back after an outage): {skipped} item(s) published before {since:%Y-%m-%d %H:%M} UTC "
        "(the backfill window before the feed's newest item) were recorded as seen, not alerted (defaults.backfill)"
    )
