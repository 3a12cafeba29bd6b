"""Red team of issue 15 (redteam15), promise 3: each copy's outlet WITH its link, in a digest too.

A single alert lists the copies of its article («ورد أيضاً في», each outlet linked: tests/integration/
test_stories.py). A channel with `delivery: hourly` gets one digest instead, rendered from the
alerted articles only (delivery/outbox.py `_render` -> `render_digest`): the copy that arrived
before the digest went out, with no alert of its own, is in no line of it. Articles: a real copy
pair of the SaudiNewsNet excerpt (tests/support/story_helpers.copy_group, CC BY-NC-SA 4.0).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.dedup import neardup, stories
from monitor.delivery.outbox import Outbox
from monitor.delivery.render import render_alert
from monitor.models import Article, Match, NewAlert, TermHit, channel_kind
from monitor.storage import Store
from monitor.storage.stories import StoryInput, StoryRules
from tests.support.outbox_helpers import TOKEN, FakeClock, make_config
from tests.support.story_helpers import copy_group

pytestmark = pytest.mark.integration

HELD = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
SENT = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def _save(store: Store, config, outbox, row: dict, *, alert: bool) -> None:
    article = Article(url=row["url"], url_key=row["url"], feed="F", title=row["title"], body=row["content"])
    story = StoryInput(
        neardup.fingerprint(neardup.article_text(article.title, article.body)),
        stories.profile(article.title, article.body),
        StoryRules(),
        echoes=stories.echoes(article.title, article.body),
    )
    match = Match("t", "T", (TermHit("x", "x", "body", 0, 0, 1, "any"),), row["content"][:200])
    alerts = []
    if alert:
        r = render_alert(article, match, outlet=row["source"], channel_kind=channel_kind(config.channels["c"]))
        alerts.append(NewAlert("t", "c", r.subject, r.text, r.html, *outbox.hold("c", "t", HELD)))
    store.save_article(
        article, guid="", outlet=row["source"], matches=[match] if alert else [], alerts=alerts, story=story, now=HELD
    )


@pytest.mark.xfail(strict=True, reason="redteam15 #11: a digest lists no copy of its alerted article")
def test_a_digest_lists_the_copies_with_their_links(tmp_path, fake_telegram):
    first, copy = copy_group(2)
    config = make_config(tmp_path, {"c": {"urls": f"tgram://{TOKEN}/111", "delivery": "hourly"}})
    store = Store(config.storage_url)
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    try:
        _save(store, config, outbox, first, alert=True)
        _save(store, config, outbox, copy, alert=False)  # a copy: no alert of its own
        assert store.also_reported(1) or store.also_reported(2)  # the store knows it is a copy
        assert outbox.deliver(HELD).sent == 0  # held for the digest
        assert outbox.deliver(SENT).sent == 1
    finally:
        store.close()
    [digest] = fake_telegram.messages
    assert copy["source"] in digest.visible_text, digest.visible_text
    assert f'href="{copy["url"]}"' in digest.text, digest.text
