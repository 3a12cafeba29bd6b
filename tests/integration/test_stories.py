"""Stories and one alert per story: the seed reports, real cross-outlet copies, real servers.

The pipeline runs in-process against a WebServer on 127.0.0.1 (feeds and
pages), the fake Telegram Bot API that apprise really calls, and a real
SQLite file; the clustering test also runs on PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.delivery.render import L_ALSO
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from tests.support.corpus_pages import seed_page, seed_reports, split_paragraphs
from tests.support.site import run_monitor
from tests.support.story_helpers import (
    T0,
    TOKEN,
    Site,
    close,
    copy_group,
    corpus,
    put_story_article,
    seed_articles,
    shared_word,
    story_members,
)


def korea_russia_noise() -> list[dict]:
    """Real 2015 articles on North Korea, Russia or Putin: same words, other developments."""
    words = ("كوريا", "روسيا", "بوتين", "موسكو", "بيونغ")
    return [a for a in corpus() if any(w in a["title"] + a["content"][:600] for w in words)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_seed_reports_form_one_story_in_any_order(tmp_path, order):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    seeds, noise = seed_articles(), korea_russia_noise()
    assert len(noise) >= 10
    try:
        ids = []
        stream = noise[: len(noise) // 2] + [seeds[k] for k in order] + noise[len(noise) // 2 :]
        for n, art in enumerate(stream):
            aid = put_story_article(store, art, n, T0 + timedelta(minutes=n))
            if art in seeds:
                ids.append(aid)
        members = story_members(store)
    finally:
        store.close()
    seed_stories = {members[i][0] for i in ids}
    assert len(seed_stories) == 1  # three outlets, one story
    assert all(members[i][1] is None for i in ids)  # told differently: not copies
    joined = [aid for aid, (sid, _) in members.items() if sid in seed_stories and aid not in ids]
    assert joined == []  # no 2015 Korea/Russia news joins it


def test_story_clustering_on_postgresql_too(store_url):
    store = Store(store_url)
    try:
        ids = [put_story_article(store, art, n, T0 + timedelta(hours=n)) for n, art in enumerate(seed_articles())]
        members = story_members(store)
        (story,) = store.stories(T0, limit=5)
    finally:
        store.close()
    assert len({members[i][0] for i in ids}) == 1
    assert len(story.outlets) == 3 and story.title == seed_articles()[0]["title"]


def test_story_window_closes_stories(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    seeds = seed_articles()
    try:
        a = put_story_article(store, seeds[0], 0, T0)
        b = put_story_article(store, seeds[2], 2, T0 + timedelta(days=4))  # default story window: 3 days
        members = story_members(store)
    finally:
        store.close()
    assert members[a][0] != members[b][0]


# ---- the pipeline: one alert per copy group / per story -------------------------
def make_pipeline(tmp_path, web, telegram, outlets, topics) -> Pipeline:
    text = yaml.safe_dump(
        {
            "storage": f"sqlite:///{tmp_path / 'monitor.db'}",
            "defaults": {"backfill": "off"},  # undated items, all new on the first poll
            "notify": {"telegram_api_url": telegram.base_url},
            "fetch": {"allow_private_networks": True},  # the test servers listen on 127.0.0.1
            "feeds": [{"name": o, "url": web.url(f"/{o}.xml")} for o in outlets],
            "channels": {"telegram": f"tgram://{TOKEN}/987654"},
            "topics": topics,
        },
        allow_unicode=True,
    )
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    config = parse_config(text, path=tmp_path / "config.yaml", env={})
    return Pipeline(config, Store(config.storage_url), Fetcher.from_config(config))


def run_once(pipeline: Pipeline) -> None:
    for feed in pipeline.config.feeds:
        assert pipeline.poll_feed(feed).ok
    pipeline.deliver(ignore_backoff=True)


def test_copies_make_one_alert_with_the_other_outlets(tmp_path, web_server, fake_telegram_unpatched):
    group = copy_group(4)
    outlets = [a["source"] for a in group]
    telegram, site = fake_telegram_unpatched, Site(web_server, outlets)
    topic = {"id": "wire", "name": "Wire story", "any": [shared_word(group)], "notify": ["telegram"]}
    for art in group[:2]:  # two outlets publish before the alert goes out
        site.publish(art["source"], art["title"], split_paragraphs(art["content"]))
    pipeline = make_pipeline(tmp_path, web_server, telegram, outlets, [topic])
    try:
        run_once(pipeline)
        assert len(telegram.messages) == 1, [m.visible_text[:120] for m in telegram.messages]
        shown = telegram.messages[0].visible_text
        assert L_ALSO in shown and (outlets[0] in shown and outlets[1] in shown)

        # A third outlet's copy after the alert was sent: no new alert, the story records it.
        site.publish(group[2]["source"], group[2]["title"], split_paragraphs(group[2]["content"]))
        run_once(pipeline)
        assert len(telegram.messages) == 1
    finally:
        close(pipeline)

    # After a restart the index is still there: a fourth copy alerts nobody either.
    site.publish(group[3]["source"], group[3]["title"], split_paragraphs(group[3]["content"]))
    pipeline = make_pipeline(tmp_path, web_server, telegram, outlets, [topic])
    try:
        run_once(pipeline)
        assert len(telegram.messages) == 1
        (story,) = pipeline.store.stories(T0, topic="wire")
    finally:
        close(pipeline)
    assert sorted(story.outlets) == sorted(outlets)
    assert sum(a.copy_of is not None for a in story.articles) == 3


def test_per_story_topic_alerts_once_per_story(tmp_path, web_server, fake_telegram_unpatched):
    telegram, site = fake_telegram_unpatched, Site(web_server, [])
    seeds = seed_reports()
    rule = {
        "all": [["روسيا", "موسكو", "بوتين"], ["كوريا الشمالية", "بيونغ يانغ", "بيونج يانج"]],
        "notify": ["telegram"],
    }
    topics = [
        {"id": "per-story", "name": "Treaty (story)", "alert": "per-story", **rule},
        {"id": "per-article", "name": "Treaty (articles)", **rule},
    ]
    for i, seed in enumerate(seeds):
        site.publish(f"outlet{i}", seed.title, (), page=seed_page(seed, style=i))
    pipeline = make_pipeline(tmp_path, web_server, telegram, [f"outlet{i}" for i in range(3)], topics)
    try:
        run_once(pipeline)
        (story,) = pipeline.store.stories(T0, topic="per-story")
    finally:
        close(pipeline)
    per_story = [m for m in telegram.messages if "Treaty (story)" in m.visible_text]
    per_article = [m for m in telegram.messages if "Treaty (articles)" in m.visible_text]
    assert len(per_article) == 3 and len(per_story) == 1
    # the first article matched both topics: ONE message names both (issue 18, item 12)
    assert len(telegram.messages) == 3 and per_story[0] in per_article
    assert L_ALSO in per_story[0].visible_text  # the story's other two outlets are listed
    # the later articles' per-article alerts: not copies of each other, so no "also reported by"
    assert all(L_ALSO not in m.visible_text for m in per_article if m is not per_story[0])
    assert len(story.articles) == 3

    # `monitor stories` as a user runs it
    out = run_monitor(tmp_path / "config.yaml", "stories", "--topic", "per-story")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("\nstory ") + out.stdout.startswith("story ") == 1
    assert all(f"[outlet{i}]" in out.stdout for i in range(3)) and seeds[0].title in out.stdout
    assert run_monitor(tmp_path / "config.yaml", "stories", "--topic", "nope").returncode == 2
