"""monitor.fetch.validators: what a poll sends, and which answers are lies (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.fetch.validators import Plan, body_hash, lies_of_200, lies_of_304, plan, untrusted_set, untrusted_text

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
H = 3600.0

PLANS = {
    # id: (etag, last_modified, untrusted, last full answer's age in hours or None, expected plan)
    "fresh enough: both sent": ('"a"', "Mon", "", 1, Plan('"a"', "Mon")),
    "6 h old: full fetch": ('"a"', "Mon", "", 6, Plan(None, None, True, "last full fetch too old")),
    "never recorded (stored before 0012): full fetch": ('"a"', None, "", None, Plan(None, None, True, "x")),
    "etag untrusted: only Last-Modified": ('"a"', "Mon", "etag", 1, Plan(None, "Mon")),
    "last-modified untrusted: only the ETag": ('"a"', "Mon", "last-modified", 1, Plan('"a"', None)),
    "both untrusted: unconditional every time": ('"a"', "Mon", "etag last-modified", 1, Plan(None, None)),
    "no validators: plain GET, not a 'full fetch'": (None, None, "", None, Plan(None, None)),
}


@pytest.mark.parametrize(("etag", "lm", "untrusted", "age", "expected"), PLANS.values(), ids=PLANS.keys())
def test_plan(etag, lm, untrusted, age, expected):
    last_full = None if age is None else NOW - timedelta(hours=age)
    got = plan(etag, lm, untrusted=untrusted_set(untrusted), last_full_at=last_full, now=NOW, full_fetch_after=6 * H)
    assert (got.etag, got.last_modified, got.full) == (expected.etag, expected.last_modified, expected.full)


LM = "Mon, 05 Jan 2026 10:00:00 GMT"
BASE = dict(stored_etag='"a"', stored_last_modified=LM, stored_hash="h1", etag='"a"', last_modified=LM, now=NOW)
LIES = {
    # id: (changes to BASE, expected (validator, words in reason) pairs)
    "same ETag and Last-Modified, new items": (
        dict(new_hash="h2", new_items=2),
        [("etag", "ETag"), ("last-modified", "kept")],
    ),
    "weak ETag reused (W/)": (
        dict(stored_etag='W/"a"', etag='W/"a"', last_modified=None, new_hash="h2", new_items=1),
        [("etag", "weak ETag")],
    ),
    "body changed but nothing new listed (a ticking lastBuildDate): no lie": (dict(new_hash="h2", new_items=0), []),
    "same body: no lie": (dict(new_hash="h1", new_items=0), []),
    "first answer (nothing stored): no comparison": (dict(stored_hash=None, new_hash="h2", new_items=3), []),
    "validators moved with the content: honest": (
        dict(etag='"b"', last_modified="Mon, 05 Jan 2026 11:00:00 GMT", new_hash="h2", new_items=1),
        [],
    ),
    "Last-Modified in 2041 (FreshRSS#1020)": (
        dict(last_modified="Sat, 16 Nov 2041 19:11:00 GMT", new_hash="h1", new_items=0),
        [("last-modified", "future")],
    ),
    "Last-Modified a few hours ahead (a time-zone slip): tolerated": (
        dict(last_modified="Mon, 05 Jan 2026 15:00:00 GMT", new_hash="h1", new_items=0),
        [],
    ),
    "Last-Modified 1980, items of today (web.dev#4382)": (
        dict(last_modified="Tue, 01 Jan 1980 00:00:01 GMT", new_hash="h1", new_items=0, published=[NOW]),
        [("last-modified", "older than")],
    ),
    "Last-Modified 10 h before the newest item: tolerated": (
        dict(last_modified="Mon, 05 Jan 2026 02:00:00 GMT", published=[NOW], new_hash="h1", new_items=0),
        [],
    ),
    "only future-dated items: they do not count": (
        dict(
            last_modified="Tue, 01 Jan 1980 00:00:01 GMT",
            published=[NOW + timedelta(days=3)],
            new_hash="h1",
            new_items=0,
        ),
        [],
    ),
    "unreadable Last-Modified: no judgement": (dict(last_modified="yesterday", new_hash="h1", new_items=0), []),
}


@pytest.mark.parametrize(("changes", "expected"), LIES.values(), ids=LIES.keys())
def test_lies_of_200(changes, expected):
    args = {**BASE, "published": [], **changes}
    got = lies_of_200(**args)
    assert [lie.validator for lie in got] == [v for v, _ in expected]
    for lie, (_, words) in zip(got, expected, strict=True):
        assert words in lie.reason


def test_a_304_to_a_request_without_validators_is_a_lie_about_both():
    assert {lie.validator for lie in lies_of_304(Plan(None, None, True))} == {"etag", "last-modified"}
    assert lies_of_304(Plan('"a"', None)) == [] and lies_of_304(Plan(None, "Mon")) == []


def test_untrusted_column_round_trip_and_body_hash_salt():
    assert untrusted_text(untrusted_set("last-modified etag bogus")) == "etag last-modified"
    assert untrusted_text([]) is None
    assert body_hash(b"x", "rss", None) == body_hash(b"x", "rss", None) != body_hash(b"x", "page", "a")
