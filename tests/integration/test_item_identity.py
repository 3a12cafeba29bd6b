"""Which listed items are one item, end to end: a real feed on the loopback server polled
with `monitor once`, alerts counted on a json:// channel, the item ledger read back.

Every item ends as its own article (alerted once if it matches) or in a recorded state
saying which other item it is; none collapses into another because of a link or GUID
it merely shares, and none alerts twice because its feed changes an id. Rules:
monitor.dedup.identity, monitor.extract.ownpage, Store.title_twin/text_twin. Each row
names the public report it is rebuilt from (search corpus "issues"); pure variants are
tests/unit/test_item_identity.py. All were broken before (issue 12 red team)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.storage import Store
from tests.support.corpus_pages import saudinewsnet_articles
from tests.support.desk import HTML, Desk, articles
from tests.support.web import Response

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "issue12" / "recurring-headlines.jsonl"


def _ledger(tmp_path, feed):
    return Store(f"sqlite:///{tmp_path / 'm.db'}").feed_items(feed, limit=100)


# ---- one page for several links: hash routes, anchors, a shared link -------------------
# (variant, link path of each of two different articles)
ROUTES = [
    ("hashbang routes", ("/#!/news/1001", "/#!/news/1002")),
    ("hash routes", ("/#/article/1001", "/#/article/1002")),
    # erosman/support#330: forum posts differing only in their #post-N anchor
    ("anchors of one page", ("/t/7#post-244", "/t/7#post-245")),
]


@pytest.mark.parametrize(("variant", "paths"), ROUTES, ids=[c[0] for c in ROUTES])
def test_each_hash_routed_item_is_its_own_article(tmp_path, web_server, variant, paths):
    desk = Desk(web_server, tmp_path)
    a, b, shell = articles(3)
    desk.page("/", shell)  # what any hash route fetches: the site's one page
    desk.page("/t/7", shell)
    items = [
        {"title": x["title"], "link": web_server.url(p), "guid": f"n{i}", "description": x["content"]}
        for i, (x, p) in enumerate(zip((a, b), paths))
    ]
    desk.set_feed("Spa", items)
    assert desk.once() == 0
    rows = {r.guid: r for r in _ledger(tmp_path, "Spa")}
    assert {r.state for r in rows.values()} == {"alerted"}, f"{variant}: {[(r.state, r.reason) for r in rows.values()]}"
    for i, p in enumerate(paths):  # the alert carries the route and the item's own headline
        assert desk.alerted(web_server.url(p)) == 1 if "#/" in p or "#!" in p else True
        assert sum((a, b)[i]["title"] in m for m in desk.alerts()) == 1, variant
    assert not web_server.requests_for("/") or "#post" in paths[0], f"{variant}: the app shell was read as an article"


# (variant, the shared link path, pubDate of every item)
SHARED = [
    ("site link, one date", "/", "Fri, 07 Mar 2025 22:00:00 +0000"),  # NetNewsWire#4540
    ("section link, undated", "/news/", None),  # tt-rss#57
    ("site root, own dates", "/", "own"),  # feed-rs/feed-rs#35: every item links https://3dnews.ru/
]


@pytest.mark.parametrize(("variant", "path", "date"), SHARED, ids=[c[0] for c in SHARED])
def test_every_item_sharing_a_link_is_in_the_ledger_and_alerts(tmp_path, web_server, variant, path, date):
    desk = Desk(web_server, tmp_path)
    arts = articles(4)
    desk.page(path, arts[3])
    items = []
    for i, a in enumerate(arts[:3]):
        item = {"title": a["title"], "link": web_server.url(path), "description": a["content"]}
        if date:
            item["date"] = date if date != "own" else f"Fri, 07 Mar 2025 2{i}:00:00 +0000"
        items.append(item)
    desk.set_feed("Shared", items)
    assert desk.once() == 0
    rows = _ledger(tmp_path, "Shared")
    assert sorted(r.title for r in rows) == sorted(a["title"] for a in arts[:3]), variant
    assert {r.state for r in rows} == {"alerted"}, f"{variant}: {[(r.state, r.reason) for r in rows]}"
    assert all(sum(a["title"] in m for m in desk.alerts()) == 1 for a in arts[:3]), variant
    assert desk.once() == 0 and len(desk.alerts()) == 3, f"{variant}: alerted again on the next poll"


def test_an_item_alone_under_a_link_then_joined_by_another_alerts_once(tmp_path, web_server):
    desk = Desk(web_server, tmp_path)
    a, b, home = articles(3)
    url = desk.page("/", home)
    desk.set_feed("Shared", [{"title": a["title"], "link": url, "description": a["content"]}])
    assert desk.once() == 0 and len(desk.alerts()) == 1
    desk.set_feed("Shared", [{"title": t["title"], "link": url, "description": t["content"]} for t in (b, a)])
    assert desk.once() == 0
    assert len(desk.alerts()) == 2 and sum(b["title"] in m for m in desk.alerts()) == 1


# ---- a page that sends the client home ---------------------------------------------------
# (variant, the answer of each article URL)
HOME = [
    (
        "meta refresh 0 to /",
        Response(200, b'<html><head><meta http-equiv="refresh" content="0; url=/"></head></html>', HTML),
    ),
    (
        "meta refresh 3 to the home page",
        Response(200, b"<html><head><meta http-equiv=\"refresh\" content=\"3;URL='/'\"></head></html>", HTML),
    ),
    # cisagov/dotgov-home#163: every page of a paused site redirects to "/"
    ("302 to /", Response(302, b"", {"Location": "/"})),
    ("301 to /index.html", Response(301, b"", {"Location": "/index.html"})),
]


@pytest.mark.parametrize(("variant", "answer"), HOME, ids=[c[0] for c in HOME])
def test_items_sent_home_are_not_one_article(tmp_path, web_server, variant, answer):
    desk = Desk(web_server, tmp_path)
    a, b, home = articles(3)
    desk.page("/", home)
    desk.page("/index.html", home)
    for path in ("/a.html", "/b.html"):
        web_server.routes[path] = answer
    items = [
        {"title": x["title"], "link": web_server.url(p), "guid": g, "description": x["content"]}
        for x, p, g in ((a, "/a.html", "a"), (b, "/b.html", "b"))
    ]
    desk.set_feed("Desk", items)
    assert desk.once() == 0
    rows = {r.guid: r for r in _ledger(tmp_path, "Desk")}
    assert {r.state for r in rows.values()} == {"alerted"}, f"{variant}: {[(r.state, r.reason) for r in rows.values()]}"
    assert all("home page" in r.reason for r in rows.values()), variant
    assert desk.alerted(web_server.url("/a.html")) == 1 and desk.alerted(web_server.url("/b.html")) == 1, variant
    assert not any(home["title"] in m for m in desk.alerts()), f"{variant}: the home page alerted as an article"


# ---- one GUID for several articles -------------------------------------------------------
# (variant, GUID of the first poll's item, GUID of the second poll's new item)
GUIDS = [
    ("constant guid, one-item 'latest' feed", "https://example.org/", "https://example.org/"),  # feedbin/support#507
    ("guid recycled by a CMS", "post-1", "post-1"),  # feedbin/support#604
    (
        "the blog's address as every guid",
        "http://blogs.example/dev/",
        "http://blogs.example/dev/",
    ),  # feedbin/support#573
]


@pytest.mark.parametrize(("variant", "g1", "g2"), GUIDS, ids=[c[0] for c in GUIDS])
def test_new_article_under_a_reused_guid_alerts(tmp_path, web_server, variant, g1, g2):
    desk = Desk(web_server, tmp_path)
    a, b = articles(2)
    ua, ub = desk.page("/a.html", a), desk.page("/b.html", b)
    desk.set_feed("Desk", [{"title": a["title"], "link": ua, "guid": g1}])
    assert desk.once() == 0 and desk.alerted(ua) == 1
    desk.set_feed("Desk", [{"title": b["title"], "link": ub, "guid": g2}])
    assert desk.once() == 0
    assert desk.alerted(ub) == 1 and desk.alerted(ua) == 1, f"{variant}: alerts: {len(desk.alerts())}"
    assert desk.once() == 0 and len(desk.alerts()) == 2, f"{variant}: alerted again"


def test_new_article_on_top_of_a_feed_whose_items_share_one_guid(tmp_path, web_server):
    """Every item shares one GUID, newest first: each poll's NEW top item takes the GUID."""
    desk = Desk(web_server, tmp_path)
    a, b, c = articles(3)
    ua, ub, uc = desk.page("/a.html", a), desk.page("/b.html", b), desk.page("/c.html", c)
    same = "https://example.org/rss"
    desk.set_feed("Desk", [{"title": x["title"], "link": u, "guid": same} for x, u in ((b, ub), (a, ua))])
    assert desk.once() == 0
    assert desk.alerted(ua) == 1 and desk.alerted(ub) == 1
    desk.set_feed("Desk", [{"title": x["title"], "link": u, "guid": same} for x, u in ((c, uc), (b, ub), (a, ua))])
    assert desk.once() == 0
    assert desk.alerted(uc) == 1 and len(desk.alerts()) == 3


