"""Issue 15 kind 4 delivered: an alert listing many copies, each with its link, reaches the fake
Telegram Bot API (which refuses text over 4,096 characters and bad HTML) and a strict SMTP
server (998-octet lines) through the real apprise. The copy list is bounded ("and N more").

Rebuilt from ix-ai/alertmanager-notifier#6 (26 alerts summarised in one Telegram message:
"Message is too long") and thp/urlwatch#702 (Exim: "maximum allowed line length is 998 octets").
"""

from __future__ import annotations

import re

import pytest

from monitor.delivery import notify
from monitor.delivery.render import ALSO_SHOWN, OUTLET_MAX, l_more, render_alert
from monitor.models import Article, ChannelKind, Match, ReportedBy, TermHit
from tests.support.outbox_helpers import TOKEN
from tests.support.story_helpers import copy_group

GROUP = copy_group(4)
WORD = GROUP[0]["title"].split()[0]
ARTICLE = Article(url=GROUP[0]["url"], url_key="k", feed="F", title=GROUP[0]["title"] * 3, body="")
MATCH = Match("t", "T", (TermHit(WORD, WORD, "title", 0, 0, len(WORD)),), GROUP[0]["content"] * 4)

# (id, copies): real outlets and links of the copy group, then lists a feed could make long
CASES = {
    "the group's three copies": [ReportedBy(a["source"], a["url"]) for a in GROUP[1:]],
    "26 copies, longest outlet names": [
        ReportedBy(f"{GROUP[1]['source']} {'ن' * OUTLET_MAX}", f"{GROUP[1]['url']}&copy={i}") for i in range(26)
    ],
    "26 copies, 900-character links": [
        ReportedBy(GROUP[2]["source"], f"https://example.org/{'a' * 900}/{i}") for i in range(26)
    ],
}


def shown(copies: list[ReportedBy]) -> int:
    return min(len(copies), ALSO_SHOWN)


@pytest.mark.parametrize("copies", list(CASES.values()), ids=list(CASES))
def test_telegram_gets_each_copy_linked_within_4096(fake_telegram, copies):
    alert = render_alert(ARTICLE, MATCH, outlet=GROUP[0]["source"], channel_kind="telegram", also=copies)
    result = notify.send("tg", [f"tgram://{TOKEN}/1"], alert, kind=ChannelKind.TELEGRAM)
    assert result.ok, result.error
    [msg] = fake_telegram.messages  # one message: the copies did not push it over the limit
    hrefs = re.findall(r'href="([^"]*)"', msg.text)
    assert [h.replace("&amp;", "&") for h in hrefs[: shown(copies)]] == [c.url for c in copies[:ALSO_SHOWN]]
    more = len(copies) - shown(copies)
    assert (l_more(more) in msg.visible_text) == (more > 0)


@pytest.mark.parametrize("copies", list(CASES.values()), ids=list(CASES))
def test_email_lists_each_copy_with_its_address_in_998_octet_lines(smtp_server, copies):
    smtp_server.max_line = 998
    alert = render_alert(ARTICLE, MATCH, outlet=GROUP[0]["source"], channel_kind="email", also=copies)
    result = notify.send_one(smtp_server.apprise_url(), alert, kind=ChannelKind.EMAIL)
    assert result.ok, result.error
    [mail] = smtp_server.messages
    assert max(len(line) for line in mail.raw.split(b"\r\n")) <= 998
    body = mail.message.get_body(("html",)).get_content()
    for c in copies[:ALSO_SHOWN]:
        assert f'href="{c.url.replace("&", "&amp;")}"' in body
    assert copies[-1].url not in body or len(copies) <= ALSO_SHOWN
