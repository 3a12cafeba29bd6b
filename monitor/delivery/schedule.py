"""When an alert goes out: now, at the next hourly/daily digest, or after quiet hours.

Pure functions on aware datetimes; local times are taken in the channel's time zone.
`digest_at` and `quiet_hours` are parsed by monitor.config.values (parse_hhmm, parse_window).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MODES = ("immediate", "hourly", "daily")


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
