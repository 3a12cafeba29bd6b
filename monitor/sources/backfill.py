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

- **Undated items** (no date, or one the source parser threw away as absurd) on a
  backfill poll are skipped as ``backfill_undated``: nothing tells a years-old
  entry from a fresh one, and a section page (``kind: page``) lists nothing but
  undated links. From the next poll on, a link the outlet adds is new and alerts,
  so an outlet without dates loses nothing it publishes after it was added.
- **Future dates**: up to ``FUTURE_SLACK`` ahead of our clock is a time zone or
  clock-skew slip and counts as fresh; further ahead the date is not trusted and
  the item is taken as undated (the same bound the RSS reader applies).
- **The boundary**: an item published exactly ``window`` before the poll alerts
  (the window is closed at its old end).
- **An outage** is time without a successful poll beyond the feed's own interval: a
  feed polled less often than the window (``interval: 2d``) is not back from an
  outage on each poll, and every new item of its ordinary polls may alert.
- **A broken clock on the outlet's side** (every item dated long ago): its first
  poll skips them all like any backlog, and the feed's note says so (``poll_note``:
  any backfill poll that skipped something leaves a note on the feed); its later
  items alert whatever their date, because only a backfill poll looks at dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.sources.rss import FUTURE_SLACK

__all__ = ["FUTURE_SLACK", "Skip", "cutoff", "poll_note", "skip"]


@dataclass(frozen=True)
class Skip:
    """Why a new item of a backfill poll is recorded as skipped instead of worked."""

    code: str  # item ledger reason_code: "backfill" (dated before the window) or "backfill_undated"
    reason: str  # for `monitor feeds NAME` and `monitor explain URL`


def cutoff(
    window: float | None, last_success: datetime | None, now: datetime, interval: float = 0.0
) -> datetime | None:
    """The oldest publication time that may alert on this poll, or None for an ordinary poll.

    `window`: ``defaults.backfill`` in seconds (None: off). `last_success`: the feed's
    last successful poll (None: never). `interval`: the feed's longest regular gap between
    polls in seconds (its configured interval): an outage is time without a successful poll
    beyond it, so a feed polled every two days is never "back from an outage" of a one-day
    window. A backfill poll is the first successful one, or the first after an outage
    longer than `window`.
    """
    if window is None:
        return None
    if last_success is not None and (now - last_success).total_seconds() <= window + interval:
        return None
    return now - timedelta(seconds=window)


def skip(published: datetime | None, since: datetime | None, now: datetime) -> Skip | None:
    """Skip for a NEW item of a poll whose cutoff is `since` (see `cutoff`); None: work it."""
    if since is None:
        return None
    if published is not None and published > now + FUTURE_SLACK:
        return Skip(
            "backfill_undated",
            f"dated {published:%Y-%m-%d %H:%M} UTC, further ahead of our clock than "
            f"{FUTURE_SLACK.days} days, so its date cannot be trusted; listed when the feed was "
            "first polled (or back after an outage)",
        )
    if published is None:
        return Skip(
            "backfill_undated", "no publication date, listed when the feed was first polled (or back after an outage)"
        )
    if published < since:
        return Skip(
            "backfill",
            f"published {published:%Y-%m-%d %H:%M} UTC, before the backfill window "
            f"(since {since:%Y-%m-%d %H:%M} UTC) of a first poll or a return from an outage",
        )
    return None


def poll_note(published: Sequence[datetime | None], skipped: int, since: datetime) -> str | None:
    """What a backfill poll tells the user on the feed (`monitor feeds`, `monitor once`), or
    None when it skipped nothing. `published`: the dates of every listed item; `skipped`: how
    many new ones it recorded as skipped. When every dated item is older than `since` (a quiet
    feed, or a clock at the outlet that is wrong) it says so."""
    if not skipped:
        return None
    dated = [p for p in published if p is not None]
    if dated and max(dated) < since:
        return (
            f"all {len(dated)} dated items were published before the backfill window (newest "
            f"{max(dated):%Y-%m-%d %H:%M} UTC) and were recorded as seen; if the outlet's clock is wrong, "
            "its new items still alert from the next poll on"
        )
    return (
        f"first poll (or back after an outage): {skipped} item(s) older than the backfill window "
        f"(since {since:%Y-%m-%d %H:%M} UTC) or undated were recorded as seen, not alerted (defaults.backfill)"
    )
