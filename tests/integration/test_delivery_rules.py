"""Rate limits, digests, quiet hours, urgent topics and Telegram splitting."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import pytest

from monitor.config.values import parse_window
from monitor.delivery.digest import group_stories, split_telegram
from monitor.delivery.outbox import Outbox
from monitor.delivery.ratelimit import RateLimiter
from monitor.delivery.render import telegram_visible, utf16_len
from monitor.delivery.schedule import Plan, release_time
from monitor.storage import Store
from tests.support.outbox_helpers import TOKEN, FakeClock, add_article, corpus, make_config
from tests.support.telegram import FakeTelegram, TelegramReply, check_telegram_html

ROWS = corpus()


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield s
    s.close()


# ---- rate limits (parse_rate: tests/unit/test_config_values.py) -------------------
def test_limiter_keeps_every_window():
    clock = FakeClock()
    limiter = RateLimiter([(1, 1.0), (20, 60.0)], clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(65):
        assert limiter.acquire()
        times.append(clock.now)
    for _i, t in enumerate(times):
        assert sum(1 for u in times if t <= u < t + 1.0) == 1
        assert sum(1 for u in times if t <= u < t + 60.0) <= 20
    assert times[-1] - times[0] < 200  # and it does not wait longer than needed


def test_limiter_stops_when_sleep_says_so():
    limiter = RateLimiter([(1, 60.0)], clock=lambda: 0.0, sleep=lambda s: True)
    assert limiter.acquire() and not limiter.acquire()


class _FloodingTelegram(FakeTelegram):
    """Answers 429 like Telegram when a chat gets more than 1 message a second or 20 a
    minute, measured on the test's fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.stamps: list[float] = []

    def _respond(self, request):
        if request.url_path.endswith("/sendMessage"):
            now = self.clock.now
            recent = [t for t in self.stamps if now - t < 60.0]
            if any(now - t < 1.0 for t in recent) or len(recent) >= 20:
                self.queue(TelegramReply.flood(retry_after=5))
            else:
                self.stamps.append(now)
        return super()._respond(request)


def test_a_burst_of_200_never_hits_the_flood_limit(tmp_path, store):
    clock = FakeClock()
    with _FloodingTelegram(clock) as tg:
        tg.patch_apprise()
        config = make_config(tmp_path, {"group": f"tgram://{TOKEN}/-100123"})  # a group chat
        outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
        rows = corpus("2015-07-21") + corpus("2015-07-22")
        for row in rows[:200]:
            add_article(store, config, row)
        report = outbox.deliver()
        assert report.sent == 200 and report.failed == 0
        assert len(tg.messages) == 200
        assert all(c.status == 200 for c in tg.calls)  # not one 429
        assert clock.now - 1000.0 >= 9 * 60  # 20 a minute: 10 batches


# ---- schedule ---------------------------------------------------------------------
RIYADH_QUIET = Plan(tz="Asia/Riyadh", quiet=parse_window("23:00-07:00"))


@pytest.mark.parametrize("utc_hour, held_until_utc_hour", [(19, None), (20, 4), (23, 4), (3, 4), (4, None), (12, None)])
def test_quiet_hours_wrap_midnight_in_local_time(utc_hour, held_until_utc_hour):
    now = datetime(2026, 1, 1, utc_hour, 30, tzinfo=UTC)
    when, why = release_time(now, RIYADH_QUIET)
    if held_until_utc_hour is None:
        assert (when, why) == (None, None)
    else:
        assert why == "quiet" and when.hour == held_until_utc_hour and when > now
        assert (when - now).total_seconds() < 12 * 3600
    assert release_time(now, RIYADH_QUIET, urgent=True) == (None, None)


def test_hourly_and_daily_digests_in_local_time():
    now = datetime(2026, 3, 28, 10, 10, tzinfo=UTC)
    when, why = release_time(now, Plan(mode="hourly", tz="Asia/Kolkata"))  # UTC+5:30
    assert why == "hourly" and when == datetime(2026, 3, 28, 10, 30, tzinfo=UTC)
    plan = Plan(mode="daily", daily_at=time(8, 0), tz="Europe/Berlin")
    when, why = release_time(now, plan)  # 11:10 Berlin: tomorrow 08:00
    # the night of 28-29 March 2026 Berlin moves to summer time: 08:00 CEST = 06:00 UTC
    assert why == "daily" and when == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    # a digest due inside quiet hours waits for their end
    plan = Plan(mode="daily", daily_at=time(6, 0), tz="Asia/Riyadh", quiet=parse_window("23:00-07:00"))
    when, why = release_time(now, plan)
    assert why == "daily" and when == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
    assert release_time(now, Plan(mode="daily"), urgent=True) == (None, None)


