"""Red team 17e #2, #3: a Telegram target's identity (delivery/holds.py) against the real
PostgreSQL: a server hold (a flood wait) written by one channel must hold every channel
sending to that chat, and only those.

apprise reads a Telegram chat from the path (``tgram://TOKEN/CHAT``), from ``?to=`` (a list),
and ``CHAT:TOPIC`` names a forum topic of CHAT (``IS_CHAT_ID_RE`` in apprise's telegram
plugin). Telegram's 429 of a group is the group's (its per-chat limit), whichever topic sent:
#2 a topic's flood wait did not hold the chat's other topics or the chat itself (two keys);
#3 every ``?to=`` chat of one bot had the one key "chat ?", so one chat's flood wait held
every other chat of the bot.

Rebuilt (no text copied) from public reports of the kind:
- https://github.com/caronc/apprise/issues/1143 (a topic written ``CHAT:TOPIC`` or ``?topic=``),
- https://github.com/adolfousier/opencrabs/pull/1216 (a forum supergroup is one peer: every
  topic shares its flood budget),
- https://github.com/alexei-led/ccgram/pull/171 (calls per topic of one supergroup spent the
  chat's quota and came back RetryAfter).
"""

from __future__ import annotations

import pytest

from monitor.delivery.holds import channel_keys, held_by, identity
from monitor.storage import Store
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

BOT = "tgram://123456:AAAA"
# (case, the URL that got the flood wait, another channel's URL, whether it must be held too)
ROWS = [
    ("#2 a topic of the chat, and the chat itself (apprise#1143)", f"{BOT}/-1001234:5", f"{BOT}/-1001234", True),
    ("#2 two topics of one chat (opencrabs#1216, ccgram#171)", f"{BOT}/-1001234:5", f"{BOT}/-1001234%3A7", True),
    ("#3 ?to= one chat, ?to= another chat", f"{BOT}/?to=-1001234", f"{BOT}/?to=-1009999", False),
    ("#3 ?to= and the path name one chat", f"{BOT}/?to=-1001234", f"{BOT}/-1001234", True),
    ("held: the token rotated, the bot's id kept", f"{BOT}/-1001234", "tgram://bot123456:BBBB/-1001234", True),
    ("held: another chat of the bot is not held", f"{BOT}/-1001234", f"{BOT}/-1005678", False),
    ("held: @name letter case", f"{BOT}/@Desk", f"{BOT}/@desk", True),
    ("#2 a name's topic, the name without its @ (apprise reads both)", f"{BOT}/@Desk:3", f"{BOT}/desk", True),
]


@pytest.mark.parametrize("case,first,other,held", ROWS, ids=[r[0] for r in ROWS])
def test_a_flood_wait_holds_every_channel_to_that_chat_and_no_other(case, first, other, held):
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            target = identity(first)
            store.hold_target(target.key, target.label, "a", 300.0, "flood wait")
            hold = held_by(store.holds(), "b", channel_keys("b", [other]), "")
            assert (hold is not None) == held, (case, identity(first), identity(other))
        finally:
            store.close()
