"""monitor.delivery.render through apprise to the fake Bot API: a huge snippet is cut to fit
Telegram and the real API accepts it. The pure render tests are in tests/unit/test_render.py.
"""

from __future__ import annotations

import html
import re

import apprise
import pytest

from monitor.delivery.render import (
    RLM,
    TELEGRAM_MAX,
    render_alert,
    utf16_len,
)
from monitor.models import Match
from tests.support.render_helpers import (
    ARTICLES,
    ENTITY_OK,
    KOREA,
    article_of,
    html_lines,
    match_for,
)
from tests.support.telegram import check_telegram_html

TG_URL = "tgram://123456:ABCDEF/987654"


def _long_snippet(prefix: str) -> str:
    """>20,000 chars of real article text, with markup-like characters,
    astral-plane characters (2 UTF-16 units each) and long runs."""
    words: list[str] = []
    for row in ARTICLES:
        words.extend(row["content"].split())
        if sum(map(len, words)) > 25_000:
            break
    pieces = []
    for i, word in enumerate(words):
        pieces.append(word)
        if i % 7 == 0:
            pieces.append("&")
        if i % 11 == 0:
            pieces.append("<x>")
        if i % 13 == 0:
            pieces.append("😀")
    text = prefix + " ".join(pieces)
    assert len(text) >= 20_000
    return text


@pytest.mark.parametrize("prefix", ["", "&", "&&", "<<", "😀", "a&b "])
def test_huge_snippet_is_cut_to_fit_telegram(prefix, fake_telegram):
    match = match_for(KOREA, "كوريا")
    match = Match(match.topic_id, match.topic_name, match.hits, _long_snippet(prefix))
    alert = render_alert(article_of(KOREA), match, outlet="الاقتصادية", channel_kind="telegram")

    error, visible = check_telegram_html(alert.html)
    assert error is None, error
    # Telegram counts UTF-16 code units, CRLF (apprise) included
    assert utf16_len(visible.replace("\n", "\r\n")) <= TELEGRAM_MAX
    assert utf16_len(visible) > 3000  # the room was used
    assert all(ENTITY_OK.match(alert.html, m.start()) for m in re.finditer("&", alert.html))
    snippet_line = next(l for l in html_lines(alert.html) if l.startswith(RLM + "<i>"))
    assert snippet_line.endswith("…</i>")
    cut = html.unescape(snippet_line[len(RLM + "<i>") : -len("…</i>")])
    assert match.snippet.startswith(cut)
    assert match.snippet[len(cut)] == " "  # cut at a word boundary
    # the URL and header survived
    assert KOREA["url"] in visible and "99.97" in visible

    obj = apprise.Apprise()
    assert obj.add(TG_URL)
    assert obj.notify(body=alert.html, body_format=apprise.NotifyFormat.HTML)
    [msg] = fake_telegram.messages
    assert msg.parse_mode == "HTML"
    assert utf16_len(msg.visible_text) <= TELEGRAM_MAX
