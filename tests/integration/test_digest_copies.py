"""Issue 15 kind 4 in digests (redteam15 #11): under each article a digest lists its other copies
(«ورد أيضاً في»), each outlet with its link, exactly as a single alert does: the same cleaning
(javascript: dropped, RLO / userinfo stripped, tracking parameters removed), at most
render.ALSO_SHOWN then "and N more", the copies known when the digest is rendered (one that
arrived after the alert was held counts). Telegram HTML, split under 4,096, stays valid.

Real parts: the outbox with a real SQLite store, the fake Bot API apprise calls, aiosmtpd.
Articles: a real copy group of the SaudiNewsNet excerpt (story_helpers.copy_group, CC BY-NC-SA 4.0).

Public reports of the kind, rebuilt as rows (no text copied):
- https://github.com/FreeFeed/freefeed-server/pull/248 (a notifications digest linked the wrong
  post): each digest copy carries its own link, not the article's;
- https://github.com/openstreetmap/openstreetmap-website/issues/2930 (notification emails lost
  their links): the email digest, HTML and plain parts, keeps every copy's address;
- https://github.com/caronc/apprise-api/issues/167 and
  https://github.com/dgtlmoon/changedetection.io/issues/274 (a long Telegram message split in
  the middle of its HTML / refused as too long): many copies with long links across a split.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest

from monitor.delivery.digest import group_stories, render_digest, split_telegram
from monitor.delivery.outbox import Outbox
from monitor.delivery.render import ALSO_SHOWN, L_ALSO, OUTLET_MAX, l_more, render_alert, utf16_len
from monitor.models import Article, ChannelKind, Match, NewAlert, ReportedBy, TermHit, channel_kind
from monitor.storage import OutboxAlert, Store, StoredArticle
from tests.support.outbox_helpers import TOKEN, FakeClock, corpus, make_config
from tests.support.story_helpers import copy_group, put_story_article
from tests.support.telegram import check_telegram_html

pytestmark = pytest.mark.integration

HELD = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)  # the alert is made (and held) here
SENT = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)  # the digest is released here
GROUP = copy_group(3)


def save_alerted(store: Store, config, outbox: Outbox, row: dict, now: datetime) -> None:
    """Store corpus `row` with its story input and one alert on channel "c" (held as `outbox` says)."""
    word = row["title"].split()[0]
    match = Match("t", "T", (TermHit(word, word, "title", 0, 0, 1, "any"),), row["content"][:200])
    article = Article(url=row["url"], url_key=row["url"], feed="F", title=row["title"], body=row["content"])
    r = render_alert(article, match, outlet=row["source"], channel_kind=channel_kind(config.channels["c"]))
    alert = NewAlert("t", "c", r.subject, r.text, r.html, *outbox.hold("c", "t", now))
    put_story_article(store, row, 1, now, matches=[match], alerts=[alert])


# (id, channel options, when the digest is released)
MODES = [
    ("hourly", {"delivery": "hourly"}, SENT),
    ("daily", {"delivery": "daily", "digest_at": "10:00"}, SENT),
    ("quiet hours", {"quiet_hours": "09:00-09:30"}, datetime(2026, 1, 1, 9, 30, tzinfo=UTC)),
]
# (id, how many copies arrive after the alert was held and before the digest is released)
COPIES = [("no copies", 0), ("two copies arrive while held", 2)]


def _run(tmp_path, url: str, opts: dict, release: datetime, n: int) -> list[dict]:
    config = make_config(tmp_path, {"c": {"urls": url, **opts}})
    store = Store(config.storage_url)
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    try:
        save_alerted(store, config, outbox, GROUP[0], HELD)
        assert outbox.deliver(HELD).sent == 0  # held for the digest
        for i, row in enumerate(GROUP[1 : 1 + n], start=2):
            put_story_article(store, row, i, HELD)  # copies, no alert of their own
        assert outbox.deliver(release).sent == 1
    finally:
        store.close()
    return GROUP[1 : 1 + n]


@pytest.mark.parametrize(("opts", "release"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
@pytest.mark.parametrize("n", [c[1] for c in COPIES], ids=[c[0] for c in COPIES])
def test_a_telegram_digest_lists_each_copy_linked(tmp_path, fake_telegram, opts, release, n):
    copies = _run(tmp_path, f"tgram://{TOKEN}/111", opts, release, n)
    [digest] = fake_telegram.messages
    assert "ملخص التنبيهات" in digest.visible_text
    assert (L_ALSO in digest.visible_text) == bool(copies), digest.visible_text
    also = digest.text.split(L_ALSO, 1)[-1] if copies else ""
    assert re.findall(r'href="([^"]*)"', also) == [html.escape(c["url"]) for c in copies], digest.text
    for c in copies:
        assert c["source"] in digest.visible_text.split(L_ALSO, 1)[1]


@pytest.mark.parametrize(("opts", "release"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
@pytest.mark.parametrize("n", [c[1] for c in COPIES], ids=[c[0] for c in COPIES])
def test_an_email_digest_lists_each_copy_with_its_address(tmp_path, smtp_server, opts, release, n):
    copies = _run(tmp_path, smtp_server.apprise_url(to="r@example.com"), opts, release, n)
    [mail] = smtp_server.messages
    parts = {p.get_content_type(): p.get_content() for p in mail.message.iter_parts()}
    body, plain = parts["text/html"], parts["text/plain"]
    assert (L_ALSO in body) == bool(copies) == (L_ALSO in plain), body
    also = body.split(L_ALSO, 1)[-1] if copies else ""
    assert re.findall(r'href="([^"]*)"', also) == [html.escape(c["url"]) for c in copies], body
    for c in copies:  # the plain part (apprise's, from the HTML): "outlet: address", under the article
        assert f"{c['source']}: {c['url']}" in plain.split(L_ALSO, 1)[1], plain


# ---- the same cleaning as single alerts (render_digest on its own) --------------------------
ROW = GROUP[0]
ARTICLE = StoredArticle(1, ROW["url"], "F", ROW["source"], ROW["title"], ROW["content"], HELD)
ALERT = OutboxAlert(1, 1, "t", "c", "s", "", "", 0, HELD, "pending", None, None, digest="hourly")
RLO = "\u202e"
# (id, the copies as stored, hrefs a single alert and the digest must carry, what must not show)
HOSTILE = [
    ("javascript: link dropped", [ReportedBy("X", "javascript:alert(1)")], [], "javascript:"),
    ("RLO in outlet and link", [ReportedBy(f"عكاظ{RLO}gpj", f"https://okaz.example/{RLO}a")], None, RLO),
    ("userinfo stripped", [ReportedBy("Y", "https://user:pw@news.example/a")], ["https://news.example/a"], "pw@"),
    ("tracking dropped", [ReportedBy("Z", "https://z.example/a?id=7&utm_source=tw")], None, "utm_"),
    ("the digest's own article", [ReportedBy("self", ROW["url"]), ReportedBy("W", "https://w.example/1")], None, ""),
    ("no copies", [], [], L_ALSO),
]


def _hrefs(markup: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', markup.split(L_ALSO, 1)[1]) if L_ALSO in markup else []


@pytest.mark.parametrize("kind", [ChannelKind.TELEGRAM, ChannelKind.EMAIL, ChannelKind.OTHER])
@pytest.mark.parametrize(("also", "hrefs", "absent"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_digest_copies_are_cleaned_as_a_single_alerts(kind, also, hrefs, absent):
    digest = render_digest([ALERT], {1: ARTICLE}, {"t": "T"}, kind=kind, also={1: also})
    art = Article(url=ROW["url"], url_key="k", feed="F", title=ROW["title"], body="")
    match = Match("t", "T", (TermHit("x", "x", "title", 0, 0, 1),), "")
    single = render_alert(art, match, outlet=ROW["source"], channel_kind=kind, also=tuple(also))
    got = _hrefs(digest.html)
    # the digest's own article is no copy of itself: storage leaves it out for a single alert
    # (also_reported), the digest again as it shows the page already
    assert got == [h for h in _hrefs(single.html) if h != html.escape(ROW["url"])]
    if hrefs is not None:
        assert got == [html.escape(h) for h in hrefs]
    for h in got:  # the plain text (apprise's body for other services) lists each link too
        assert f": {html.unescape(h)}" in digest.text.split(L_ALSO, 1)[1]
    if absent:
        assert absent not in digest.html.split(L_ALSO, 1)[-1] and absent not in digest.text.split(L_ALSO, 1)[-1]


# ---- many copies with long links: the Telegram split stays valid ----------------------------
def _stories(n: int) -> list[dict]:
    rows = corpus()
    return [s[0] for s in group_stories([(r["title"], r["url"], r["source"], r["content"]) for r in rows])][:n]


# (stories, copies each, link length, part limit, a part must start inside a copy list)
SPLITS = [
    (6, 12, 1400, 4096, False),  # 12 x 1,400-character links under each of six articles
    (5, 26, 900, 4096, False),
    (1, 12, 1400, 600, True),  # a small limit: the cut falls inside the copy list (<a> closed, reopened)
    (1, 4, 60, 4096, False),  # fits in one message
]


@pytest.mark.parametrize(("stories", "copies", "url_len", "limit", "mid_list"), SPLITS)
def test_many_copies_with_long_links_split_into_valid_parts(stories, copies, url_len, limit, mid_list):
    heads = _stories(stories)
    arts = {i: StoredArticle(i, h[1], "F", h[2], h[0], h[3], HELD) for i, h in enumerate(heads, 1)}
    alerts = [OutboxAlert(i, i, "t", "c", "s", "", "", 0, HELD, "pending", None, None, digest="h") for i in arts]
    also = {
        i: [
            ReportedBy(f"مصدر {'ن' * (OUTLET_MAX - 8)} {k}", f"https://c{k}.example/{'a' * url_len}?i={i}")
            for k in range(copies)
        ]
        for i in arts
    }
    r = render_digest(alerts, arts, {"t": "T"}, kind=ChannelKind.TELEGRAM, also=also)
    parts = split_telegram(r.html, limit)
    for p in parts:
        error, visible = check_telegram_html(p)
        assert error is None, (error, p)
        assert utf16_len(visible) <= limit
    starts = [p.find("https://c") for p in parts]
    assert any(0 < at and L_ALSO not in p[:at] for p, at in zip(parts, starts, strict=True)) == mid_list
    joined = "".join(parts)
    for i in arts:
        for k in range(min(copies, ALSO_SHOWN)):
            # once, or twice when a cut falls inside its <a> (closed, then reopened in the next part)
            assert joined.count(f'href="https://c{k}.example/{"a" * url_len}?i={i}"') in ((1, 2) if mid_list else (1,))
        assert f"c{ALSO_SHOWN}.example" not in joined  # the rest are counted, not listed
    assert joined.count(l_more(copies - ALSO_SHOWN)) == (stories if copies > ALSO_SHOWN else 0)
    assert (len(parts) > 1) == (stories > 1 or limit < 4096)  # long lists do cross a split boundary
