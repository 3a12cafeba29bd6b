"""Sample rows for store tests: one article with one match and alerts to two channels.

All text is the fixed Arabic sample below; nothing depends on the corpus.
"""

from __future__ import annotations

from monitor.models import Article, Match, NewAlert, TermHit
from monitor.storage import Store


def sample_article(key="https://ex.com/a/1", *, feed="f1", published=None, body="نص المقال") -> Article:
    return Article(url=key, url_key=key, feed=feed, title="عنوان", body=body, published=published)


def sample_match(topic="t1") -> Match:
    hit = TermHit(term="غزة", matched="غزّة", field="body", token=3, start=10, end=14, group="any")
    return Match(topic_id=topic, topic_name=topic.upper(), hits=(hit,), snippet="… غزّة …")


def sample_alerts(topic="t1", channels=("tg", "mail")) -> list[NewAlert]:
    return [NewAlert(topic, ch, f"subj {ch}", "text", "<b>html</b>") for ch in channels]


def save_sample(store: Store, key="https://ex.com/a/1", guid="g1", **kw):
    return store.save_article(
        sample_article(key, **kw), guid=guid, outlet="Outlet", matches=[sample_match()], alerts=sample_alerts()
    )
