"""Alert text and links fully neutralised (issue 14 kind 5): every invisible format
character dropped from feed text, links limited to http(s) with userinfo removed, homograph
hosts shown as punycode, a bidi mark in a host refused, quotes never inside an href.

Public reports of the kind, rebuilt as variants below: mastodon/mastodon#3833 (the all-Cyrillic
``аррӏе.com`` shown as apple.com), SimpleMachines/SMF#7095 (IDN homograph links in posts),
ungoogled-chromium#370 (``myẹtḣerwallet.com``-style mixed-script labels), and the Trojan-Source
style bidi/tag characters (RLO, LRM, Unicode tags) hidden in headlines.
"""

from __future__ import annotations

import pytest

from monitor.delivery.links import link_url, shown_host, strip_format
from monitor.delivery.render import clean, render_alert
from monitor.models import Article, Match, TermHit

# Real headline from the corpus (tests/fixtures/saudinewsnet), used as carrier text.
HEADLINE = "روسيا وكوريا الشمالية توقعان معاهدة"


@pytest.mark.parametrize(
    "hidden",
    [
        "\u200e",  # LRM
        "\u200f",  # RLM
        "\u061c",  # ALM
        "\u00ad",  # soft hyphen
        "\U000e0041\U000e0042\U000e007f",  # Unicode tag characters (hidden ASCII)
        "\u202e",  # RLO
        "\u2066\u2069",  # isolates
        "\u200b\u2060\ufeff",  # zero-width space, word joiner, BOM
        "\u180e",  # Mongolian vowel separator
        "\u206a",  # inhibit symmetric swapping (deprecated Cf)
        # invisible but not Cf (a red-team pass): combining grapheme joiner, Hangul fillers,
        # Khmer inherent vowel, variation selectors, Braille blank
        "\u034f",
        "\u3164\u115f",
        "\u17b4",
        "\ufe0f",
        "\U000e0100",
        "\u2800",
    ],
)
def test_format_characters_never_reach_an_alert(hidden):
    title = HEADLINE[:5] + hidden + HEADLINE[5:]
    assert strip_format(title) == HEADLINE and clean(title) == HEADLINE
    url = "https://www.example.org/news/" + hidden + "a.html"
    article = Article(url=url, url_key="k", feed="F", title=title, body="")
    match = Match("t", "T" + hidden, (TermHit("روسيا", "روسيا", "title", 0, 0, 5, "any"),), title)
    for kind in ("telegram", "email", "other"):
        alert = render_alert(article, match, outlet="O" + hidden, channel_kind=kind, also=("X" + hidden,))
        body = alert.subject + alert.text + alert.html
        body = body.replace("\u200f", "")  # the RLM our layout adds at the start of Arabic lines
        assert not any(ch in body for ch in hidden if ch != "\u200f"), (kind, body)
        assert "https://www.example.org/news/a.html" in alert.text
    # our own RLM is still there, once at the start of the Arabic line
    tg = render_alert(article, match, outlet="O", channel_kind="telegram")
    assert "\u200f<b><a href" in tg.html


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://user:pw@bank.example@evil.test/x", "https://evil.test/x"),
        ("https://www.bbc.com@127.0.0.1/a", "https://127.0.0.1/a"),
        ("http://alice@example.org:8080/p?q=1", "http://example.org:8080/p?q=1"),
        ("https://аpple.com/", "https://xn--pple-43d.com/"),  # Cyrillic а + Latin
        ("https://аррӏе.com/login", "https://xn--80ak6aa92e.com/login"),  # all Cyrillic
        ("https://www.gοogle.com/", "https://www.xn--gogle-rce.com/"),  # Greek omicron
        ("https://مثال.example/خبر", "https://مثال.example/خبر"),  # one script, not confusable: kept
        ("https://exa\u200fmple.com/", ""),  # a bidi mark in the host: no link
        ("https://example.com\u202e/", ""),
        ("https://ex\u00adample.com/", ""),  # soft hyphen in the host
        ("javascript:alert(1)", ""),
        ("data:text/html,<script>x</script>", ""),
        ("ftp://example.org/a", ""),
        ("http://[zz/", ""),
        ('https://example.org/a"onmouseover="x', "https://example.org/a%22onmouseover=%22x"),
        ("https://example.org/a?q=<b>'x'`", "https://example.org/a?q=%3Cb%3E%27x%27%60"),
        ("HTTPS://Example.COM/Path\U000e0041", "https://example.com/Path"),
        ("https://example.org/a b", "https://example.org/a%20b"),
    ],
)
def test_link_url(url, expected):
    assert link_url(url) == expected


@pytest.mark.parametrize(
    "host,shown",
    [
        ("Example.ORG", "example.org"),
        ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com"),  # punycode stays punycode
        ("ρaypal.com", "xn--aypal-2ce.com"),
        ("مثالa.com", None),  # Arabic and Latin in one label: IDNA refuses it, no link
        ("bücher.de", "bücher.de"),  # Latin with a diacritic: one script, kept
        ("pay\u2800pal.com", None),  # Braille blank: renders as nothing, no link
        ("pay\u3164pal.com", None),  # Hangul filler
    ],
)
def test_shown_host(host, shown):
    assert shown_host(host) == shown


def test_the_alert_shows_the_host_the_link_opens():
    article = Article(url="https://www.bbc.com@аррӏе.com/news", url_key="k", feed="F", title=HEADLINE, body="")
    match = Match("t", "T", (TermHit("روسيا", "روسيا", "title", 0, 0, 5, "any"),), HEADLINE)
    for kind in ("telegram", "email", "other"):
        alert = render_alert(article, match, outlet="O", channel_kind=kind)
        assert "bbc.com" not in alert.text + alert.html
        assert "https://xn--80ak6aa92e.com/news" in alert.text
        assert 'href="https://xn--80ak6aa92e.com/news"' in alert.html


def test_no_safe_link_means_no_link_but_the_alert_still_goes():
    article = Article(url="javascript:alert(1)", url_key="k", feed="F", title=HEADLINE, body="")
    match = Match("t", "T", (TermHit("روسيا", "روسيا", "title", 0, 0, 5, "any"),), HEADLINE)
    alert = render_alert(article, match, outlet="O", channel_kind="telegram")
    assert "href" not in alert.html and "javascript" not in alert.text + alert.html and HEADLINE in alert.html
