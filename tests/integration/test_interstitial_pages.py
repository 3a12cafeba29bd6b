"""Issue 12 loss 5: an outlet answering its article URLs with one interstitial page (consent
wall, bot challenge, "enable JavaScript", paywall stub, a consent redirect, one story on every
URL). The real pipeline on SQLite against a loopback server: each item is matched on the
feed's text and alerts, none is a copy of another, the feed carries a warning and each
item's ledger reason says why. Walls: tests/support/walls.py; text: SaudiNewsNet.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from sqlalchemy import select

from monitor.config.load import parse_config
from monitor.dedup import neardup
from monitor.extract import interstitial
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from monitor.storage.schema import articles, story_articles
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.walls import WALLS, consent_wall_en
from tests.support.web import Response

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
TERM = "السعودية"


def _distinct(arts: list[dict], n: int) -> list[dict]:
    """The first `n` articles whose teasers are no copies of each other (the excerpt holds wire copies)."""
    kept: list[dict] = []
    for a in arts:
        fp = neardup.fingerprint(a["content"][:600])
        if all(neardup.jaccard(fp.shingles, neardup.fingerprint(k["content"][:600]).shingles) < 0.2 for k in kept):
            kept.append(a)
    return kept[:n]


ARTS = _distinct([a for d in ("2015-07-22", "2015-07-23") for a in saudinewsnet_articles(d) if TERM in a["title"]], 4)


@pytest.fixture
def run(tmp_path, web_server):
    opened = []

    def poll(pages: dict):
        """Serve the feed (items = ARTS with their first 600 characters as teaser) and `pages`."""
        web_server.routes.update(pages)
        items = [
            {
                "title": a["title"],
                "link": web_server.url(f"/a/{i}.html"),
                "guid": f"g{i}",
                "description": a["content"][:600],
            }
            for i, a in enumerate(ARTS)
        ]
        web_server.routes["/w.xml"] = Response(200, rss(items), RSS)
        cfg = parse_config(
            yaml.safe_dump(
                {
                    "storage": f"sqlite:///{tmp_path / 'm.db'}",
                    "defaults": {"interval": "10m", "timeout": "5s", "backfill": "off"},  # corpus dates (2015)
                    "fetch": {"allow_private_networks": True},
                    "feeds": [{"name": "w", "url": web_server.url("/w.xml")}],
                    "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                    "topics": [{"id": "t", "name": "T", "any": [TERM], "notify": ["mail"]}],
                },
                allow_unicode=True,
            ),
            path=tmp_path / "config.yaml",
            env={},
        )
        store, fetcher = Store(cfg.storage_url), Fetcher.from_config(cfg)
        opened.append((store, fetcher))
        report = Pipeline(cfg, store, fetcher).poll_feed(cfg.feeds[0], force=True, now=T0)
        return report, store

    yield poll
    for store, fetcher in opened:
        fetcher.close()
        store.close()


def _every_url(html: str) -> dict:
    return {f"/a/{i}.html": Response(200, html.encode(), HTML) for i in range(len(ARTS))}


def _assert_fell_back(report, store, n_walls: int) -> None:
    assert report.ok and report.new == len(ARTS)
    assert f"{n_walls} page(s) were consent, challenge, JavaScript or paywall walls" in report.warning
    rows = store.feed_items("w", limit=20)
    assert sorted(r.state for r in rows) == ["alerted"] * len(ARTS), [(r.state, r.reason) for r in rows]
    walled = [r for r in rows if "its page was a" in r.reason]
    assert len(walled) == n_walls
    with store.tx() as conn:
        sources = conn.execute(select(articles.c.text_source)).scalars().all()
        copies = conn.execute(select(story_articles.c.copy_of).where(story_articles.c.copy_of.is_not(None))).all()
    assert sorted(sources).count("interstitial") == n_walls
    assert copies == []


def test_the_fixture_holds_four_articles():
    assert len(ARTS) == 4 and len({a["title"] for a in ARTS}) == 4


@pytest.mark.parametrize("name", sorted(WALLS))
def test_an_outlet_answering_every_url_with_one_wall(run, name):
    _, build = WALLS[name]
    art = saudinewsnet_articles("2015-07-21")[5]  # a paywall stub's teaser: another article's lead
    report, store = run(_every_url(build(art["title"], split_paragraphs(art["content"])[0])))
    _assert_fell_back(report, store, len(ARTS))


def test_redirects_to_a_consent_page(run, web_server):
    pages = {
        f"/a/{i}.html": Response(302, b"", {"Location": web_server.url(f"/consent?continue=/a/{i}.html")})
        for i in range(len(ARTS))
    }
    pages["/consent"] = Response(200, consent_wall_en().encode(), HTML)
    report, store = run(pages)
    _assert_fell_back(report, store, len(ARTS))
    with store.tx() as conn:
        urls = conn.execute(select(articles.c.url)).scalars().all()
    assert all("/consent" not in u for u in urls)  # each article keeps its own URL


def test_one_story_on_every_url_is_not_every_article(run):
    """A host answering every article URL with its home page story: unrelated to each
    headline, and the same body on different URLs; never four copies of one article."""
    other = saudinewsnet_articles("2015-07-23")[7]
    page = article_page(other["title"], split_paragraphs(other["content"]), outlet="x", url="http://x/")
    report, store = run(_every_url(page))
    rows = store.feed_items("w", limit=20)
    first, rest = rows[-1], rows[:-1]
    # KNOWN WEAK SPOT: the first URL's page passes for its article (the headline shares a word
    # with it, so it is not "unrelated"); it is stored and matched as such. Only from the
    # second URL on does the body repeat. Never are they copies of each other.
    assert "its page was a" not in first.reason and first.state in ("alerted", "matched_nothing")
    assert [r.state for r in rest] == ["alerted"] * len(rest)
    assert all("its page was a" in r.reason for r in rest)
    with store.tx() as conn:
        assert conn.execute(select(story_articles.c.copy_of).where(story_articles.c.copy_of.is_not(None))).all() == []


def test_real_pages_are_read_as_pages(run):
    pages = {
        f"/a/{i}.html": Response(
            200, article_page(a["title"], split_paragraphs(a["content"]), outlet="x", url="http://x/").encode(), HTML
        )
        for i, a in enumerate(ARTS)
    }
    report, store = run(pages)
    assert report.ok and "walls" not in report.warning
    with store.tx() as conn:
        assert conn.execute(select(articles.c.text_source)).scalars().all() == ["page"] * len(ARTS)


def test_without_detection_the_wall_hides_the_stories(run, monkeypatch):
    """The loss as it was: the wall is stored as each body and the later articles are copies."""
    monkeypatch.setattr(interstitial, "MAX_WALL_WORDS", -1)
    monkeypatch.setattr(interstitial, "TEASER_WORDS", -1)
    monkeypatch.setattr(interstitial, "_FOLDED_TITLES", {})
    monkeypatch.setattr(interstitial.HostMemory, "check", lambda *a: None)
    monkeypatch.setattr(interstitial, "unrelated", lambda *a: False)
    report, store = run(_every_url(consent_wall_en()))
    states = sorted(r.state for r in store.feed_items("w", limit=20))
    assert states != ["alerted"] * len(ARTS)
    assert "copy" in states or "matched_nothing" in states
