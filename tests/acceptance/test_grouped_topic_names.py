"""Issue 18 (red team 18): a grouped message (one article, several topics, one chat) names
every topic, also with names of ~100 characters, on Telegram and in email."""

from __future__ import annotations

from tests.acceptance.test_once_rate_limit import edit
from tests.support.site import run_monitor, write_config

SECOND = {"any": ["~بيونغ يانغ", "كوريا الشمالية"], "min_score": 1}


def test_grouped_message_names_every_topic_even_with_long_names(tmp_path, site, smtp_server, fake_telegram_unpatched):
    """Four topics on one chat, names of ~100 characters (the shipped topic's real name twice):
    the joined topic line was cut at 200 characters, so the 3rd and 4th topics were not named."""
    telegram = fake_telegram_unpatched
    web, expected = site
    config = write_config(tmp_path, web, smtp_server, telegram)

    def four_topics(data):
        first = data["topics"][0]
        base = first["name"]
        data["topics"] = [{**first, "id": "t0", "name": f"{base} (0)", "notify": ["telegram", "email"]}] + [
            {**SECOND, "id": f"t{i}", "name": f"{base} {base} ({i})", "notify": ["telegram", "email"]}
            for i in range(1, 4)
        ]

    edit(config, four_topics)
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert len(telegram.messages) == len(expected)
    missing = [
        (i, m.visible_text.splitlines()[2][:400])
        for m in telegram.messages
        for i in range(4)
        if f"({i})" not in m.visible_text
    ]
    assert missing == []
    mails = [mail.message.get_body(("plain",)).get_content() for mail in smtp_server.messages]
    assert [i for body in mails for i in range(4) if f"({i})" not in body] == []
