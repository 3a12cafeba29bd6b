"""Issue 12 loss 5: interstitial pages (consent walls, bot challenges, "enable JavaScript",
paywall stubs) are told from articles; real article pages, cookie banner included, are not.

Wall pages: tests/support/walls.py (each kind after a public report); article text:
SaudiNewsNet (tests/fixtures/README.md).
"""

from __future__ import annotations

import pytest

from monitor.errors import ExtractError
from monitor.extract.article import extract
from monitor.extract.interstitial import HostMemory, Interstitial, consent_redirect, detect, different_headlines
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.walls import WALLS

pytestmark = pytest.mark.unit

ARTS = saudinewsnet_articles("2015-07-21") + saudinewsnet_articles("2015-07-22")


def examine(html: str, url: str, item_title: str) -> Interstitial | None:
    """What the pipeline asks: detect on the extracted text, or on the raw page when the
    extractor found no article in it."""
    try:
        text = extract(html, url)
    except ExtractError:
        return detect(html, url=url, item_title=item_title, body=None)
    return detect(html, url=url, item_title=item_title, page_title=text.title, body=text.body)


@pytest.mark.parametrize("name", sorted(WALLS))
def test_every_kind_of_wall_is_told_from_an_article(name):
    kind, build = WALLS[name]
    art = ARTS[3]
    first = split_paragraphs(art["content"])[0]
    found = examine(build(art["title"], first), "https://www.example.com/a/1", art["title"])
    assert found is not None, name
    assert found.kind == kind, found


@pytest.mark.parametrize("day", ["2015-07-21", "2015-07-22", "2015-07-23"])
def test_real_articles_are_not_walls(day):
    """Every fixture article (short ones included) as plain text, under its own headline."""
    arts = saudinewsnet_articles(day)
    hits = [
        (a["url"], found)
        for a in arts
        if (found := detect("", url=a["url"], item_title=a["title"], page_title=a["title"], body=a["content"]))
    ]
    assert hits == []


def test_real_article_pages_with_cookie_banners_and_cmp_scripts_are_not_walls():
    """Full pages (chrome, cookie banner) plus a CMP and a Cloudflare bot script, as real outlets serve."""
    scripts = (
        '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script><script>window.__tcfapi=1</script>'
    )
    for i, a in enumerate(ARTS[:40]):
        page = article_page(a["title"], split_paragraphs(a["content"]), outlet=a["source"], url=a["url"], style=i % 3)
        page = page.replace("</body>", scripts + "</body>")
        assert examine(page, a["url"], a["title"]) is None, a["url"]


@pytest.mark.parametrize(
    "final",
    [
        "https://consent.google.com/ml?continue=https://news.example.com/a/1&gl=DE",
        "https://guce.yahoo.com/consent?brandType=nonEu&done=https%3A%2F%2Fnews.example.com%2Fa%2F1",
        "https://consent.youtube.com/m?continue=https://www.youtube.com/watch",
        "https://cmp.example-news.com/?return=/a/1",
        "https://www.example-news.com/gdpr?redirect=/a/1",
        "https://www.example-news.com/privacy-gate/?ref=/a/1",
        "https://www.example-news.com/cookie-wall",
    ],
)
def test_redirects_to_consent_hosts_and_paths(final):
    found = consent_redirect("https://www.example-news.com/a/1", final)
    assert found is not None and found.kind == "consent" and found.signal == "redirect"


@pytest.mark.parametrize(
    "final",
    [
        "https://www.example-news.com/a/1",  # not redirected
        "https://www.example-news.com/2015/07/21/a-1",  # an ordinary move
        "https://www.example-news.com/news/consensus-on-oil",  # a word that starts like "consent"
        "https://amp.example-news.com/a/1",
    ],
)
def test_ordinary_redirects_are_not_consent(final):
    assert consent_redirect("https://www.example-news.com/a/1", final) is None


def test_the_same_body_on_other_urls_of_one_host_is_a_wall():
    mem = HostMemory(per_host=4)
    a, b, c = ARTS[0], ARTS[1], ARTS[2]
    wall = ARTS[10]["content"]  # a host answering every URL with one text (its home page story)
    assert mem.check("https://news.example.com/a/1", "news.example.com/a/1", a["title"], wall) is None
    got = mem.check("https://news.example.com/a/2", "news.example.com/a/2", b["title"], wall)
    assert got is not None and got.kind == "repeated" and got.evidence == "news.example.com/a/1"
    assert mem.check("https://news.example.com/a/3", "news.example.com/a/3", c["title"], wall) is not None
    # the same URL again, another host, and a lightly edited headline are no walls
    assert mem.check("https://news.example.com/a/1", "news.example.com/a/1", a["title"], wall) is None
    assert mem.check("https://other.example.org/x", "other.example.org/x", b["title"], wall) is None
    assert mem.check("https://news.example.com/a/9", "news.example.com/a/9", a["title"] + " (محدث)", wall) is None


def test_host_memory_is_bounded():
    mem = HostMemory(per_host=2, hosts=2)
    for i, art in enumerate(ARTS[:5]):
        mem.check(f"https://h{i % 3}.example/{i}", f"h{i % 3}.example/{i}", art["title"], art["content"])
    assert len(mem._seen) <= 2 and all(len(v) <= 2 for v in mem._seen.values())


def test_different_headlines():
    assert different_headlines(ARTS[0]["title"], ARTS[1]["title"])
    assert not different_headlines(ARTS[0]["title"], ARTS[0]["title"])
