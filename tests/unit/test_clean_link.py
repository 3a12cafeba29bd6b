"""The link an alert shows (issue 18 item 14): tracking parameters gone, the page still opens."""

from __future__ import annotations

import pytest

from monitor.dedup.keys import clean_link, normalize_url
from monitor.delivery.render import render_alert
from monitor.models import Article, ChannelKind, Match, TermHit


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://www.bbc.com/arabic/world-1?utm_source=rss&utm_medium=feed", "https://www.bbc.com/arabic/world-1"),
        ("https://x.example/a?id=5&fbclid=IwAR0&ocid=socialflow#comments", "https://x.example/a?id=5"),
        ("https://x.example/a?b=1&a=2&utm_campaign=x", "https://x.example/a?b=1&a=2"),  # order kept
        (
            "https://x.example/news/%D8%B1%D9%88%D8%B3%D9%8A%D8%A7",
            "https://x.example/news/%D8%B1%D9%88%D8%B3%D9%8A%D8%A7",
        ),
        ("http://x.example/a?from=rss", "http://x.example/a?from=rss"),  # ambiguous names kept
    ],
)
def test_clean_link(url, expected):
    assert clean_link(url) == expected
    assert normalize_url(clean_link(url)) == normalize_url(url)  # the same article


def test_alerts_show_the_clean_link():
    article = Article(url="https://x.example/a?id=5&utm_source=rss", url_key="k", feed="F", title="كوريا", body="كوريا")
    match = Match("t", "T", (TermHit("كوريا", "كوريا", "title", 0, 0, 5, "any"),), "كوريا")
    for kind in ChannelKind:
        rendered = render_alert(article, match, outlet="F", channel_kind=kind)
        for text in (rendered.text, rendered.html or ""):
            assert "utm_source" not in text
        assert "https://x.example/a?id=5" in rendered.text
