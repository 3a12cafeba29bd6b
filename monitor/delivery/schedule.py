"""When an alert goes out: now, at the next hourly/daily digest, or after quiet hours.

Pure functions on aware datetimes; local times are taken in the channel's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MODES = ("immediate", "hourly", "daily")
_HHMM = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_hhmm(text: str) -> time:
    m = _HHMM.match(str(text))
    if not m:
        raise ValueError(f"must be a time like 07:30 (got {text!r})")
    return time(int(m.group(1)), int(m.group(2)))


def parse_window(text: str) -> tuple[time, time]:
    """'23:00-07:00' -> (23:00, 07:00); a window may wrap past midnight."""
    start, sep, end = str(text).partition("-")
    if not sep:
        raise ValueError(f"must be a window like 23:00-07:00 (got {text!r})")
    window = parse_hhmm(start), parse_hhmm(end)
    if window[0] == window[1]:
        raise ValueError(f"start and end must differ (got {text!r})")
    return window


@dataclass(frozen=True)
class Plan:
    """How one channel delivers (from config)."""

    mode: str = "immediate"  # immediate | hourly | daily
    daily_at: time = time(8, 0)
    tz: str = "UTC"
    quiet: tuple[time, time] | None = None


def _at(day: datetime, t: time) -> datetime:
    # local wall time on `day`'s date (ZoneInfo resolves DST gaps/folds)
    return datetime.combine(day.date(), t, tzinfo=day.tzinfo)


def in_quiet(local: datetime, quiet: tuple[time, time]) -> bool:
    start, end = quiet
    t = local.timetz().replace(tzinfo=None)
    return start <= t < end if start < end else (t >= start or t < end)


def quiet_end(local: datetime, quiet: tuple[time, time]) -> datetime:
    """The end of the quiet window that `local` is in."""
    end = _at(local, quiet[1])
    return end if end > local else _at(local + timedelta(days=1), quiet[1])


def release_time(
    now: datetime, plan: Plan, *, mode: str | None = None, urgent: bool = False
) -> tuple[datetime | None, str | None]:
    """(when, why) an alert made at `now` is sent: (None, None) means now.

    `mode` (a topic's own choice) overrides the channel's. Urgent alerts are
    always sent at once. Anything due inside quiet hours waits for their end.
    """
    if urgent:
        return None, None
    mode = mode or plan.mode
    local = now.astimezone(ZoneInfo(plan.tz))
    when, why = local, None
    if mode == "hourly":
        when, why = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), "hourly"
    elif mode == "daily":
        when = _at(local, plan.daily_at)
        if when <= local:
            when = _at(local + timedelta(days=1), plan.daily_at)
        why = "daily"
    if plan.quiet and in_quiet(when, plan.quiet):
        when, why = quiet_end(when, plan.quiet), why or "quiet"
    if why is None:
        return None, None
    return when.astimezone(UTC), why
