"""Red team (issue 17): `rate:` must hold for the cluster when a channel passes from one
send job to the next (README: "its rate limits start from the channel's recent sends in
the store, so `rate:` holds for the cluster, not per node").

``ChannelSender.take_over`` rebuilds the limiter from ``recent_sends``: one timestamp per
*alert* marked sent, stamped by the sending node's clock. Two ways the next holder
under-counts what the chat got:

- a long alert goes out as several Bot API messages (``split_telegram``: Telegram's 4096
  UTF-16 units), but the store has one ``sent_at`` for it;
- the previous holder's clock is ahead of this node's (NTP skew between machines): its
  send of "just now" has a negative age here and ``restart_from`` drops it
  (``if a >= 0``).

Each row: the previous holder's sends go through a real ChannelSender (a fake send
function counting Bot API messages), then a second ChannelSender takes the channel over
and sends one more alert; the messages the chat got inside the rate's window are
counted. Rebuilt from the Telegram flood-control reports behind apprise's per-chat
throttling (caronc/apprise issues on Telegram 429 "Too Many Requests: retry after").
"""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import pytest

from monitor.config.load import parse_config
from monitor.delivery.failures import SendResult
from monitor.delivery.outbox import ChannelSender, SendRequest
from monitor.storage import Lease, Store
from tests.support.corpus_pages import saudinewsnet_articles
from tests.support.databases import fresh_pg_database

pytestmark = pytest.mark.integration

CONFIG = """
storage: {url}
cluster: true
feeds: [{{name: F, url: "http://127.0.0.1:9/feed"}}]
channels: {{tg: {{urls: "tgram://1:x/2", rate: "{rate}"}}}}
topics: [{{id: t, name: T, any: [x], notify: [tg]}}]
"""


def _long_text() -> str:
    """A real article body longer than one Telegram message (4096 UTF-16 units)."""
    return max(saudinewsnet_articles("2015-07-21"), key=lambda a: len(a["content"]))["content"]


def _alert(url: str, n: int, body: str) -> int:
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        article = conn.execute(
            "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
            "VALUES (%s, %s, 'F', '', '', 't', 'x', 'done', 0, '') RETURNING id",
            (f"http://a/{n}", f"a/{n}"),
        ).fetchone()[0]
        return int(
            conn.execute(
                "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, "
                "delivered) VALUES (%s, 't', 'tg', 's', %s, %s, 'pending', 0, now(), '') RETURNING id",
                (article, body, body),
            ).fetchone()[0]
        )


# (case, rate, window seconds, previous holder's alert body ("long": split in parts), its clock's lead in seconds)
CASES = [
    ("a long alert sent in 2 parts, then a handover", "2/m", 60.0, "long", 0.0),
    ("previous holder's clock 2 s ahead", "1/10s", 10.0, "short", 2.0),
    # the control row: plain one-part alerts, same clocks -- this one holds
    ("control: one part, same clock", "1/10s", 10.0, "short", 0.0),
]


@pytest.mark.parametrize("case,rate,window,body,lead", CASES, ids=[c[0] for c in CASES])
def test_rate_holds_across_a_channel_handover(case, rate, window, body, lead):
    with fresh_pg_database() as url:
        config = parse_config(CONFIG.format(url=url, rate=rate), env={})
        store = Store(url)
        sent_at: list[float] = []

        def send(request: SendRequest) -> SendResult:
            sent_at.append(time.monotonic())
            return SendResult(ok=True)

        try:
            text = _long_text() if body == "long" else "short alert"
            first = ChannelSender(config, store, "tg", send=send)
            _alert(url, 1, text)
            # the previous holder's clock runs `lead` seconds ahead of this node's
            ahead = store.__class__.mark_sent

            def mark_sent_ahead(self, alert_id, now, lease=None):  # type: ignore[no-untyped-def]
                return ahead(self, alert_id, now + timedelta(seconds=lead), lease)

            first.store = replace_mark_sent(store, mark_sent_ahead)
            first.drain()
            assert sent_at, "the previous holder sent nothing"
            _alert(url, 2, "the next alert")
            second = ChannelSender(config, store, "tg", send=send)  # another node, its own memory
            second.take_over(Lease(1, 1))
            limiter = second.targets[0].limiter
            wait = limiter.wait_time(limiter.clock())
        finally:
            store.close()
        in_window = len(sent_at) + (1 if wait <= 0 else 0)
        limit = int(rate.split("/")[0])
        assert in_window <= limit, (
            f"{case}: the chat got {len(sent_at)} message(s) from the previous holder and the new holder may send "
            f"at once (wait {wait:.2f}s): {in_window} in {window:.0f}s against rate {rate}"
        )


def replace_mark_sent(store: Store, fn):  # type: ignore[no-untyped-def]
    """`store` seen through a proxy whose mark_sent is `fn` (another machine's clock)."""

    class Skewed:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(store, name)

        def mark_sent(self, alert_id, now, lease=None):  # type: ignore[no-untyped-def]
            return fn(store, alert_id, now, lease)

    return Skewed()
