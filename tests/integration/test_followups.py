"""Story follow-ups: a later report of an alerted story sends a short update, on Telegram
as a reply to the story's first message, by email in its thread.

Real parts: the seed reports (one story told by three outlets) served from 127.0.0.1,
the fake Bot API that our own call and apprise really talk to, aiosmtpd, and the store
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.dedup import neardup, stories
from monitor.delivery import followups
from monitor.fetch.client import Fetcher
from monitor.models import Article, NewAlert
from monitor.pipeline import Pipeline
from monitor.storage import Store
from monitor.storage.stories import StoryInput, StoryRules
from tests.support.corpus_pages import seed_page, seed_reports, split_paragraphs
from tests.support.story_helpers import T0, TOKEN, Site, close, copy_group, seed_articles, shared_word
from tests.support.telegram import TelegramReply

RULE = {"all": [["روسيا", "موسكو", "بوتين"], ["كوريا الشمالية", "بيونغ يانغ", "بيونج يانج"]]}
OUTLETS = ["outlet0", "outlet1", "outlet2"]


def make_pipeline(tmp_path, web, telegram, outlets, topics, *, storage=None, channels=None, dedup=None) -> Pipeline:
    raw = {
        "storage": storage or f"sqlite:///{tmp_path / 'monitor.db'}",
        "defaults": {"backfill": "off"},  # undated items, all new on the first poll
        "notify": {"telegram_api_url": telegram.base_url},
        "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
        "feeds": [{"name": o, "url": web.url(f"/{o}.xml")} for o in outlets],
        "channels": channels or {"telegram": f"tgram://{TOKEN}/987654"},
        "topics": topics,
    }
    if dedup:
        raw["dedup"] = dedup
    text = yaml.safe_dump(raw, allow_unicode=True)
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    return Pipeline(config, Store(config.storage_url), Fetcher.from_config(config))


def poll(pipeline: Pipeline):
    for feed in pipeline.config.feeds:
        assert pipeline.poll_feed(feed).ok
    return pipeline.deliver(ignore_backoff=True)


def topic(follow_ups: bool = True, notify=("telegram",)) -> dict:
    t = {"id": "treaty", "name": "Treaty", "alert": "per-story", "notify": list(notify), **RULE}
    return {**t, "follow_ups": True} if follow_ups else t


def publish_seed(site: Site, i: int) -> None:
    seed = seed_reports()[i]
    site.publish(OUTLETS[i], seed.title, (), page=seed_page(seed, style=i))


def test_follow_up_is_a_telegram_reply_to_the_first_alert(
    tmp_path,
    web_server,
    fake_telegram_unpatched,
    store_url,
    caplog,
):
    caplog.set_level(logging.DEBUG)
    telegram, site, seeds = fake_telegram_unpatched, Site(web_server, OUTLETS), seed_reports()
    pipeline = make_pipeline(tmp_path, web_server, telegram, OUTLETS, [topic()], storage=store_url)
    try:
        publish_seed(site, 0)
        assert poll(pipeline).sent == 1
        (first,) = telegram.messages
        assert seeds[0].title in first.visible_text and first.reply_to_message_id is None

        publish_seed(site, 1)  # another outlet, told differently: joins the story, not a copy
        assert poll(pipeline).sent == 1
        follow = telegram.messages[-1]
        assert follow.reply_to_message_id == first.message_id
        assert follow.params.get("allow_sending_without_reply") is True
        assert follow.visible_text.splitlines()[0].strip("\u200f") == f"{followups.L_UPDATE}: outlet1"
        assert seeds[1].title in follow.visible_text

        publish_seed(site, 2)  # within dedup.follow_up_gap (1h): recorded on the story only
        assert poll(pipeline).sent == 0
        (story,) = pipeline.store.stories(T0, topic="treaty")
    finally:
        close(pipeline)
    assert len(telegram.messages) == 2
    assert sorted(story.outlets) == OUTLETS and len(story.articles) == 3
    assert all(c.token == TOKEN for c in telegram.calls)
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_follow_ups_off_send_nothing_after_the_first(tmp_path, web_server, fake_telegram_unpatched):
    telegram, site = fake_telegram_unpatched, Site(web_server, OUTLETS)
    pipeline = make_pipeline(tmp_path, web_server, telegram, OUTLETS, [topic(follow_ups=False)])
    try:
        for i in range(3):
            publish_seed(site, i)
            poll(pipeline)
        (story,) = pipeline.store.stories(T0, topic="treaty")
    finally:
        close(pipeline)
    assert len(telegram.messages) == 1 and len(story.articles) == 3


def test_a_copy_makes_no_follow_up(tmp_path, web_server, fake_telegram_unpatched):
    group = copy_group(2)
    outlets = [a["source"] for a in group]
    telegram, site = fake_telegram_unpatched, Site(web_server, outlets)
    t = {
        "id": "wire",
        "name": "Wire",
        "any": [shared_word(group)],
        "alert": "per-story",
        "follow_ups": True,
        "min_score": 0,
        "notify": ["telegram"],
    }
    pipeline = make_pipeline(tmp_path, web_server, telegram, outlets, [t])
    try:
        for art in group:
            site.publish(art["source"], art["title"], split_paragraphs(art["content"]))
            poll(pipeline)
        (story,) = pipeline.store.stories(T0, topic="wire")
    finally:
        close(pipeline)
    assert len(telegram.messages) == 1
    assert sorted(story.outlets) == sorted(outlets) and story.articles[1].copy_of is not None


def test_follow_up_survives_a_flood_wait(tmp_path, web_server, fake_telegram_unpatched, caplog):
    caplog.set_level(logging.DEBUG)
    telegram, site = fake_telegram_unpatched, Site(web_server, OUTLETS)
    pipeline = make_pipeline(tmp_path, web_server, telegram, OUTLETS, [topic()])
    try:
        publish_seed(site, 0)
        poll(pipeline)
        publish_seed(site, 1)
        telegram.queue(TelegramReply.flood(retry_after=7))
        assert poll(pipeline).failed == 1
        (pending,) = pipeline.store.list_alerts("pending")
        assert "error=429" in pending.last_error and pending.reply_to is not None
        assert pending.next_attempt_at - pending.created_at >= timedelta(seconds=7)
        assert pipeline.deliver(ignore_backoff=True).sent == 1
    finally:
        close(pipeline)
    first, follow = telegram.messages
    assert follow.reply_to_message_id == first.message_id
    assert [c.status for c in telegram.calls] == [200, 429, 200]
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def test_email_follow_up_threads_on_the_first_message_id(tmp_path, web_server, fake_telegram_unpatched, smtp_server):
    site = Site(web_server, OUTLETS)
    pipeline = make_pipeline(
        tmp_path,
        web_server,
        fake_telegram_unpatched,
        OUTLETS,
        [topic(notify=["mail"])],
        channels={"mail": smtp_server.apprise_url(to="reader@example.com")},
    )
    try:
        publish_seed(site, 0)
        poll(pipeline)
        publish_seed(site, 1)
        poll(pipeline)
    finally:
        close(pipeline)
    first, follow = (m.message for m in smtp_server.messages)
    assert first["In-Reply-To"] is None
    assert follow["In-Reply-To"] == first["Message-ID"] and follow["References"] == first["Message-ID"]
    assert followups.L_UPDATE in follow["Subject"]


@pytest.mark.parametrize("later, made", [(timedelta(minutes=2), False), (timedelta(minutes=20), True)])
def test_gap_limits_follow_ups_per_story(store_url, later, made):
    """Store level, on SQLite and PostgreSQL: one follow-up per story per gap (5 min here)."""
    rules = StoryRules(follow_up_gap=timedelta(minutes=5))
    store = Store(store_url)
    times = [T0, T0 + timedelta(minutes=10), T0 + timedelta(minutes=10) + later]
    try:
        for i, (art, now) in enumerate(zip(seed_articles(), times)):
            a = Article(url=art["url"], url_key=art["url"], feed=art["source"], title=art["title"], body=art["content"])
            inp = StoryInput(
                neardup.fingerprint(neardup.article_text(a.title, a.body)), stories.profile(a.title, a.body), rules
            )
            alert = NewAlert("t", "c", f"full {i}", "x", "x", per="story", follow_up=(f"update {i}", "u", "u"))
            store.save_article(a, guid="", outlet=art["source"], matches=[], alerts=[alert], story=inp, now=now)
            for pending in store.list_alerts("pending"):
                store.mark_sent(pending.id, now)
        sent = sorted(store.list_alerts("sent"), key=lambda x: x.id)
    finally:
        store.close()
    assert [x.subject for x in sent] == ["full 0", "update 1"] + (["update 2"] if made else [])
    assert all(x.reply_to == sent[0].id for x in sent[1:])


@pytest.mark.parametrize(
    "reply, permanent, retry_after",
    [
        (TelegramReply.flood(retry_after=9), False, 9.0),
        (TelegramReply.chat_not_found(), True, None),
        (TelegramReply.unauthorized(), True, None),
        (TelegramReply.forbidden(), True, None),
        (TelegramReply.error(500, "Internal Server Error"), False, None),
        (TelegramReply.drop_connection(), False, None),
    ],
)
def test_direct_send_classifies_failures_like_apprise_sends(fake_telegram_unpatched, reply, permanent, retry_after):
    from monitor.delivery import telegram as telegram_api

    url = f"tgram://{TOKEN}/987654"
    fake_telegram_unpatched.queue(reply)
    result = telegram_api.send(url, "<b>x</b>", api_url=fake_telegram_unpatched.base_url)
    assert not result.ok and result.permanent is permanent and result.retry_after == retry_after
    assert TOKEN not in result.error and TOKEN.split(":")[1] not in result.error
    ok = telegram_api.send(url, "<b>x</b>", api_url=fake_telegram_unpatched.api_url, reply_to=41)
    assert ok.ok and ok.message_id == fake_telegram_unpatched.messages[-1].message_id
    assert fake_telegram_unpatched.messages[-1].reply_to_message_id == 41
