"""Telegram link previews: one choice per channel (`link_preview: off|on|below|above`), the
same on single alerts, grouped alerts and digests (issue 18, item 14), and links that are the
readers' URL (utm_* and the fragment dropped) in all three. Run as a user runs `monitor once`
against the fake Bot API; `monitor check` notes that email ignores the option.
"""

from __future__ import annotations

import sqlite3

import pytest
import yaml

from tests.support.corpus_pages import seed_page, seed_reports
from tests.support.site import rss, run_monitor, write_config
from tests.support.web import Response

TRACKED = "?utm_source=rss&utm_medium=feed&utm_campaign=ar#comments"
SECOND = {"id": "pyongyang", "name": "أخبار بيونغ يانغ", "any": ["~بيونغ يانغ", "كوريا الشمالية"], "min_score": 1}
# what each choice must send: the Bot API's link_preview_options (direct call), or apprise's
# disable_web_page_preview for `off` (apprise's tgram:// default)
EXPECTED = {
    # louislam/uptime-kuma#6335: previews on by default clutter alerts; off must really disable them
    "off": ("disable_web_page_preview", True),
    # dgtlmoon/changedetection.io#1131: a user wants the preview that apprise's default hides
    "on": ("link_preview_options", {"is_disabled": False, "show_above_text": False}),
    "below": ("link_preview_options", {"is_disabled": False, "show_above_text": False}),
    "above": ("link_preview_options", {"is_disabled": False, "show_above_text": True}),
}


def tracked_site(web) -> list[str]:
    """The seed reports, linked from an RSS feed with tracking parameters; their clean URLs."""
    items, clean = [], []
    for i, seed in enumerate(seed_reports()):
        path = f"/news/seed-{i}.html"
        web.routes[path] = Response(
            200, seed_page(seed, style=i).encode(), {"Content-Type": "text/html; charset=utf-8"}
        )
        items.append((seed.title, web.url(path) + TRACKED, f"seed-{i}"))
        clean.append(web.url(path))
    web.routes["/feed-a.xml"] = Response(200, rss(items), {"Content-Type": "application/rss+xml"})
    web.routes["/feed-b.xml"] = Response(200, rss([]), {"Content-Type": "application/rss+xml"})
    web.routes["/broken.xml"] = Response(200, rss([]), {"Content-Type": "application/rss+xml"})
    return clean


def preview_config(tmp_path, web, smtp, telegram, choice: str):
    config = write_config(tmp_path, web, smtp, telegram)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    token = "${TG_TOKEN}"
    data["channels"] = {
        "now": {"urls": f"tgram://{token}/111", "link_preview": choice},
        "digest": {"urls": f"tgram://{token}/222", "link_preview": choice, "delivery": "hourly"},
        "solo": {"urls": f"tgram://{token}/333", "link_preview": choice},
    }
    data["topics"] = [
        {**data["topics"][0], "notify": ["now", "digest", "solo"]},  # alone on "solo": single alerts
        {**SECOND, "notify": ["now", "digest"]},  # with the first on "now": grouped alerts
    ]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def release_held(config) -> int:
    """Make the held (digest) rows due: their hold time moved a day back (as the clock would)."""
    with sqlite3.connect(config.parent / "state" / "monitor.db") as db:
        rows = db.execute("select id, next_attempt_at from alerts where digest is not null").fetchall()
        for alert_id, when in rows:
            db.execute("update alerts set next_attempt_at = ? where id = ?", ("2000" + when[4:], alert_id))
    return len(rows)


