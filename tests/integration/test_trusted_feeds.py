"""`trusted: true` feeds (issue 14 kind 6): a copy posted first by another source does not
silence a trusted outlet's own report. A copy group's (or per-story topic's story's) earlier
alert suppresses a trusted feed's article only when it came from a trusted feed too;
untrusted feeds are suppressed by any earlier alert, as before.

Real copy groups from the SaudiNewsNet excerpt (tests/support/story_helpers.copy_group).
"""

from __future__ import annotations

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.corpus_pages import split_paragraphs
from tests.support.story_helpers import TOKEN, Site, close, copy_group, shared_word


def _pipeline(tmp_path, store_url, web, telegram, outlets, trusted, topic) -> Pipeline:
    text = yaml.safe_dump(
        {
            "storage": store_url,
            "defaults": {"backfill": "off"},  # undated items, all new on the first poll
            "notify": {"telegram_api_url": telegram.base_url},
            "fetch": {"allow_private_networks": True},
            "feeds": [
                {"name": o, "url": web.url(f"/{o}.xml"), **({"trusted": True} if o in trusted else {})} for o in outlets
            ],
            "channels": {"telegram": f"tgram://{TOKEN}/987654"},
            "topics": [topic],
        },
        allow_unicode=True,
    )
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    return Pipeline(config, Store(config.storage_url), Fetcher.from_config(config))


# (which of the three outlets are trusted, which publish in turn, which alert)
CASES = [
    ((), (0, 1, 2), (0,)),  # nobody trusted: one alert per copy group, as before
    ((1,), (0, 1), (0, 1)),  # the trusted outlet's own report alerts after another's copy
    ((0,), (0, 1), (0,)),  # an untrusted copy after a trusted alert: suppressed
    ((0, 1), (0, 1), (0,)),  # a trusted alert suppresses another trusted feed's copy
    ((2,), (0, 1, 2), (0, 2)),  # untrusted copy suppressed, the trusted one still alerts
    ((1,), (1, 0, 2), (1,)),  # trusted first: the copies after it are suppressed
]


@pytest.mark.parametrize("per", ["per-article", "per-story"])
@pytest.mark.parametrize("trusted,order,alerting", CASES)
def test_trusted_feed_alerts_despite_an_earlier_copy(
    tmp_path, store_url, web_server, fake_telegram_unpatched, trusted, order, alerting, per
):
    group = copy_group(3)
    outlets = [a["source"] for a in group]
    telegram, site = fake_telegram_unpatched, Site(web_server, outlets)
    topic = {"id": "wire", "name": "Wire", "any": [shared_word(group)], "notify": ["telegram"], "alert": per}
    pipeline = _pipeline(tmp_path, store_url, web_server, telegram, outlets, {outlets[i] for i in trusted}, topic)
    try:
        sent_by = []
        for i in order:  # one outlet at a time; each alert is sent before the next copy comes
            site.publish(outlets[i], group[i]["title"], split_paragraphs(group[i]["content"]))
            before = len(telegram.messages)
            for feed in pipeline.config.feeds:
                assert pipeline.poll_feed(feed).ok
            pipeline.deliver(ignore_backoff=True)
            if len(telegram.messages) > before:
                [msg] = telegram.messages[before:]
                assert outlets[i] in msg.visible_text.splitlines()[0]
                sent_by.append(i)
        assert tuple(sent_by) == alerting
    finally:
        close(pipeline)