# ---- digests ----------------------------------------------------------------------
def _same_story_pair():
    """A real wire story carried by two outlets under different titles."""
    for a in ROWS:
        for b in ROWS:
            if (
                a["source"] < b["source"]
                and a["title"] != b["title"]
                and group_stories(
                    [
                        (a["title"], a["url"], a["source"], a["content"]),
                        (b["title"], b["url"], b["source"], b["content"]),
                    ]
                ).__len__()
                == 1
            ):
                return a, b
    raise LookupError


def test_stories_group_same_wire_story_but_not_others():
    a, b = _same_story_pair()
    other = next(r for r in ROWS if r["source"] == a["source"] and r is not a)
    items = [(r["title"], r["url"], r["source"], r["content"]) for r in (a, other, b)]
    stories = group_stories(items)
    assert [[i[2] for i in s] for s in stories] == [[a["source"], b["source"]], [other["source"]]]


def test_quiet_hours_hold_then_one_digest_urgent_goes_through(tmp_path, store, fake_telegram):
    config = make_config(
        tmp_path,
        {"tg": {"urls": f"tgram://{TOKEN}/111", "timezone": "Asia/Riyadh", "quiet_hours": "23:00-07:00"}},
        topics=[
            {"id": "t", "name": "كوريا الشمالية", "any": ["كوريا"], "notify": ["tg"]},
            {"id": "u", "name": "عاجل", "any": ["عاجل"], "notify": ["tg"], "urgent": True},
        ],
    )
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    night = datetime(2026, 1, 1, 22, 0, tzinfo=UTC)  # 01:00 in Riyadh
    a, b = _same_story_pair()
    third = next(r for r in ROWS if r["source"] not in (a["source"], b["source"]))
    for row in (a, b, third):
        add_article(store, config, row, now=night, outbox=outbox)
    add_article(store, config, ROWS[-1], topic="u", now=night, outbox=outbox, key="urgent-1")
    assert outbox.deliver(night).sent == 1  # only the urgent one
    assert len(fake_telegram.messages) == 1
    assert outbox.deliver(datetime(2026, 1, 2, 3, 59, tzinfo=UTC)).sent == 0
    morning = datetime(2026, 1, 2, 4, 0, tzinfo=UTC)  # 07:00 in Riyadh
    assert outbox.deliver(morning).sent == 3
    [urgent, digest] = fake_telegram.messages
    text = digest.visible_text
    assert "كوريا الشمالية" in text and "ملخص التنبيهات" in text
    assert text.count("•") == 2  # two stories
    assert a["source"] in text and b["source"] in text and third["source"] in text
    assert digest.parse_mode == "HTML"
    assert outbox.deliver(morning).sent == 0  # nothing twice


def test_daily_email_digest_is_rtl_multipart(tmp_path, store, smtp_server):
    config = make_config(
        tmp_path,
        {
            "mail": {
                "urls": smtp_server.apprise_url(to="r@example.com"),
                "delivery": "daily",
                "digest_at": "08:00",
                "timezone": "Asia/Riyadh",
            }
        },
    )
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    day = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for row in ROWS[:5]:
        add_article(store, config, row, now=day, outbox=outbox)
    assert outbox.deliver(day).sent == 0
    assert outbox.deliver(datetime(2026, 1, 2, 5, 0, tzinfo=UTC)).sent == 5
    [mail] = smtp_server.messages
    msg = mail.message
    assert "ملخص التنبيهات" in msg["Subject"] and "\n" not in msg["Subject"]
    html_part = [p for p in msg.iter_parts() if p.get_content_type() == "text/html"][0]
    assert html_part.get_content().startswith('<div dir="rtl" lang="ar"')
    for row in ROWS[:5]:
        assert row["source"] in html_part.get_content()


# ---- Telegram splitting -------------------------------------------------------------
def _sent_length(part: str) -> int:
    vis = telegram_visible(part)
    return utf16_len(vis) + vis.count("\n")