def test_a_guid_whose_link_alone_changed_is_the_same_item(tmp_path, web_server):
    desk = Desk(web_server, tmp_path)
    (a,) = articles(1)
    old, new = desk.page("/12-old-slug.html", a), desk.page("/12-new-slug.html", a)
    desk.set_feed("Desk", [{"title": a["title"], "link": old, "guid": "g12"}])
    assert desk.once() == 0 and len(desk.alerts()) == 1
    desk.set_feed("Desk", [{"title": a["title"], "link": new, "guid": "g12"}])
    assert desk.once() == 0
    assert len(desk.alerts()) == 1 and not web_server.requests_for("/12-new-slug.html")


# ---- no link: the text is the item ----------------------------------------------------------
TITLE = "نواف: العلاقات السعودية الكويتية تاريخية"  # real headlines and teaser (tests/fixtures/saudinewsnet)
SHORT = "الدولار يتراجع"
TEASER = "انخفض سعر الدولار أمس بعد صعوده إلى أعلى مستوى له في خمسة أسابيع أمام الين"

# (variant, topic term, item on poll 1, item on poll 2): no link in any
LINKLESS = [
    # feedbin/support#416: the GUID is regenerated on every fetch, no teaser
    ("rotating guid, no teaser", "السعودية", {"title": TITLE, "guid": "t-1001"}, {"title": TITLE, "guid": "t-1002"}),
    (
        "rotating guid, short headline, same teaser",
        "الدولار",
        {"title": SHORT, "guid": "t-1001", "description": TEASER},
        {"title": SHORT, "guid": "t-1002", "description": TEASER},
    ),
    # FreshRSS#5909: old items new again every day (a new id and a new date)
    (
        "rotating guid and date",
        "الدولار",
        {"title": TITLE, "guid": "a", "description": TEASER, "date": "Tue, 21 Jul 2015 08:00:00 +0000"},
        {"title": TITLE, "guid": "b", "description": TEASER, "date": "Wed, 22 Jul 2015 08:00:00 +0000"},
    ),
    ("no guid, same text", "الدولار", {"title": SHORT, "description": TEASER}, {"title": SHORT, "description": TEASER}),
]


