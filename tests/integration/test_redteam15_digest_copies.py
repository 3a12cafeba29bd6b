"""Red team of issue 15 (redteam15), promise 3: each copy's outlet WITH its link, in a digest too.

A single alert lists the copies of its article («ورد أيضاً في», each outlet linked: tests/integration/
test_stories.py). A channel with `delivery: hourly` gets one digest instead, which was rendered from
the alerted articles only (delivery/outbox.py `_render` -> `render_digest`): the copy that arrived
before the digest went out, with no alert of its own, was in no line of it. Fixed: the digest lists
each article's copies as single alerts do (the table of variants: tests/integration/
test_digest_copies.py). Articles: a real copy pair of the SaudiNewsNet excerpt
(tests/support/story_helpers.copy_group, CC BY-NC-SA 4.0).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest

from monitor.delivery.outbox import Outbox
from monitor.storage import Store
from tests.integration.test_digest_copies import save_alerted
from tests.support.outbox_helpers import TOKEN, FakeClock, make_config
from tests.support.story_helpers import copy_group, put_story_article

pytestmark = pytest.mark.integration

HELD = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
SENT = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_a_digest_lists_the_copies_with_their_links(tmp_path, fake_telegram):
    first, copy = copy_group(2)
    config = make_config(tmp_path, {"c": {"urls": f"tgram://{TOKEN}/111", "delivery": "hourly"}})
    store = Store(config.storage_url)
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    try:
        save_alerted(store, config, outbox, first, HELD)
        put_story_article(store, copy, 2, HELD)  # a copy: no alert of its own
        assert store.also_reported(1) or store.also_reported(2)  # the store knows it is a copy
        assert outbox.deliver(HELD).sent == 0  # held for the digest
        assert outbox.deliver(SENT).sent == 1
    finally:
        store.close()
    [digest] = fake_telegram.messages
    assert copy["source"] in digest.visible_text, digest.visible_text
    # the link as a single alert carries it: HTML-escaped in the attribute (& -> &amp;, Telegram decodes it)
    assert f'href="{html.escape(copy["url"])}"' in digest.text, digest.text
