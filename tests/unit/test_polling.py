"""Polite polling, the pure parts: backoff doubling to a cap, server hints as lower bounds,
cache header parsing, adaptive intervals and the validation of fetch settings, all on values.
Conditional GET and backoff against a real server are in tests/integration/test_polling.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.load import parse_config
from monitor.fetch.client import parse_max_age, parse_retry_after
from monitor.fetch.schedule import backoff, next_poll

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_backoff_doubles_to_the_cap_and_never_below_the_interval():
    assert [backoff(600, n, 6 * 3600) for n in range(1, 8)] == [1200, 2400, 4800, 9600, 19200, 21600, 21600]
    assert backoff(7200, 1, 3600) == 7200


def test_hints_are_lower_bounds_capped():
    assert next_poll(T0, 600, backoff_cap=3600, hints=(300, None), hint_cap=86400) is None
    assert next_poll(T0, 600, backoff_cap=3600, hints=(1800,), hint_cap=86400) == T0 + timedelta(seconds=1800)
    assert next_poll(T0, 600, backoff_cap=3600, hints=(10**9,), hint_cap=86400) == T0 + timedelta(days=1)
    assert next_poll(T0, 600, failures=1, backoff_cap=3600, hints=(7200,), hint_cap=86400) == T0 + timedelta(
        seconds=7200
    )


def test_header_parsing():
    assert parse_max_age("public, max-age=900, s-maxage=60") == 900
    assert parse_max_age("no-cache") is None
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Mon, 05 Jan 2026 13:00:00 GMT", now=T0) == 3600
    assert parse_retry_after("soon") is None


def test_adapt_aims_at_one_new_item_per_poll_within_bounds():
    from monitor.fetch.schedule import adapt

    rate, wait = adapt(None, 6, 600, 120, 3600)  # 6 new in 10 minutes: 36/h
    assert rate == 36 and wait == 120  # would be 100 s: the user's floor wins
    rate, wait = adapt(rate, 0, 600, 120, 3600)  # a quiet poll halves the rate
    assert rate == 18 and wait == 200
    assert adapt(0.0, 0, 600, 120, 3600)[1] == 3600  # nothing ever: the ceiling


@pytest.mark.parametrize(
    "snippet,problem",
    [
        ("fetch: {allowed_networks: [not-a-net]}", "fetch.allowed_networks: not an IP network"),
        ("fetch: {max_per_host: 0}", "fetch.max_per_host"),
        ("fetch: {backoff_cap: soon}", "fetch.backoff_cap: must be a duration"),
        ("defaults: {interval: 10m}\nfeeds_extra: 1", "feeds_extra: unknown key"),
    ],
)
def test_fetch_settings_are_validated(snippet, problem):
    from monitor.errors import ConfigError

    base = (
        "feeds: [{name: a, url: 'https://example.org/feed'}]\nchannels: {m: 'mailto://x@example.org'}\n"
        "topics: [{id: t, name: T, any: [x], notify: [m]}]\n"
    )
    with pytest.raises(ConfigError, match=problem):
        parse_config(snippet + "\n" + base, env={})


def test_min_interval_must_be_shorter_than_the_interval():
    from monitor.errors import ConfigError

    text = (
        "feeds: [{name: a, url: 'https://example.org/feed', interval: 10m, min_interval: 20m}]\n"
        "channels: {m: 'mailto://x@example.org'}\ntopics: [{id: t, name: T, any: [x], notify: [m]}]\n"
    )
    with pytest.raises(ConfigError, match=r"feeds\[0\].min_interval: must be shorter"):
        parse_config(text, env={})
