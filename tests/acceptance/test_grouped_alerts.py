"""One article matching several topics: ONE message per chat / per mailbox naming every
matched topic (issue 18, item 12), run as a user runs `monitor once`.

The shipped topic goes to Telegram and email; a second topic (Pyongyang alone) goes to
Telegram only, a third (the same words, a different channel set: email only) to email.
Each seed report matches all three, so each must give exactly one Telegram message naming
the first two topics and one email naming the first and third, never a message per topic;
a failed grouped send is retried as one message and not sent twice.
"""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from tests.support.site import run_monitor, write_config
from tests.support.telegram import TelegramReply

SECOND = {"id": "pyongyang", "name": "أخبار بيونغ يانغ", "any": ["~بيونغ يانغ", "كوريا الشمالية"]}


def grouped_config(tmp_path, site, smtp_server, telegram, *, tg: list[str], mail: list[str]):
    web, expected = site
    config = write_config(tmp_path, web, smtp_server, telegram)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    first = data["topics"][0]
    data["topics"] = [
        first,
        {**SECOND, "notify": tg, "min_score": 1},
        {**SECOND, "id": "dprk-mail", "name": "كوريا الشمالية بالبريد", "notify": mail, "min_score": 1},
    ]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config, expected, first["name"]


def alert_rows(config) -> list[tuple[str, str, str]]:
    with sqlite3.connect(config.parent / "state" / "monitor.db") as db:
        return db.execute("select topic_id, channel, status from alerts order by id").fetchall()


@pytest.mark.parametrize(
    ("tg", "mail", "tg_topics", "mail_topics"),
    [
        # fedora-infra/fmn#792 (rules with a destination in common): the second topic shares
        # Telegram, the third shares email
        (["telegram"], ["email"], (0, 1), (0, 2)),
        # the second topic on both channels: both messages name the first two topics (and email the third)
        (["telegram", "email"], ["email"], (0, 1), (0, 1, 2)),
    ],
)
def test_one_message_per_chat_and_mailbox_naming_every_topic(
    tmp_path, site, smtp_server, fake_telegram_unpatched, tg, mail, tg_topics, mail_topics
):
    telegram = fake_telegram_unpatched
    config, expected, first_name = grouped_config(tmp_path, site, smtp_server, telegram, tg=tg, mail=mail)
    names = [first_name, SECOND["name"], "كوريا الشمالية بالبريد"]
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    # one Telegram message and one email per article, not one per topic
    assert sorted(u for m in telegram.messages for u in expected if u in m.text) == sorted(expected)
    assert len(telegram.messages) == len(expected), [m.visible_text[:120] for m in telegram.messages]
    assert len(smtp_server.messages) == len(expected)
    for message in telegram.messages:
        for i, name in enumerate(names):
            assert (name in message.visible_text) == (i in tg_topics), (name, message.visible_text[:300])
    for mail_msg in smtp_server.messages:
        body = mail_msg.message.get_body(("html",)).get_content()
        for i, name in enumerate(names):
            assert (name in body) == (i in mail_topics), (name, body[:300])
    rows = alert_rows(config)  # the ledger keeps one row per (article, topic, channel), all sent
    assert len(rows) == len(expected) * (len(tg_topics) + len(mail_topics))
    assert {status for *_, status in rows} == {"sent"}
    again = run_monitor(config, "once")
    assert again.returncode == 0, again.stderr
    assert len(telegram.messages) == len(expected) and len(smtp_server.messages) == len(expected)


def test_a_failed_grouped_message_is_retried_once_as_one(tmp_path, site, smtp_server, fake_telegram_unpatched):
    telegram = fake_telegram_unpatched
    config, expected, first_name = grouped_config(
        tmp_path, site, smtp_server, telegram, tg=["telegram"], mail=["email"]
    )
    telegram.queue(*[TelegramReply.error(502, "Bad Gateway")] * len(expected))  # Telegram down for the first pass
    first = run_monitor(config, "once")
    assert first.returncode == 0, first.stderr
    assert len(telegram.messages) == 0 and len(smtp_server.messages) == len(expected)
    assert f"retrying={2 * len(expected)}" in first.stdout  # both topics' rows wait, together
    second = run_monitor(config, "once")
    assert second.returncode == 0, second.stderr
    assert len(telegram.messages) == len(expected)  # one grouped message each, not one per topic
    assert all(first_name in m.visible_text and SECOND["name"] in m.visible_text for m in telegram.messages)
    assert {status for *_, status in alert_rows(config)} == {"sent"}
