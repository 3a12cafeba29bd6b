"""Items lost behind a 304: servers whose conditional-GET answers are wrong (monitor.fetch.validators).

Each row is a small server of our own behaving like one reported in another feed tool's
tracker (cited in the row id), polled by the real pipeline (loopback web server, SQLite
store) every 10 minutes of simulated time. A new item appears after the first poll; the
row says how long it may stay hidden and which validators the feed stops trusting. Then
a second new item must show within a poll or two: a validator caught lying is never sent
again for that feed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

import monitor.pipeline as pipeline_mod
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.pipelines import local_pipelines
from tests.support.web import Request, Response

T0 = datetime(2015, 7, 22, 12, 0, tzinfo=UTC)  # the corpus day is 2015-07-21
STEP = timedelta(minutes=10)  # defaults.interval
FULL_AFTER = timedelta(hours=6)  # defaults.full_fetch_after (the default)
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


class Feed:
    """The feed a lying server serves: its items and the time of its last change."""

    def __init__(self, web, name: str) -> None:
        self.web, self.name = web, name
        self.arts = [a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800]
        self.items: list[dict] = []
        self.version = 0
        self.changed = T0 - timedelta(hours=1)
        self.served = 0  # answers given, for servers that count
        self.grow(T0 - timedelta(hours=2))

    def grow(self, when: datetime) -> None:
        n = len(self.items)
        art, path = self.arts[n], f"/{self.name}/a{n}.html"
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet="o", url=self.web.url(path))
        self.web.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        self.items.append(
            {"title": art["title"], "link": self.web.url(path), "guid": f"{self.name}-{n}", "date": http_date(when)}
        )
        self.version += 1
        self.changed = when

    def body(self, **headers: str) -> Response:
        return Response(200, rss(list(reversed(self.items))), {**RSS, **headers})


def _ims_not_older(request: Request, last_modified: str) -> bool:
    ims = request.headers.get("If-Modified-Since")
    return bool(ims) and parsedate_to_datetime(ims) >= parsedate_to_datetime(last_modified)


# ---- the servers ---------------------------------------------------------------------------
def honest(feed: Feed, request: Request) -> Response:
    tag = f'"v{feed.version}"'
    if request.headers.get("If-None-Match") == tag:
        return Response(304, b"", {"ETag": tag})
    return feed.body(ETag=tag)


def sticky_etag(tag: str, body_on_304: bool = False) -> Callable[[Feed, Request], Response]:
    """One ETag whatever the content (miniflux-legacy#218's forum; W/ form: a weak one);
    `body_on_304`: the 304 carries the feed too, bytes a client that reuses the connection
    could read as its next answer (e2guardian#136, okhttp#2310)."""

    def serve(feed: Feed, request: Request) -> Response:
        if request.headers.get("If-None-Match") == tag:
            body = feed.body().body_bytes if body_on_304 else b""
            return Response(304, body, {"ETag": tag, **(RSS if body_on_304 else {})}, body_anyway=body_on_304)
        return feed.body(ETag=tag)

    return serve


def sticky_last_modified(feed: Feed, request: Request) -> Response:
    """Last-Modified never moves while the content changes daily (newsbeuter#331)."""
    lm = http_date(T0 - timedelta(hours=1))
    return (
        Response(304, b"", {"Last-Modified": lm}) if _ims_not_older(request, lm) else feed.body(**{"Last-Modified": lm})
    )


def etag_sticks_lm_moves(feed: Feed, request: Request) -> Response:
    """The ETag is stuck, Last-Modified moves, and If-None-Match wins (miniflux-legacy#218)."""
    tag, lm = '"forum"', http_date(feed.changed)
    if request.headers.get("If-None-Match") is not None:
        fresh = request.headers.get("If-None-Match") == tag
    else:
        fresh = _ims_not_older(request, lm)
    return Response(304, b"", {"ETag": tag}) if fresh else feed.body(ETag=tag, **{"Last-Modified": lm})


def fixed_last_modified(when: datetime) -> Callable[[Feed, Request], Response]:
    """A fixed date: 2041 (FreshRSS#1020) or 1980 (web.dev#4382; 1970 in commafeed#859);
    every If-Modified-Since at or after it is answered 304."""
    lm = http_date(when)

    def serve(feed: Feed, request: Request) -> Response:
        if _ims_not_older(request, lm):
            return Response(304, b"", {"Last-Modified": lm})
        return feed.body(**{"Last-Modified": lm})

    return serve


def every_other_304(feed: Feed, request: Request) -> Response:
    """Every second answer is a 304, validators or not; Last-Modified years old (miniflux/v2#874)."""
    feed.served += 1
    lm = http_date(T0 - timedelta(days=600))
    if feed.served % 2 == 0:
        return Response(304, b"", {"Last-Modified": lm})
    return feed.body(**{"Last-Modified": lm})


@dataclass(frozen=True)
class Row:
    serve: Callable[[Feed, Request], Response]
    hidden_at_most: timedelta  # how long the first new item may stay hidden
    untrusted: str | None  # the feed's `untrusted` column at the end
    reason: str  # in the feed's untrusted_reason
    then_within: int = 1  # polls for the next new item once the lie is known


ROWS = {
    "honest server: the next poll": Row(honest, STEP, None, ""),
    "sticky ETag (miniflux-legacy#218)": Row(sticky_etag('"v1"'), FULL_AFTER + STEP, "etag", "kept its ETag"),
    "sticky weak ETag": Row(sticky_etag('W/"5f-a1"'), FULL_AFTER + STEP, "etag", "kept its weak ETag"),
    "sticky ETag, 304 with a body (e2guardian#136, okhttp#2310)": Row(
        sticky_etag('"v1"', body_on_304=True), FULL_AFTER + STEP, "etag", "kept its ETag"
    ),
    "sticky Last-Modified (newsbeuter#331)": Row(
        sticky_last_modified, FULL_AFTER + STEP, "last-modified", "kept Last-Modified"
    ),
    "ETag stuck, Last-Modified moves, If-None-Match wins (miniflux-legacy#218)": Row(
        etag_sticks_lm_moves, FULL_AFTER + STEP, "etag", "kept its ETag"
    ),
    "Last-Modified in 2041 (FreshRSS#1020)": Row(
        fixed_last_modified(datetime(2041, 11, 16, 19, 11, tzinfo=UTC)), STEP, "last-modified", "in the future"
    ),
    "Last-Modified in 1980 (web.dev#4382, commafeed#859)": Row(
        fixed_last_modified(datetime(1980, 1, 1, 0, 0, 1, tzinfo=UTC)), STEP, "last-modified", "older than"
    ),
    "304 every other answer, validators or not (miniflux/v2#874)": Row(
        every_other_304, 2 * STEP, "etag last-modified", "without If-None-Match", then_within=2
    ),
}


@pytest.fixture
def make(tmp_path, web_server):
    with local_pipelines(tmp_path, web_server) as pipelines:
        yield pipelines


def _listed(store, name: str) -> int:
    return sum(store.item_counts(name).values())


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_a_lying_server_hides_a_new_item_only_so_long(make, web_server, row):
    feed = Feed(web_server, "f")
    web_server.routes["/f.xml"] = lambda request: row.serve(feed, request)
    pipeline, store, cfg = make.build(["/f.xml"], term="xyzzy")
    source, now = cfg.feeds[0], T0
    assert pipeline.poll_feed(source, now=now).ok and _listed(store, "f.xml") == 1
    feed.grow(now + timedelta(minutes=1))
    appeared = now + timedelta(minutes=1)
    while _listed(store, "f.xml") < 2 and now < T0 + FULL_AFTER + 3 * STEP:
        now += STEP
        assert pipeline.poll_feed(source, now=now).ok
    assert _listed(store, "f.xml") == 2, "the new item never came out from behind the 304s"
    assert now - appeared <= row.hidden_at_most
    state = store.feed_state("f.xml")
    assert state.untrusted == row.untrusted
    assert row.reason in (state.untrusted_reason or "")
    # the lie is remembered: the next new item comes at once
    feed.grow(now + timedelta(minutes=1))
    for _ in range(row.then_within):
        now += STEP
        pipeline.poll_feed(source, now=now)
    assert _listed(store, "f.xml") == 3
    sent = web_server.requests_for("/f.xml")[-1].headers
    if row.untrusted and "etag" in row.untrusted:
        assert sent.get("If-None-Match") is None
    if row.untrusted and "last-modified" in row.untrusted:
        assert sent.get("If-Modified-Since") is None


def test_an_honest_idle_feed_is_fetched_in_full_once_per_full_fetch_after_and_not_parsed(make, web_server, monkeypatch):
    """The cost side: against a server that answers 304 correctly, 7 hours of 10-minute polls
    send validators every time but one (the full fetch after 6 h), and that full answer,
    being the same body, is not parsed."""
    feed = Feed(web_server, "idle")
    web_server.routes["/idle.xml"] = lambda request: honest(feed, request)
    pipeline, store, cfg = make.build(["/idle.xml"], term="xyzzy")
    source, now = cfg.feeds[0], T0
    assert pipeline.poll_feed(source, now=now).ok
    parses: list[str] = []
    real = pipeline_mod.parse_source
    monkeypatch.setattr(pipeline_mod, "parse_source", lambda *a, **k: parses.append("x") or real(*a, **k))
    for _ in range(42):
        now += STEP
        assert pipeline.poll_feed(source, now=now).ok
    sent = [r.headers for r in web_server.requests_for("/idle.xml")[1:]]
    full = [i for i, h in enumerate(sent, 1) if h.get("If-None-Match") is None]
    assert full == [36]  # 36 x 10 minutes = 6 h
    assert sent[35].get("Cache-Control") == "no-cache"  # caches on the way are asked for a fresh copy
    assert parses == [] and store.feed_state("idle.xml").untrusted is None
    assert store.feed_state("idle.xml").full_fetch_at == T0 + 36 * STEP


def test_full_fetch_after_is_per_feed(make, web_server):
    """`full_fetch_after` on a feed overrides the default."""
    feed = Feed(web_server, "quick")
    web_server.routes["/quick.xml"] = lambda request: sticky_etag('"v1"')(feed, request)
    pipelines = make
    pipeline, store, cfg = pipelines.build(["/quick.xml"], term="xyzzy")
    source = cfg.feeds[0].model_copy(update={"full_fetch_after": 1800.0})
    now = T0
    pipeline.poll_feed(source, now=now)
    feed.grow(now)
    polls = 0
    while _listed(store, "quick.xml") < 2:
        now, polls = now + STEP, polls + 1
        pipeline.poll_feed(source, now=now)
        assert polls <= 3
    assert polls == 3 and store.feed_state("quick.xml").untrusted == "etag"


def test_an_unchanged_body_is_not_parsed_and_keeps_the_feeds_ttl(make, web_server, monkeypatch):
    """A server without validators answers 200 every time: a body like the last one is not
    parsed, and its <ttl> (180 minutes) still spaces the polls."""
    feed = Feed(web_server, "plain")
    web_server.routes["/plain.xml"] = lambda request: Response(200, rss(feed.items, ttl=180), RSS)
    pipeline, store, cfg = make.build(["/plain.xml"], term="xyzzy")
    source = cfg.feeds[0]
    assert pipeline.poll_feed(source, now=T0).new == 1
    assert store.feed_state("plain.xml").next_poll_at == T0 + timedelta(hours=3)
    parses: list[str] = []
    real = pipeline_mod.parse_source
    monkeypatch.setattr(pipeline_mod, "parse_source", lambda *a, **k: parses.append("x") or real(*a, **k))
    assert pipeline.poll_feed(source, now=T0 + timedelta(hours=1)).skipped
    report = pipeline.poll_feed(source, now=T0 + timedelta(hours=3))
    assert report.ok and report.items == 0 and parses == []
    assert store.feed_state("plain.xml").next_poll_at == T0 + timedelta(hours=6)
    feed.grow(T0 + timedelta(hours=4))
    assert pipeline.poll_feed(source, now=T0 + timedelta(hours=6)).new == 1 and parses == ["x"]