@pytest.mark.parametrize(("variant", "term", "first", "second"), LINKLESS, ids=[c[0] for c in LINKLESS])
def test_a_linkless_item_alerts_once(tmp_path, web_server, variant, term, first, second):
    desk = Desk(web_server, tmp_path, term=term, extra={"defaults": {"backfill": None}})
    desk.set_feed("Ticker", [first])
    assert desk.once() == 0 and len(desk.alerts()) == 1
    desk.set_feed("Ticker", [second])
    assert desk.once() == 0
    assert len(desk.alerts()) == 1, f"{variant}: the same item alerted {len(desk.alerts())} times"
    rows = _ledger(tmp_path, "Ticker")
    assert rows[0].state == "skipped" and rows[0].ref_item_id == rows[-1].id or len(rows) == 1, variant


def test_two_linkless_items_with_one_text_listed_together_both_count(tmp_path, web_server):
    """A ticker repeating a headline in one listing lists two items: neither is dropped."""
    desk = Desk(web_server, tmp_path, term="الدولار")
    desk.set_feed("Ticker", [{"title": SHORT, "guid": g, "description": TEASER} for g in ("x1", "x2")])
    assert desk.once() == 0
    assert all(r.state != "pending" for r in _ledger(tmp_path, "Ticker"))


# ---- one headline, several articles -------------------------------------------------------
TAGLINE = "صحيفة العرب الدولية"  # the same description on every item (a site tagline)

# (variant, pubDate of every item: None = no date)
RECURRING = [
    ("undated items, tagline teaser", None),  # NetNewsWire#4540: nothing but the link tells items apart
    ("day-only midnight date, tagline teaser", "Tue, 21 Jul 2015 00:00:00 +0000"),  # feedbin/support#416
]


@pytest.mark.parametrize(("variant", "date"), RECURRING, ids=[c[0] for c in RECURRING])
def test_each_recurring_column_is_read_and_alerts(tmp_path, web_server, variant, date):
    desk = Desk(web_server, tmp_path, term="السياحة")
    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    cols = [r for r in rows if r["source"] == "aawsat"]
    assert len(cols) == 4 and len({c["title"] for c in cols}) == 1 and len({c["content"] for c in cols}) == 4
    items = []
    for i, col in enumerate(cols):
        item = {"title": col["title"], "link": desk.page(f"/home/article/{i}.html", col), "guid": f"aawsat-{i}"}
        item["description"] = TAGLINE
        if date:
            item["date"] = date
        items.append(item)
    desk.set_feed("Aawsat", items)
    assert desk.once() == 0
    fetched = [i for i in range(4) if web_server.requests_for(f"/home/article/{i}.html")]
    assert fetched == [0, 1, 2, 3], f"{variant}: only pages {fetched} were fetched"
    assert all(desk.alerted(it["link"]) == 1 for it in items), f"{variant}: alerts {len(desk.alerts())} of 4"


def test_a_feed_rotating_guid_and_link_still_lists_one_item(tmp_path, web_server):
    """What title_twin is for: the same headline, date and teaser under a new GUID and link
    each poll, the old one gone from the feed: one item (storage/items.title_twin)."""
    desk = Desk(web_server, tmp_path)
    art = next(a for a in saudinewsnet_articles("2015-07-21") if len(a["content"]) > 800 and desk.term in a["content"])
    date = "Tue, 21 Jul 2015 10:00:00 +0000"
    for n in (1, 2):
        url = desk.page(f"/r/{n}.html", art)
        item = {"title": art["title"], "link": url, "guid": f"r{n}", "description": art["content"][:200], "date": date}
        desk.set_feed("Rot", [item])
        assert desk.once() == 0
    assert len(desk.alerts()) == 1 and not web_server.requests_for("/r/2.html")
