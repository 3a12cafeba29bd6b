"""Issue 15 kind 4: an alert lists each other copy's outlet WITH its link, bounded.

Rows rebuilt (no text copied) from public reports, named next to each row. Article text is the
real SaudiNewsNet excerpt (tests/fixtures/saudinewsnet); outlets and URLs are the corpus's own.
"""

from __future__ import annotations

import re

import pytest

from monitor.delivery.render import ALSO_SHOWN, L_ALSO, OUTLET_MAX, TELEGRAM_MAX, l_more, render_alert, telegram_visible
from monitor.models import Article, Match, ReportedBy, TermHit
from tests.support.story_helpers import copy_group

GROUP = copy_group(4)
ARTICLE = Article(url=GROUP[0]["url"], url_key="k", feed=GROUP[0]["source"], title=GROUP[0]["title"], body="")
WORD = GROUP[0]["title"].split()[0]
MATCH = Match("t", "T", (TermHit(WORD, WORD, "title", 0, 0, len(WORD)),), GROUP[0]["content"])


def tracked(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "utm_source=rss&utm_medium=feed"


COPIES = [ReportedBy(a["source"], a["url"]) for a in GROUP[1:]]
LONG = [ReportedBy(f"{GROUP[1]['source']} {'ن' * OUTLET_MAX} {i}", f"https://example.org/copy/{i}") for i in range(26)]

# (id, also, links shown in order, names shown without a link, how many more)
ROWS = [
    ("three copies, each linked", COPIES, [a["url"] for a in GROUP[1:]], [], 0),
    # spacecowboy/Feeder#753, newsboat/newsboat#1729: one page arrives through two feeds of an
    # outlet (once with a tracking parameter): listed once, tracking parameter dropped
    (
        "one page through two feeds",
        [ReportedBy(COPIES[0].outlet, tracked(COPIES[0].url)), COPIES[0]],
        [COPIES[0].url],
        [],
        0,
    ),
    # FreshRSS/FreshRSS#948: the same article at another site (a planet): its own link is listed
    ("copy at another site", [ReportedBy("", COPIES[1].url)], [COPIES[1].url], [COPIES[1].url.split("/")[2]], 0),
    (
        "a link that must not be followed",
        [ReportedBy(COPIES[2].outlet, "javascript:alert(1)")],
        [],
        [COPIES[2].outlet],
        0,
    ),
    ("outlets only (no link known)", [c.outlet for c in COPIES], [], [c.outlet for c in COPIES], 0),
    # ix-ai/alertmanager-notifier#6: 26 entries in one Telegram message -> "message is too long";
    # here 26 copies with the longest outlet names a feed may give: ten listed, "and 16 more"
    ("26 copies, long names", LONG, [c.url for c in LONG[:ALSO_SHOWN]], [], 26 - ALSO_SHOWN),
]


@pytest.mark.parametrize("also,links,bare,more", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
@pytest.mark.parametrize("kind", ["telegram", "email", "other"])
def test_the_alert_lists_each_copy_with_its_link(kind, also, links, bare, more):
    plain = render_alert(ARTICLE, MATCH, outlet=GROUP[0]["source"], channel_kind=kind)
    r = render_alert(ARTICLE, MATCH, outlet=GROUP[0]["source"], channel_kind=kind, also=also)
    assert L_ALSO not in plain.html + plain.text and L_ALSO in r.html and L_ALSO in r.text
    part = r.html.split(L_ALSO, 1)[1].split("</p>" if kind != "telegram" else "\n", 1)[0]
    assert re.findall(r'href="([^"]*)"', part) == [u.replace("&", "&amp;") for u in links]
    for link in links:
        assert link in r.text  # plain text: each copy's address on its line
        if kind != "telegram":
            assert f">{link}</a>" in part  # email: the address is visible text (kept in text/plain)
    for name in bare:
        assert name in part
    assert (l_more(more) in part and l_more(more) in r.text) if more else "أخرى" not in part
    assert "utm_" not in r.html + r.text and "javascript" not in r.html + r.text
    if kind == "telegram":
        assert len(telegram_visible(r.html).encode("utf-16-le")) // 2 < TELEGRAM_MAX
        assert r.html.count("<i>") == 1  # the snippet still fits (shortened) under the copies
