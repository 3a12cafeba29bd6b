"""A retry resends only to the chat or mailbox that lacks the alert, also when ONE apprise
URL names several (``tgram://TOKEN/CHAT1/CHAT2``, ``mailto://...?to=a,b``): such a URL is
one target per recipient (delivery/targets.py), each with its own progress on the outbox
row. Found by the red team (issue 12 items 13, 14): {'1111': 2, '2222': 1}. The fake Bot
API (tests/support/telegram.py) and aiosmtpd (tests/support/smtp.py) do the failing;
`monitor once` runs as a user runs it, twice (the second is the retry).
"""

from __future__ import annotations

import pytest

from monitor.delivery.outbox import target_key
from monitor.storage import Store
from tests.support.desk import Desk, articles
from tests.support.telegram import TelegramReply

pytestmark = pytest.mark.integration

TOKEN = "123456:REDteamTOKEN_abcdefghijklmnopq"

# (variant, chats in the URL, the replies of the first pass in send order, chats that must get it once)
TELEGRAM = [
    # BitBotFactory/MikaLendingBot#318: two chat ids, one failing, every retry resent to both
    ("second chat 502", "1111/2222", [TelegramReply.ok(), TelegramReply.error(502, "Bad Gateway")], ["1111"]),
    ("second chat 429", "1111/2222", [TelegramReply.ok(), TelegramReply.flood(retry_after=1)], ["1111"]),
    # xxynet/KiraAI#21 (review): a failure on the 2nd element replays the sent prefix
    ("second chat drops the connection", "1111/2222", [TelegramReply.ok(), TelegramReply.drop_connection()], ["1111"]),
    (
        "third of three chats 502",
        "1111/2222/3333",
        [TelegramReply.ok(), TelegramReply.ok(), TelegramReply.error(502, "Bad Gateway")],
        ["1111", "2222"],
    ),
]


@pytest.mark.parametrize(("variant", "chats", "replies", "once"), TELEGRAM, ids=[c[0] for c in TELEGRAM])
def test_a_retry_resends_only_to_the_chat_that_lacks_it(
    tmp_path, web_server, fake_telegram_unpatched, variant, chats, replies, once
):
    fake = fake_telegram_unpatched
    extra = {"channels": {"cap": f"tgram://{TOKEN}/{chats}"}, "notify": {"telegram_api_url": fake.base_url}}
    desk = Desk(web_server, tmp_path, extra=extra)
    (a,) = articles(1)
    desk.set_feed("Desk", [{"title": a["title"], "link": desk.page("/a.html", a), "guid": "a"}])
    fake.queue(*replies)
    desk.once()
    desk.once()  # the retry (`monitor once` retries waiting alerts at once)
    per_chat = {c: sum(str(m.chat_id) == c for m in fake.messages) for c in chats.split("/")}
    # a dropped connection may have delivered already (at-least-once); a clean 200 never twice
    assert all(per_chat[c] == 1 for c in once), f"{variant}: messages per chat {per_chat}"
    assert all(n >= 1 for n in per_chat.values()), f"{variant}: a chat never got it: {per_chat}"


# (variant, SMTP code for the first RCPT of the first try, the URL's recipients in order)
MAIL = [
    # Particular/NServiceBus#1052: one failing address, the retries mail everyone again
    ("mailbox busy 450", 450, ("first@example.com", "second@example.com")),
    ("local problem 451", 451, ("first@example.com", "second@example.com")),
    ("insufficient storage 452", 452, ("first@example.com", "second@example.com")),
    ("450, three recipients", 450, ("first@example.com", "second@example.com", "third@example.com")),
]


@pytest.mark.parametrize(("variant", "code", "rcpts"), MAIL, ids=[c[0] for c in MAIL])
def test_a_retry_resends_only_to_the_recipient_that_lacks_it(tmp_path, web_server, smtp_server, variant, code, rcpts):
    desk = Desk(web_server, tmp_path, extra={"channels": {"cap": smtp_server.apprise_url(to=list(rcpts))}})
    (a,) = articles(1)
    desk.set_feed("Desk", [{"title": a["title"], "link": desk.page("/a.html", a), "guid": "a"}])
    smtp_server.refuse_next(1, code=code, stage="rcpt")
    desk.once()
    desk.once()  # the retry
    got = {r: sum(r in m.rcpt_tos for m in smtp_server.messages) for r in rcpts}
    assert got == dict.fromkeys(rcpts, 1), f"{variant}: messages per recipient {got}"


# (variant, what the store recorded under the WHOLE URL before the split: None (nothing) or a part)
UPGRADE = [
    ("whole URL had the message", "whole"),
    ("whole URL had nothing", None),
]


@pytest.mark.parametrize(("variant", "had"), UPGRADE, ids=[c[0] for c in UPGRADE])
def test_progress_recorded_under_the_whole_url_is_kept_after_the_split(
    tmp_path, web_server, fake_telegram_unpatched, variant, had
):
    """An alert pending across the upgrade that split fan-out URLs: what the whole URL
    was recorded as having counts for each of its chats (outbox.inherit)."""
    fake = fake_telegram_unpatched
    whole = f"tgram://{TOKEN}/1111/2222"
    desk = Desk(web_server, tmp_path, extra={"channels": {"cap": whole}, "notify": {"telegram_api_url": fake.base_url}})
    (a,) = articles(1)
    desk.set_feed("Desk", [{"title": a["title"], "link": desk.page("/a.html", a), "guid": "a"}])
    fake.queue(TelegramReply.error(502, "Bad Gateway"), TelegramReply.error(502, "Bad Gateway"))
    desk.once()  # both chats fail: the alert waits
    failed = len(fake.messages)
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        (alert,) = store.list_alerts("pending")
        if had == "whole":  # what the version before the split recorded for a URL that got it
            store.mark_delivered([alert.id], target_key(whole))
    finally:
        store.close()
    desk.once()
    new = {c: sum(str(m.chat_id) == c for m in fake.messages[failed:]) for c in ("1111", "2222")}
    expected = {"1111": 0, "2222": 0} if had == "whole" else {"1111": 1, "2222": 1}
    assert new == expected, f"{variant}: messages per chat after the upgrade {new}"
