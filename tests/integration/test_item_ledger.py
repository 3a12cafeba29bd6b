"""Issue 12: nothing silently lost. Every listed item gets a ledger row and ends in a recorded state.

Loss 1 (state saying "this response is done" committed before the work is done), loss 2 (a
shared headline taken as identity) and loss 3 (a library exception escaping the per-item and
per-feed boundary), each kind with several variants, against the real pipeline on SQLite and
a loopback server. Article text is real (SaudiNewsNet, tests/fixtures/README.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor import pipeline as pipeline_mod
from monitor.delivery import compose as compose_mod
from monitor.extract import article as article_mod
from monitor.matching.matcher import Matcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from monitor.storage.items import STATES
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.pipelines import local_pipelines
from tests.support.web import Response, conditional, sequence

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture
def make(tmp_path, web_server):
    with local_pipelines(tmp_path, web_server) as pipelines:

        def build(routes: dict, *, term: str = "السعودية", defaults: dict | None = None):
            web_server.routes.update(routes)
            return pipelines.build([p for p in routes if p.endswith(".xml")], term=term, defaults=defaults)

        yield build


def _articles(n: int) -> list[dict]:
    arts = [a for d in ("2015-07-21", "2015-07-22") for a in saudinewsnet_articles(d)]
    return arts[:n]


def _serve(web, arts: list[dict], prefix: str = "/a") -> list[dict]:
    """Serve each article as a page; return the feed items linking to them."""
    items = []
    for i, art in enumerate(arts):
        path = f"{prefix}/{i}.html"
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet=art["source"], url=web.url(path))
        web.routes[path] = Response(200, page.encode(), HTML)
        items.append({"title": art["title"], "link": web.url(path), "guid": f"{prefix}-{i}"})
    return items


def assert_ledger_sound(store: Store) -> dict[str, int]:
    """Every row in a known state with a reason; the refs each state promises are there."""
    from sqlalchemy import select

    from monitor.storage.items import items

    with store.tx() as conn:
        rows = conn.execute(select(items)).all()
    for r in rows:
        assert r.state in STATES and r.reason and r.reason_code, r
        if r.state == "pending":
            assert r.next_try_at is not None, r
        if r.state == "failed":
            assert r.last_error, r
        if r.state in ("alerted", "matched_nothing", "copy"):
            assert r.article_id is not None, r
        if r.state == "copy":
            assert r.ref_article_id is not None, r
        if r.state == "skipped":
            assert r.ref_item_id is not None or r.ref_article_id is not None or r.reason_code.startswith("backfill"), r
    return store.item_counts()


# ---- loss 1: deferred work is never lost behind a 304 ------------------------------------------
def test_items_past_the_per_poll_cap_are_worked_off_behind_304s(make, web_server, monkeypatch):
    """The 150-item case at a small cap: the ETag is stored after the items, and the 304
    polls that follow still work off what the first poll left."""
    monkeypatch.setattr(pipeline_mod, "MAX_NEW_PER_POLL", 10)
    arts = _articles(25)
    items = [{"title": a["title"], "guid": f"g{i}", "description": a["content"][:300]} for i, a in enumerate(arts)]
    feed = conditional(Response(200, rss(items), {**RSS, "ETag": '"v1"'}))
    pipeline, store, cfg = make({"/big.xml": feed})
    reports = [pipeline.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(minutes=i)) for i in range(4)]
    assert [r.new for r in reports] == [10, 10, 5, 0]
    sent = [r.headers.get("If-None-Match") for r in web_server.requests if r.path == "/big.xml"]
    assert sent == [None, '"v1"', '"v1"', '"v1"'] and [r.items for r in reports[1:]] == [0, 0, 0]  # 304s
    assert store.counts()["articles"] == 25
    counts = assert_ledger_sound(store)
    assert counts["pending"] == 0 and sum(counts.values()) == 25
    assert "the rest wait for the next poll" in reports[0].warning


def test_a_page_that_failed_is_retried_behind_a_304(make, web_server):
    arts = _articles(2)
    items = _serve(web_server, arts)
    web_server.routes["/a/1.html"] = sequence(Response(500, b"down"), web_server.routes["/a/1.html"])
    pipeline, store, cfg = make({"/p.xml": conditional(Response(200, rss(items), {**RSS, "ETag": '"e"'}))})
    first = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0)
    assert first.new == 1
    [row] = [r for r in store.feed_items("p.xml") if r.state == "pending"]
    assert row.reason_code == "page_retry" and "HTTP 500" in row.reason
    second = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(minutes=10))
    assert second.new == 1 and store.counts()["articles"] == 2
    assert assert_ledger_sound(store)["pending"] == 0


@pytest.mark.parametrize(
    "target,exc",
    [
        ("match", RuntimeError("boom inside the matcher")),
        ("extract", UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed")),
        ("render", ValueError("template exploded")),
    ],
)
def test_an_item_that_raises_is_recorded_retried_and_not_lost_behind_a_304(make, web_server, monkeypatch, target, exc):
    """Loss 3 inside one item: any exception is a recorded error on that item (backoff, then
    `failed`); the other items of the poll go on, and the item is retried behind a 304."""
    arts = _articles(3)
    items = _serve(web_server, arts)
    pipeline, store, cfg = make(
        {"/x.xml": conditional(Response(200, rss(items), {**RSS, "ETag": '"e"'}))}, term="كوريا"
    )
    calls = {"n": 0}

    def once_raise(real):
        def wrapper(*a, **kw):
            calls["n"] += 1
            if calls["n"] == 1:
                raise exc
            return real(*a, **kw)

        return wrapper

    if target == "match":
        monkeypatch.setattr(Matcher, "match", once_raise(Matcher.match))
    elif target == "extract":
        monkeypatch.setattr(article_mod, "extract", once_raise(article_mod.extract))  # the pipeline imports it per page
    else:  # the first article (North Korea) matches, so it is rendered
        monkeypatch.setattr(compose_mod, "render_alert", once_raise(compose_mod.render_alert))
    report = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0)
    assert report.ok and report.new == 2 and "1 item(s) failed" in report.warning
    [row] = [r for r in store.feed_items("x.xml") if r.state == "pending"]
    assert row.reason_code == "item_error" and type(exc).__name__ in row.reason
    assert row.next_try_at == T0 + timedelta(seconds=pipeline_mod.ITEM_RETRY_BASE)
    early = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(seconds=30))
    assert early.new == 0  # backing off
    later = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(minutes=5))
    assert later.new == 1 and store.counts()["articles"] == 3
    assert assert_ledger_sound(store)["pending"] == 0


def test_an_item_that_always_raises_ends_failed_with_its_error(make, web_server, monkeypatch):
    items = _serve(web_server, _articles(1))
    pipeline, store, cfg = make({"/f.xml": Response(200, rss(items), RSS)})

    def broken(*a, **kw):
        raise RuntimeError("always")

    monkeypatch.setattr(Matcher, "match", broken)
    now = T0
    for _ in range(pipeline_mod.ITEM_MAX_ATTEMPTS):
        assert pipeline.poll_feed(cfg.feeds[0], force=True, now=now).ok
        now += timedelta(hours=7)
    [row] = store.feed_items("f.xml")
    assert row.state == "failed" and "RuntimeError: always" in row.last_error
    assert row.attempts == pipeline_mod.ITEM_MAX_ATTEMPTS
    assert store.feed_state("f.xml").last_error is None  # the feed itself is fine: never flagged for it
    assert_ledger_sound(store)


class Killed(BaseException):
    """A kill -9 stand-in: not an Exception, so no boundary catches it."""


# save_and_resolve stores the article and resolves its item in one transaction (issue 16):
# a kill lands before it (nothing stored) or after it (both committed).
@pytest.mark.parametrize(
    "point,when",
    [
        ("save_and_resolve", "before"),
        ("save_and_resolve", "after"),
        ("record_feed_success", "after"),
        ("enqueue_items", "after"),
    ],
)
def test_a_crash_between_any_two_steps_leaves_the_item_pending_then_done_once(
    make, web_server, monkeypatch, point, when
):
    arts = [a for a in _articles(300) if "السعودية" in a["title"]][:2]
    items = _serve(web_server, arts)
    pipeline, store, cfg = make({"/k.xml": conditional(Response(200, rss(items), {**RSS, "ETag": '"e"'}))})
    real = getattr(Store, point)

    def dying(self, *a, **kw):
        if when == "before":
            raise Killed
        real(self, *a, **kw)  # the step's transaction committed; we die right after it
        raise Killed

    monkeypatch.setattr(Store, point, dying)
    with pytest.raises(Killed):
        pipeline.poll_feed(cfg.feeds[0], force=True, now=T0)
    monkeypatch.setattr(Store, point, real)
    pipeline2 = Pipeline(cfg, store, pipeline.fetcher)  # "restart" on the same database
    for i in range(2):
        assert pipeline2.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(minutes=10 * (i + 1))).ok
    counts = assert_ledger_sound(store)
    assert counts["pending"] == 0 and counts["alerted"] == 2
    assert store.counts()["alerts_pending"] == 2  # one alert each, never two


# ---- loss 2: a shared headline only makes candidates; the text decides ---------------------------
def _recurring(source: str) -> list[dict]:
    path = FIXTURES / "issue12" / "recurring-headlines.jsonl"
    return [r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if r["source"] == source]


@pytest.mark.parametrize(
    "source,n,with_teaser", [("alriyadh", 2, False), ("aawsat", 4, False), ("aawsat", 4, True), ("alriyadh", 2, True)]
)
def test_recurring_headlines_with_different_texts_are_different_articles(make, web_server, source, n, with_teaser):
    arts = _recurring(source)
    assert len(arts) == n and len({" ".join(a["title"].split()) for a in arts}) == 1
    items = _serve(web_server, arts)
    for item, art in zip(items, arts, strict=True):
        item["date"] = "Tue, 21 Jul 2015 10:00:00 GMT"  # the same date too: still different articles
        if with_teaser:
            item["description"] = art["content"][:200]
    term = {"alriyadh": "الإيراني", "aawsat": "السياحة"}[source]  # the headline's word (relevance decides)
    pipeline, store, cfg = make({"/cols.xml": Response(200, rss(items), RSS)}, term=term)
    report = pipeline.poll_feed(cfg.feeds[0], force=True, now=T0)
    assert report.new == n and store.counts()["articles"] == n
    counts = assert_ledger_sound(store)
    assert counts["alerted"] >= 1 and counts["alerted"] + counts["matched_nothing"] == n  # none skipped or a copy


def test_a_feed_rotating_guids_and_links_is_caught_by_headline_date_and_teaser(make, web_server):
    """The one case the headline is trusted: same headline, same date and same teaser as an item
    already processed. Later rows are `skipped/title_key_copy` pointing at the first item."""
    arts = _articles(3)
    _serve(web_server, arts)
    polls = {"n": 0}

    def rotating(request):
        polls["n"] += 1
        return Response(
            200,
            rss(
                [
                    {
                        "title": a["title"],
                        "link": web_server.url(f"/a/{i}.html?s={polls['n']}"),
                        "guid": f"urn:{polls['n']}:{i}",
                        "date": "Tue, 21 Jul 2015 10:00:00 GMT",
                        "description": a["content"][:200],
                    }
                    for i, a in enumerate(arts)
                ]
            ),
            RSS,
        )

    pipeline, store, cfg = make({"/rot.xml": rotating})
    assert pipeline.poll_feed(cfg.feeds[0], force=True, now=T0).new == 3
    pages = len([r for r in web_server.requests if r.path.startswith("/a/")])
    assert pipeline.poll_feed(cfg.feeds[0], force=True, now=T0 + timedelta(minutes=10)).new == 0
    assert len([r for r in web_server.requests if r.path.startswith("/a/")]) == pages  # no page fetched
    skipped = [r for r in store.feed_items("rot.xml", limit=50) if r.state == "skipped"]
    assert len(skipped) == 3 and all(r.reason_code == "title_key_copy" and r.ref_item_id for r in skipped)
    assert_ledger_sound(store)


def test_the_same_article_listed_twice_is_one_article_and_one_skipped_row(make, web_server):
    arts = _articles(1)
    [item] = _serve(web_server, arts)
    twice = [item, {**item, "guid": "another-guid"}]
    pipeline, store, cfg = make({"/dup.xml": Response(200, rss(twice), RSS)})
    assert pipeline.poll_feed(cfg.feeds[0], force=True, now=T0).new == 1
    rows = sorted(store.feed_items("dup.xml"), key=lambda r: r.id)
    assert rows[1].state == "skipped" and rows[1].reason_code == "same_article" and rows[1].ref_item_id == rows[0].id
    assert_ledger_sound(store)


# ---- issue 12, loss 9: the backlog of a new feed (or of one back from an outage) --------------
WORKED = {"alerted": "worked", "matched_nothing": "worked", "copy": "worked"}  # fetched and matched


def _rfc822(when: datetime) -> str:
    return when.strftime("%a, %d %b %Y %H:%M:%S GMT")


@pytest.mark.parametrize(
    "ages, window, want",
    [
        # (hours before the poll per item; None: undated), backfill window, state of each item
        ([1, 20, 30, 24 * 400], "1d", ["worked", "worked", "backfill", "backfill"]),
        ([1, None], "1d", ["worked", "worked"]),  # undated: read, matching decides
        ([1, 5, 8], "6h", ["worked", "worked", "backfill"]),  # the window ends at the newest item (1 h)
        ([-2, 24 * 3650], "1d", ["worked", "backfill"]),  # a future date is within the window
        ([30, None], "off", ["worked", "worked"]),  # no window: the whole backlog may alert
    ],
)
def test_a_first_poll_alerts_only_items_inside_the_backfill_window(make, web_server, ages, window, want):
    arts = _articles(len(ages))
    items = _serve(web_server, arts)
    for item, age in zip(items, ages, strict=True):
        item["date"] = _rfc822(T0 - timedelta(hours=age)) if age is not None else None
    pipe, store, _ = make({"/f.xml": Response(200, rss(items), RSS)}, term="ال", defaults={"backfill": window})
    pipe.poll_feed(pipe.config.feeds[0], force=True, now=T0)
    rows = {r.key: r for r in store.feed_items("f.xml", limit=50)}
    got = []
    for item in items:
        row = rows[f"guid:{item['guid']}"]
        got.append(row.reason_code if row.state == "skipped" else WORKED.get(row.state, row.state))
    assert got == want
    assert all(rows[f"guid:{i['guid']}"].reason for i in items)  # every skipped one says why
    assert_ledger_sound(store)


def test_only_a_first_poll_or_one_after_a_long_outage_is_a_backfill(make, web_server):
    arts = _articles(4)
    items = _serve(web_server, arts)
    feed = {"/f.xml": Response(200, rss([]), RSS)}
    pipe, store, _ = make(feed, term="ال", defaults={"backfill": "1d"})
    f = pipe.config.feeds[0]
    pipe.poll_feed(f, force=True, now=T0)  # first poll: an empty feed

    def listing(*its: dict) -> None:
        web_server.routes["/f.xml"] = Response(200, rss(list(its)), RSS)

    # polled again an hour later: an old-dated new item is not backlog, it alerts
    listing({**items[0], "date": _rfc822(T0 - timedelta(days=30))})
    pipe.poll_feed(f, force=True, now=T0 + timedelta(hours=1))
    # back after two days without a successful poll: the window applies again
    web_server.routes["/f.xml"] = Response(500, b"down", {})
    pipe.poll_feed(f, force=True, now=T0 + timedelta(hours=20))
    later = T0 + timedelta(days=3)
    listing(
        {**items[0], "date": _rfc822(T0 - timedelta(days=30))},
        {**items[1], "date": _rfc822(later - timedelta(days=2))},
        {**items[2], "date": _rfc822(later - timedelta(hours=2))},
    )
    pipe.poll_feed(f, force=True, now=later)
    rows = {r.key: r for r in store.feed_items("f.xml", limit=50)}
    states = [rows[f"guid:{i['guid']}"] for i in items[:3]]
    assert [WORKED.get(r.state, r.state) for r in states] == ["worked", "skipped", "worked"]
    assert states[1].reason_code == "backfill"
    assert_ledger_sound(store)
