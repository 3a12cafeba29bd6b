"""The installed apprise delivers our neutralised links intact (issue 14 kind 5): Telegram
(fake Bot API) receives an href with no quote in it, the homograph host as punycode, no
userinfo, and the same host in the visible text. apprise 1.9.3-2.0.x broke an href holding
``"``; pyproject pins the range tested here."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from monitor.delivery import notify
from monitor.delivery.render import render_alert
from monitor.models import Article, Match, TermHit
from tests.support.outbox_helpers import TOKEN, corpus

ROW = next(r for r in corpus() if "كوريا" in r["title"])


@pytest.mark.parametrize(
    "url,href",
    [
        ('https://example.org/a"b?q="x"&r=1', "https://example.org/a%22b?q=%22x%22&r=1"),
        ("https://www.bbc.com@аррӏе.com/news", "https://xn--80ak6aa92e.com/news"),
        ("https://user:pw@example.org/a?x=<y>", "https://example.org/a?x=%3Cy%3E"),
        ("https://example.org/\u200f\u00ad\U000e0041a.html", "https://example.org/a.html"),
    ],
)
def test_telegram_receives_the_neutralised_link(fake_telegram, url, href):
    article = Article(url=url, url_key="k", feed="F", title=ROW["title"] + "\u200e\u00ad", body=ROW["content"])
    match = Match("t", "كوريا", (TermHit("كوريا", "كوريا", "title", 0, 0, 5, "any"),), ROW["content"][:200])
    alert = render_alert(article, match, outlet="O", channel_kind="telegram")
    result = notify.send("tg", [f"tgram://{TOKEN}/1"], alert, kind="telegram")
    assert result.ok, result.error
    [msg] = fake_telegram.messages
    hrefs = re.findall(r'href="([^"]*)"', msg.text)
    assert hrefs and all(h.replace("&amp;", "&") == href for h in hrefs), (msg.text, version("apprise"))
    assert href.split("/")[2] in msg.visible_text  # the real host is shown
    assert "\u200e" not in msg.text and "\u00ad" not in msg.text