def test_split_long_digest_into_valid_messages(tmp_path, store, fake_telegram):
    config = make_config(tmp_path, {"tg": {"urls": f"tgram://{TOKEN}/111", "delivery": "hourly"}})
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    now = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    for row in ROWS[:60]:
        add_article(store, config, row, now=now, outbox=outbox)
    assert outbox.deliver(datetime(2026, 1, 1, 10, 0, tzinfo=UTC)).sent == 60
    assert len(fake_telegram.messages) > 1  # accepted by the strict fake: tags balanced
    shown = "".join(m.visible_text for m in fake_telegram.messages)
    stories = group_stories([(r["title"], r["url"], r["source"], r["content"]) for r in ROWS[:60]])
    for story in stories:
        assert " ".join(story[0][0].split())[:40] in shown
    assert shown.count("•") == len(stories) < 60
    for part in fake_telegram.messages[:-1]:  # cut near the limit, not early
        assert utf16_len(part.visible_text) > 4096 // 2


@pytest.mark.parametrize("seed", range(6))
def test_split_never_cuts_a_tag_or_entity(seed):
    rnd = random.Random(seed)
    words = " ".join(r["content"] for r in ROWS[:30]).split()
    lines = []
    for _ in range(400):
        w = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 40)))
        w = w.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + " &amp; x"
        tag = rnd.choice(["b", "i", None, "a"])
        if tag == "a":
            lines.append(f'<a href="https://example.com/?q=1&amp;r=2">{w}</a>')
        else:
            lines.append(f"<{tag}>{w}</{tag}>" if tag else w)
    markup = "\n".join(lines) + "\n<b>" + "كلمة " * 3000 + "</b>"
    parts = split_telegram(markup)
    assert len(parts) > 3
    for part in parts:
        error, _ = check_telegram_html(part)
        assert error is None, error
        assert _sent_length(part) <= 4096
    joined = "".join(telegram_visible(p).replace("\u200f", "") for p in parts)
    squash = lambda s: "".join(s.split())  # noqa: E731 - breaks are dropped at cuts
    assert squash(joined) == squash(telegram_visible(markup).replace("\u200f", ""))


def test_split_leaves_a_short_message_alone():
    assert split_telegram("<b>x</b>\ny") == ["<b>x</b>\ny"]


def test_a_dead_digest_raises_one_notice(tmp_path, store, fake_telegram):
    config = make_config(
        tmp_path,
        {"tg": {"urls": f"tgram://{TOKEN}/111", "delivery": "hourly"}, "ops": f"tgram://{TOKEN}/999"},
        topics=[{"id": "t", "name": "كوريا", "any": ["كوريا"], "notify": ["tg"]}],
        notify={"ops_channel": "ops"},
    )
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    now = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    for row in ROWS[:4]:
        add_article(store, config, row, now=now, outbox=outbox, channels=["tg"])
    fake_telegram.queue(TelegramReply.chat_not_found())
    at = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    report = outbox.deliver(at)  # the notice goes out in the same pass (issue 18)
    assert (report.dead, report.sent) == (4, 1)
    [notice] = fake_telegram.messages
    assert notice.chat_id == 999 and "a digest of 4 alerts" in notice.visible_text


def test_digest_neutralises_feed_text(tmp_path, store, fake_telegram):
    config = make_config(tmp_path, {"tg": {"urls": f"tgram://{TOKEN}/111", "delivery": "hourly"}})
    clock = FakeClock()
    outbox = Outbox(config, store, clock=clock, sleep=clock.sleep)
    now = datetime(2026, 1, 1, 9, 10, tzinfo=UTC)
    row = dict(ROWS[0], title=ROWS[0]["title"] + ' \u202e<b>x</b> & "y"\u200b\u2028z', source="BBC <i>عربي</i>")
    add_article(store, config, row, now=now, outbox=outbox)
    assert outbox.deliver(datetime(2026, 1, 1, 10, 0, tzinfo=UTC)).sent == 1
    [msg] = fake_telegram.messages
    assert "\u202e" not in msg.text and "\u200b" not in msg.text and "\u2028" not in msg.text
    assert "&lt;b&gt;x&lt;/b&gt; &amp; " in msg.text, msg.text  # (apprise sends &quot; as ")
    for line in msg.visible_text.splitlines():  # every line holding Arabic starts right to left
        if any("\u0600" <= c <= "\u06ff" for c in line):
            assert line.startswith("\u200f"), line
