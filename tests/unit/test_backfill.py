"""defaults.backfill: its parsing (default one day, `off`, durations, bad values as config
errors naming file:line:path) and the pure rules of monitor.sources.backfill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.load import ConfigError, parse_config
from monitor.sources.backfill import cutoff, poll_note, skip

NOW = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
BODY = (
    "feeds: [{name: a, url: 'http://x.example/f'}]\n"
    "channels: {m: 'json://127.0.0.1:9/x'}\n"
    "topics: [{id: t, name: T, any: [x], notify: [m]}]\n"
)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (None, 86400.0),  # not written: one day
        ("2h", 7200.0),
        ("90m", 5400.0),
        ("1.5d", 129600.0),
        ("3600", 3600.0),
        ("off", None),
        ("'off'", None),  # quoted: the string, not YAML 1.1's boolean
        ("OFF", None),
        ("false", None),
        ("none", None),
    ],
)
def test_backfill_values(written, seconds):
    text = BODY + (f"defaults:\n  backfill: {written}\n" if written is not None else "")
    assert parse_config(text, env={}).defaults.backfill == seconds


@pytest.mark.parametrize(
    "written",
    ["soon", "0", "-2h", "1w", "true", "[1d]", "2 days"],
)
def test_a_bad_backfill_is_a_config_error_naming_file_line_and_path(tmp_path, written):
    text = BODY + "defaults:\n  interval: 10m\n  backfill: " + written + "\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, path=tmp_path / "config.yaml", env={})
    [problem] = err.value.problems
    want = f"{tmp_path / 'config.yaml'}:6: defaults.backfill: must be a duration like 12h or 1d, or `off` (got "
    assert problem.startswith(want), problem


H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("window", "last_success", "want"),
    [
        (86400.0, None, NOW - 24 * H),  # the first poll
        (86400.0, NOW - 25 * H, NOW - 24 * H),  # back after an outage longer than the window
        (86400.0, NOW - 24 * H, None),  # an outage of exactly the window: an ordinary poll
        (86400.0, NOW - 10 * H, None),
        (7200.0, NOW - 3 * H, NOW - 2 * H),
        (None, None, None),  # off
    ],
)
def test_cutoff(window, last_success, want):
    assert cutoff(window, last_success, NOW) == want


@pytest.mark.parametrize(
    ("interval", "last_success", "want"),
    [
        # a feed polled every 2 days: its regular gap is no outage
        (2 * 86400.0, NOW - 48 * H, None),
        (2 * 86400.0, NOW - 72 * H, None),  # late by one day: exactly the window
        (2 * 86400.0, NOW - 73 * H, NOW - 24 * H),  # late by more than the window
        (600.0, NOW - 24 * H - timedelta(minutes=10), None),  # 10 min interval: the outage is the gap minus it
        (600.0, NOW - 24 * H - timedelta(minutes=11), NOW - 24 * H),
    ],
)
def test_an_outage_is_counted_beyond_the_feeds_interval(interval, last_success, want):
    assert cutoff(86400.0, last_success, NOW, interval) == want


SINCE = NOW - 24 * H


@pytest.mark.parametrize(
    ("published", "since", "code"),
    [
        (NOW - H, SINCE, None),
        (SINCE, SINCE, None),  # exactly at the window's old end: alerts
        (SINCE - timedelta(seconds=1), SINCE, "backfill"),
        (datetime(2015, 7, 21, 9, 0, tzinfo=UTC), SINCE, "backfill"),
        (None, SINCE, None),  # undated: nothing shows it is old, matching decides
        (NOW + 47 * H, SINCE, None),  # ahead by less than 2 days: a zone slip, fresh
        (NOW + 49 * H, SINCE, None),  # further ahead: not a date to trust, taken as undated
        (None, None, None),  # an ordinary poll: every new item is worked
        (datetime(2015, 7, 21, tzinfo=UTC), None, None),
    ],
)
def test_skip(published, since, code):
    got = skip(published, since, NOW)
    assert (got.code if got else None) == code
    assert got is None or got.reason


@pytest.mark.parametrize(
    ("dates", "want"),
    [
        # the window ends at the newest credible date of the listing, or now when that is later
        ([NOW - H, NOW - 30 * H], NOW - 25 * H),  # a live feed: the window ends at its newest item
        ([NOW + H], NOW - 24 * H),  # a date a little ahead (zone slip): the window still ends now
        ([NOW + 72 * H, NOW - 30 * H], NOW - 54 * H),  # a date beyond the slack is not trusted
        # every item old (an archive, a quiet feed, a wrong clock, a test site serving 2015):
        # its newest day alerts, not nothing (the field cases' feeds are all dated 2015-07-21)
        (
            [datetime(2015, 7, 21, 10, tzinfo=UTC), datetime(2015, 7, 21, 9, tzinfo=UTC)],
            datetime(2015, 7, 20, 10, tzinfo=UTC),
        ),
        ([datetime(2015, 7, 22, tzinfo=UTC), datetime(2013, 1, 1, tzinfo=UTC)], datetime(2015, 7, 21, tzinfo=UTC)),
        ([None, None], NOW - 24 * H),  # undated: nothing to anchor on
        ([], NOW - 24 * H),
    ],
)
def test_the_window_ends_at_the_feeds_newest_item(dates, want):
    assert cutoff(86400.0, None, NOW, 0.0, dates) == want


@pytest.mark.parametrize(
    ("skipped", "says"),
    [
        (1, "1 item(s) published before 2026-03-28 12:00 UTC"),
        (2, "2 item(s) published before"),
        (0, None),  # nothing skipped: nothing to say
    ],
)
def test_poll_note(skipped, says):
    note = poll_note(skipped, SINCE)
    assert (note is None) if says is None else (note is not None and says in note), note