@pytest.mark.parametrize("choice", list(EXPECTED))
def test_each_choice_sends_its_payload_on_alerts_grouped_alerts_and_digests(
    tmp_path, web_server, smtp_server, fake_telegram_unpatched, choice
):
    telegram = fake_telegram_unpatched
    clean = tracked_site(web_server)
    config = preview_config(tmp_path, web_server, smtp_server, telegram, choice)
    first = run_monitor(config, "once")
    assert first.returncode == 0, first.stderr
    alerts = [m for m in telegram.messages if str(m.chat_id) == "111"]
    assert len(alerts) == len(clean)  # one grouped message per article (both topics)
    assert all(SECOND["name"] in m.visible_text for m in alerts)
    singles = [m for m in telegram.messages if str(m.chat_id) == "333"]
    assert len(singles) == len(clean) and not any(SECOND["name"] in m.visible_text for m in singles)
    assert release_held(config) == 2 * len(clean)
    second = run_monitor(config, "once")
    assert second.returncode == 0, second.stderr
    digests = [m for m in telegram.messages if str(m.chat_id) == "222"]
    assert digests, second.stderr
    key, value = EXPECTED[choice]
    for message in alerts + singles + digests:
        assert message.params.get(key) == value, (choice, message.params)
        if choice == "off":
            assert "link_preview_options" not in message.params or message.params["link_preview_options"] == {
                "is_disabled": True
            }
        assert "utm_" not in message.text and "#comments" not in message.text  # the readers' URL everywhere
    for message in alerts + singles:
        assert sum(u in message.text for u in clean) == 1
    assert all(u in "".join(m.text for m in digests) for u in clean)


def test_check_notes_that_email_ignores_link_preview(tmp_path, web_server, smtp_server, fake_telegram_unpatched):
    tracked_site(web_server)
    config = preview_config(tmp_path, web_server, smtp_server, fake_telegram_unpatched, "above")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["channels"]["mail"] = {"urls": smtp_server.apprise_url(to="a@example.com"), "link_preview": "on"}
    data["channels"]["multi"] = {"urls": "tgram://${TG_TOKEN}/111?silent=yes", "link_preview": "above"}
    # several chats, no options: one plain target per chat (delivery/targets.py), `above` works
    data["channels"]["split"] = {"urls": "tgram://${TG_TOKEN}/111/222", "link_preview": "above"}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_monitor(config, "check")
    assert result.returncode == 0, result.stderr
    notes = [line for line in (result.stdout + result.stderr).splitlines() if "link_preview" in line]
    assert any("channels.mail.link_preview" in n and "ignored" in n for n in notes), notes
    assert any("channels.multi.link_preview" in n and "below" in n for n in notes), notes
    assert not any("channels.now." in n or "channels.split." in n for n in notes), notes
    bad = config.read_text(encoding="utf-8").replace("link_preview: 'on'", "link_preview: sideways")
    config.write_text(bad.replace("link_preview: on", "link_preview: sideways"), encoding="utf-8")
    refused = run_monitor(config, "check")
    assert refused.returncode == 2 and "link_preview" in refused.stderr, refused.stderr


@pytest.mark.parametrize("choice", ["off", "below", "above"])
def test_a_multi_chat_url_gets_the_choice_in_each_chat(
    tmp_path, web_server, smtp_server, fake_telegram_unpatched, choice
):
    """tgram:// with two chats is one target per chat (delivery/targets.py): each chat is a
    plain chat, so it gets the same payload as a one-chat URL (`above` included)."""
    telegram = fake_telegram_unpatched
    clean = tracked_site(web_server)
    config = preview_config(tmp_path, web_server, smtp_server, telegram, choice)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["channels"] = {"multi": {"urls": "tgram://${TG_TOKEN}/444/555", "link_preview": choice}}
    data["topics"] = [{**t, "notify": ["multi"]} for t in data["topics"]]
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run_monitor(config, "once")
    assert result.returncode == 0, result.stderr
    assert sorted(str(m.chat_id) for m in telegram.messages) == sorted(["444", "555"] * len(clean))
    key, value = EXPECTED[choice]
    assert all(m.params.get(key) == value for m in telegram.messages), [m.params for m in telegram.messages]
    assert all("utm_" not in m.text for m in telegram.messages)
