"""Helpers for near-duplicate and story tests: the SaudiNewsNet excerpt, exact shingle
sets (ground truth independent of monitor.dedup's hashing), rows put straight into a
Store with their story input, real copy groups, and a Site of per-outlet feeds.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from monitor.dedup import neardup, stories
from monitor.models import Article
from monitor.pipeline import Pipeline
from monitor.storage import Store
from monitor.storage.stories import FEED_TEXT_SOURCES, StoryInput, StoryRules
from tests.support.corpus_pages import DAYS, article_page, saudinewsnet_articles, seed_reports
from tests.support.web import Response, WebServer

T0 = datetime(2015, 7, 21, 8, 0, tzinfo=UTC)


def corpus() -> list[dict]:
    return [a for d in DAYS for a in saudinewsnet_articles(d)]


def shingle_set(text: str) -> set[tuple[str, ...]]:
    w = neardup.words(text)
    return {tuple(w[i : i + 3]) for i in range(max(1, len(w) - 2))}


def put_story_article(
    store: Store, art: dict, i: int, now: datetime, rules: StoryRules | None = None, *, matches=(), alerts=()
):
    """Save corpus article `art` (made unique by `i`) with its story input at `now` (with
    `matches` and their `alerts`, if given: none by default). `art["text_source"]` in
    FEED_TEXT_SOURCES ("summary", "interstitial"): its text is a feed summary (as the pipeline marks
    an item whose page could not be read or was a wall)."""
    rules = rules or StoryRules()
    a = Article(
        url=art["url"], url_key=f"{art['url']}#{i}", feed=art["source"], title=art["title"], body=art["content"]
    )
    inp = StoryInput(
        neardup.fingerprint(neardup.article_text(a.title, a.body)),
        stories.profile(a.title, a.body),
        rules,
        echoes=stories.echoes(a.title, a.body),
        head=stories.head(a.title, a.body),
        words=len(a.body.split()) if art.get("text_source") in FEED_TEXT_SOURCES else None,
    )
    return store.save_article(
        a, guid="", outlet=art["source"], matches=list(matches), alerts=list(alerts), story=inp, now=now
    )


def story_members(store: Store) -> dict[int, tuple[int, int | None]]:
    """article id -> (story id, copy_of)."""
    return {
        a.article_id: (s.id, a.copy_of)
        for s in store.stories(T0 - timedelta(days=30), limit=10_000)
        for a in s.articles
    }


TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"


def seed_articles() -> list[dict]:
    """The three seed reports as corpus-style dicts (source, url, title, content)."""
    return [
        {
            "source": s.outlet,
            "url": f"https://seed.invalid/{s.name}",
            "title": s.title,
            "content": "\n\n".join(s.body_paragraphs),
        }
        for s in seed_reports()
    ]


def copy_group(size: int) -> list[dict]:
    """`size` real articles from different outlets, each a copy (Jaccard >= 0.6) of every other."""
    arts = corpus()
    sets = [shingle_set(a["content"]) for a in arts]

    def jac(i, j):
        return len(sets[i] & sets[j]) / len(sets[i] | sets[j])

    for i in range(len(arts)):
        group = [i]
        for j in range(len(arts)):
            if all(arts[j]["source"] != arts[k]["source"] and jac(j, k) >= 0.6 for k in group):
                group.append(j)
            if len(group) == size:
                return [arts[k] for k in group]
    raise AssertionError("fixture excerpt has no such copy group")


def shared_word(arts: list[dict]) -> str:
    """A long title word every article's body uses (a topic term that matches them all)."""
    for word in sorted(arts[0]["title"].split(), key=len, reverse=True):
        if len(word) >= 4 and all(word in a["content"] for a in arts):
            return word
    raise AssertionError("no shared title word")


def rss(items: list[tuple[str, str]]) -> bytes:
    """RSS 2.0 from (title, url) items; the url is also the guid."""
    body = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid></item>"
        for t, u in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
        f"<link>http://example.invalid/</link><description>x</description>{body}</channel></rss>"
    ).encode()


class Site:
    """Feeds (one per outlet) and pages served by a WebServer."""

    def __init__(self, web: WebServer, outlets: list[str]) -> None:
        self.web = web
        self.items: dict[str, list[tuple[str, str]]] = {}
        for outlet in outlets:  # empty until the outlet publishes
            web.routes[f"/{outlet}.xml"] = Response(200, rss([]), {"Content-Type": "application/rss+xml"})

    def publish(self, outlet: str, title: str, paragraphs: list[str], page: str | None = None) -> str:
        """Serve the article page (built from `paragraphs` unless `page` is given), add it to
        `outlet`'s feed, return its URL."""
        path = f"/{outlet}/{len(self.items.get(outlet, []))}.html"
        url = self.web.url(path)
        page = page or article_page(title, paragraphs, outlet=outlet, url=url)
        self.web.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
        self.items.setdefault(outlet, []).append((title, url))
        self.web.routes[f"/{outlet}.xml"] = Response(
            200, rss(self.items[outlet]), {"Content-Type": "application/rss+xml"}
        )
        return url


def close(pipeline: Pipeline) -> None:
    """Close the pipeline's fetcher and store."""
    pipeline.fetcher.close()
    pipeline.store.close()
