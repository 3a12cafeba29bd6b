"""Polite polling: conditional GET, backoff doubling to a cap and reset, flag after a day,
Cache-Control max-age and <ttl> as lower bounds, capped."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.pipelines import local_pipelines
from tests.support.web import Response, conditional, sequence

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _items(web, n=2):
    """n items linking to real article pages served by `web`."""
    arts = [a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800][:n]
    out = []
    for i, art in enumerate(arts):
        path = f"/news/{i}.html"
        web.routes[path] = Response(
            200,
            article_page(
                art["title"], split_paragraphs(art["content"]), outlet=art["source"], url=web.url(path)
            ).encode(),
            {"Content-Type": "text/html; charset=utf-8"},
        )
        out.append(
            {"title": art["title"], "link": web.url(path), "guid": f"g{i}", "date": "Tue, 21 Jul 2015 10:00:00 GMT"}
        )
    return out


@pytest.fixture
def make(tmp_path, web_server):
    with local_pipelines(tmp_path, web_server) as pipelines:

        def build(routes: dict, interval="10m", **fetch):
            web_server.routes.update(routes)
            return pipelines.build(routes, term="xyzzy", defaults={"interval": interval}, fetch=fetch)

        yield build


def test_a_failing_feed_backs_off_doubling_then_resets_on_success(make, web_server):
    ok = Response(200, rss(_items(web_server)), {"Content-Type": "application/rss+xml"})
    pipeline, store, cfg = make(
        {"/flaky.xml": sequence(*[Response(500, b"down")] * 7, ok)}, backoff_cap="4h", flag_after="1d"
    )
    feed, now, waits = cfg.feeds[0], T0, []
    for _ in range(7):
        report = pipeline.poll_feed(feed, now=now)
        assert not report.ok and "HTTP 500" in report.error
        state = store.feed_state(feed.name)
        wait = state.next_poll_at - now
        waits.append(wait.total_seconds())
        # Scheduler runs before the wait is over are skipped without a request.
        before = len(web_server.requests)
        assert pipeline.poll_feed(feed, now=now + wait - timedelta(seconds=1)).skipped
        assert len(web_server.requests) == before
        now += wait
    assert waits == [1200, 2400, 4800, 9600, 14400, 14400, 14400]
    assert store.feed_state(feed.name).flagged_at is None  # ~15 hours of failures: not yet
    report = pipeline.poll_feed(feed, now=now)
    assert report.ok and report.new == 2
    state = store.feed_state(feed.name)
    assert state.consecutive_failures == 0 and state.next_poll_at is None and state.failing_since is None


def test_a_feed_failing_for_a_day_is_flagged_once(make, caplog):
    pipeline, store, cfg = make({"/dead.xml": Response(404, b"gone")}, backoff_cap="6h", flag_after="1d")
    feed, now, flagged = cfg.feeds[0], T0, []
    with caplog.at_level(logging.WARNING, logger="monitor.pipeline"):
        for _ in range(10):
            pipeline.poll_feed(feed, now=now)
            state = store.feed_state(feed.name)
            flagged.append(state.flagged_at is not None)
            now = state.next_poll_at
    first = flagged.index(True)
    assert all(flagged[first:]) and state.failing_since == T0
    assert state.flagged_at - T0 >= timedelta(days=1)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "feed flagged" in r.getMessage()]
    assert len(errors) == 1 and "feed=dead.xml" in errors[0].getMessage()


def test_not_modified_costs_no_parsing_and_max_age_is_honoured(make, web_server, monkeypatch):
    feed_bytes = rss(_items(web_server))
    route = conditional(
        Response(
            200, feed_bytes, {"Content-Type": "application/rss+xml", "ETag": '"v1"', "Cache-Control": "max-age=3600"}
        )
    )
    pipeline, store, cfg = make({"/cached.xml": route})
    feed = cfg.feeds[0]
    assert pipeline.poll_feed(feed, now=T0).new == 2
    assert store.feed_state(feed.name).next_poll_at == T0 + timedelta(hours=1)
    assert pipeline.poll_feed(feed, now=T0 + timedelta(minutes=30)).skipped

    import monitor.pipeline as pl

    monkeypatch.setattr(pl, "parse_source", lambda *a, **k: pytest.fail("a 304 must not be parsed"))
    report = pipeline.poll_feed(feed, now=T0 + timedelta(hours=1))
    assert report.ok and report.items == 0
    assert web_server.requests[-1].headers.get("If-None-Match") == '"v1"'


def test_feed_ttl_is_a_lower_bound_capped_by_max_hint(make, web_server):
    pipeline, store, cfg = make(
        {
            "/ttl.xml": Response(200, rss(_items(web_server), ttl=180)),
            "/greedy.xml": Response(200, rss(_items(web_server), ttl=10**6)),
        },
        max_hint="12h",
    )
    for feed, expected in zip(cfg.feeds, (timedelta(hours=3), timedelta(hours=12))):
        assert pipeline.poll_feed(feed, now=T0).ok
        assert store.feed_state(feed.name).next_poll_at == T0 + expected


def test_monitor_once_polls_even_when_not_due(make):
    pipeline, store, cfg = make({"/dead.xml": Response(500, b"x")})
    pipeline.poll_feed(cfg.feeds[0])
    assert pipeline.poll_feed(cfg.feeds[0]).skipped
    assert not pipeline.poll_feed(cfg.feeds[0], force=True).skipped


def test_adaptive_feed_is_polled_more_often_when_busy(make, web_server):
    arts = [a for a in saudinewsnet_articles("2015-07-22")][:40]
    served = {"n": 0}

    def growing(request):
        """Busy for the first polls (8 new stories each), then nothing new."""
        served["n"] += 1
        count = min(8 * served["n"], 24)
        return Response(
            200,
            rss(
                [
                    {"title": a["title"], "guid": f"a{i}", "description": a["content"][:200]}
                    for i, a in enumerate(arts[:count])
                ]
            ),
            {"Content-Type": "application/rss+xml"},
        )

    pipeline, store, cfg = make({"/busy.xml": growing}, interval="1h")
    feed = cfg.feeds[0].model_copy(update={"min_interval": 120.0})
    now, waits = T0, []
    pipeline.poll_feed(feed, now=now)
    for _ in range(20):
        now += timedelta(seconds=120)
        report = pipeline.poll_feed(feed, now=now)
        if report.skipped:
            continue
        state = store.feed_state(feed.name)
        waits.append(((state.next_poll_at or now + timedelta(seconds=120)) - now).total_seconds())
    assert waits[:3] == [120, 120, 120]  # busy: polled at the user's shortest interval
    assert waits == sorted(waits) and waits[-1] >= 480  # quiet: backs off, poll after poll...
    assert max(waits) <= 3600  # ...never past the configured interval


def test_one_poll_does_at_most_max_new_per_poll_items_of_work(make, web_server):
    """A feed listing 150 unseen items whose pages all fail: 100 page requests, the rest next poll."""
    from monitor.pipeline import MAX_NEW_PER_POLL

    titles = [a["title"] for day in ("2015-07-22", "2015-07-23") for a in saudinewsnet_articles(day)][:150]
    assert len(titles) == 150
    items = [{"title": t, "link": web_server.url(f"/gone/{i}.html"), "guid": f"g{i}"} for i, t in enumerate(titles)]
    pipeline, store, cfg = make({"/many.xml": Response(200, rss(items))})
    report = pipeline.poll_feed(cfg.feeds[0])
    pages = [r for r in web_server.requests if r.path.startswith("/gone/")]
    assert report.ok and len(pages) == MAX_NEW_PER_POLL
    assert "the rest wait for the next poll" in store.feed_state("many.xml").last_warning


def test_a_feed_moved_in_config_is_fetched_fresh(make, web_server):
    route = conditional(Response(200, rss(_items(web_server)), {"ETag": '"v1"', "Cache-Control": "max-age=7200"}))
    pipeline, store, cfg = make({"/old.xml": route, "/new.xml": route})
    old, new = cfg.feeds
    assert pipeline.poll_feed(old, now=T0).ok
    moved = new.model_copy(update={"name": old.name})  # same name, new URL
    report = pipeline.poll_feed(moved, now=T0 + timedelta(minutes=1))
    assert not report.skipped and report.items == 2  # no wait and no If-None-Match carried over
    assert web_server.requests_for("/new.xml")[0].headers.get("If-None-Match") is None


@pytest.mark.parametrize("drain", [False, True], ids=["daemon poll", "monitor once (drain)"])
def test_a_not_modified_poll_costs_two_transactions(make, web_server, drain):
    """An idle pass should cost about the script's conditional GET (issue 16): a 304 reads the
    feed's validators and its due items in one transaction and records the poll in a second."""
    from sqlalchemy import event

    route = conditional(Response(200, rss(_items(web_server)), {"Content-Type": "application/rss+xml", "ETag": '"v1"'}))
    pipeline, store, cfg = make({"/idle.xml": route})
    feed = cfg.feeds[0]
    assert pipeline.poll_feed(feed, now=T0).new == 2
    begun: list[object] = []
    event.listen(store.engine, "begin", begun.append)
    report = pipeline.poll_feed(feed, force=True, now=T0 + timedelta(hours=1), drain=drain)
    assert web_server.requests[-1].headers.get("If-None-Match") == '"v1"' and report.ok and report.items == 0
    assert len(begun) == 2
