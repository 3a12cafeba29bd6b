"""Red team 17c: holds in the database (issue 17) against the real PostgreSQL.

#1 a rate hold is OUR limit: it is re-judged against the config's limits now (a restart or
reload that raises the rate sends at once; one that lowers it holds longer); #5 a server's
hold (a 429 retry_after, a Telegram flood wait, a failure pause) is the TARGET's: every
channel name sending to that chat, mailbox or webhook waits it out, a rename too, and the
config never shortens it. Rebuilt (no text copied) from public reports named in the rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import yaml

from monitor.delivery.failures import SendResult
from monitor.service.cluster import ClusterNode
from monitor.storage import Store
from tests.integration.test_cluster_holds import _lease
from tests.support.cluster import node_on, sql
from tests.support.databases import UNDO_AFTER_0015, fresh_pg_database

pytestmark = pytest.mark.integration

TG = "tgram://1:x/2"


@contextlib.contextmanager
def _node(url: str, channels: dict[str, dict[str, str]]) -> Iterator[ClusterNode]:
    """A cluster node on database `url` with `channels` ({name: {urls, rate?}}), every
    channel notified by topic t."""
    text = yaml.safe_dump(
        {
            "storage": url,
            "cluster": True,
            "cluster_stall_after": "3s",
            "feeds": [{"name": "F", "url": "http://127.0.0.1:9/feed"}],
            "channels": channels,
            "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": list(channels)}],
        }
    )
    with node_on(url, text) as node:
        yield node


def _alert(url: str, channel: str, sent_ago: float | None = None) -> int:
    """An alert of `channel`: pending, or sent `sent_ago` seconds ago by the database's clock."""
    article = sql(
        url,
        "INSERT INTO articles (url, url_key, feed, outlet, guid, title, body, status, fetch_attempts, text_source) "
        "VALUES ('http://a/' || gen_random_uuid(), gen_random_uuid()::text, 'F', '', '', 't', 'x', 'done', 0, '') "
        "RETURNING id",
    )
    sent = "NULL" if sent_ago is None else f"clock_timestamp() - interval '{sent_ago} seconds'"
    rows = sql(
        url,
        "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at, "
        f"delivered, sent_at) VALUES (%s, 't', %s, 's', 'x', 'x', %s, 0, now(), '', {sent}) RETURNING id",
        article[0][0],
        channel,
        "pending" if sent_ago is None else "sent",
    )
    return int(rows[0][0])


def _send_job(node: ClusterNode, channel: str, result: SendResult) -> list[object]:
    """Run `channel`'s send job with every send answered `result`; the requests made."""
    sent: list[object] = []
    node.pipeline.outbox.senders[channel].send = lambda request: sent.append(request) or result
    node.send_job(channel, _lease(node, channel))
    return sent


SECRETS = ("1:x", ":pw@", "in/abc")  # the secret parts of the URLs below
OK = SendResult(ok=True)
FLOOD = SendResult(ok=False, error="429 Too Many Requests: retry after 300", retry_after=300.0)


# ---- #1: a rate hold is judged by the limits the channel has now ----------------------------
# (case, rate before, rate after the restart or reload, last send this long ago, the tick
# queues the channel, the new node's job sends, held afterwards about this long (0: not held))
RATES = [
    ("raised 1/h -> 60/m after a send 10 s ago (redteam17c #1)", "1/h", "60/m", 10.0, True, True, 0.0),
    (
        "raised 1/m -> 1/s: the old window is not waited out (Tabcorp/redis-rate-limiter#44)",
        "1/m",
        "1/s",
        10.0,
        True,
        True,
        0.0,
    ),
    (
        "restarted with another window 1/h -> 2/h: a slot is free (3scale/APIcast#667)",
        "1/h",
        "2/h",
        10.0,
        True,
        True,
        0.0,
    ),
    ("raised 1/h -> 100/h from the admin (NatLabRockies/api-umbrella#3)", "1/h", "100/h", 10.0, True, True, 0.0),
    (
        "the same rate after a restart: the hold stands (nuetzliches/hookaido#239)",
        "1/h",
        "1/h",
        10.0,
        False,
        False,
        3590.0,
    ),
    # the old hold (~50 s) is void; one job judges the new limit and holds the channel to it
    ("lowered 1/m -> 1/h: held to the new limit's slot, not the old", "1/m", "1/h", 10.0, True, False, 3590.0),
]


@pytest.mark.parametrize("case,before,after,ago,queued,sends,held", RATES, ids=[r[0] for r in RATES])
def test_a_rate_hold_is_rejudged_by_the_rate_the_channel_has_now(case, before, after, ago, queued, sends, held):
    with fresh_pg_database() as url:
        with _node(url, {"tg": {"urls": TG, "rate": before}}) as old:
            _alert(url, "tg", sent_ago=ago)
            alert = _alert(url, "tg")
            assert not _send_job(old, "tg", OK), case  # no slot: the job ends, the channel held
            hold = old.pipeline.outbox.senders["tg"].held(old.store.holds())
            assert hold is not None and hold.reason == "rate", case
        with _node(url, {"tg": {"urls": TG, "rate": after}}) as new:  # a restart or reload
            assert ("tg" in new.due_work()[1]) is queued, case  # the tick queues it, or not
            assert bool(_send_job(new, "tg", OK)) is sends, case
            assert (new.store.get_alert(alert).status == "sent") is sends, case
            hold = new.pipeline.outbox.senders["tg"].held(new.store.holds())
            assert (hold.left if hold else 0.0) == pytest.approx(held, abs=3.0), case
            assert ("tg" in new.due_work()[1]) is False, case  # sent, or held to the new limit


# ---- #5: a server's hold is the target's -----------------------------------------------------
# (case, channels of the node that got the 429 (its first sends), channels of the node
# after (a second name, a reload), the channel checked there, held)
ONE = {"tg": {"urls": TG, "rate": "1/s"}}
SERVERS = [
    ("two names for one chat (redteam17c #5)", ONE, {**ONE, "tg2": {"urls": TG}}, "tg2", True),
    (
        "renamed by a reload: a fresh sender still waits (diegosouzapw/OmniRoute#11413)",
        ONE,
        {"alerts": {"urls": TG}},
        "alerts",
        True,
    ),
    (
        "the same chat written with a `bot` prefix and options",
        ONE,
        {"other": {"urls": "tgram://bot1:x/2?format=html"}},
        "other",
        True,
    ),
    (
        "the same bot with a reissued token: the wait is the bot's (steavy29/Telegram.Net#34)",
        ONE,
        {"other": {"urls": "tgram://1:y/2"}},
        "other",
        True,
    ),
    (
        "a channel whose second URL is the held chat waits too",
        ONE,
        {"both": {"urls": ["tgram://1:x/3", TG]}},
        "both",
        True,
    ),
    ("another chat of the same bot: free", ONE, {"other": {"urls": "tgram://1:x/3"}}, "other", False),
    ("another bot, the same chat id: free", ONE, {"other": {"urls": "tgram://9:x/2"}}, "other", False),
    (
        "a raised rate never shortens a server's wait (getsentry/sentry-java#360)",
        ONE,
        {"tg": {"urls": TG, "rate": "60/m"}},
        "tg",
        True,
    ),
    (
        "email: one SMTP account and recipient under two names (mailto and mailtos)",
        {"mail": {"urls": "mailto://user:pw@example.com?to=desk@example.org"}},
        {"mail2": {"urls": "mailtos://user:other@example.com?to=DESK@example.org"}},
        "mail2",
        True,
    ),
    (
        "email: another recipient: free",
        {"mail": {"urls": "mailto://user:pw@example.com?to=desk@example.org"}},
        {"mail2": {"urls": "mailto://user:pw@example.com?to=night@example.org"}},
        "mail2",
        False,
    ),
    (
        "webhook: one URL under two names (host case, a trailing slash, options)",
        {"hook": {"urls": "json://hook.example:8080/in/abc"}},
        {"hook2": {"urls": "json://HOOK.example:8080/in/abc/?method=POST"}},
        "hook2",
        True,
    ),
    (
        "webhook: another path on the same host: free",
        {"hook": {"urls": "json://hook.example:8080/in/abc"}},
        {"hook2": {"urls": "json://hook.example:8080/in/xyz"}},
        "hook2",
        False,
    ),
]


@pytest.mark.parametrize("case,before,after,name,held", SERVERS, ids=[s[0] for s in SERVERS])
def test_a_servers_hold_keeps_every_name_of_its_target_silent(case, before, after, name, held):
    with fresh_pg_database() as url:
        first = next(iter(before))
        with _node(url, before) as node:
            _alert(url, first)
            assert len(_send_job(node, first, FLOOD)) == 1, case
            hold = node.pipeline.outbox.senders[first].held(node.store.holds())
            assert hold is not None and hold.reason == "flood wait" and hold.kind == "server", case
            stored = " ".join(str(v) for row in sql(url, "SELECT * FROM target_holds") for v in row)
            assert not [s for s in SECRETS if s in stored], (case, stored)  # no token, password or hook path
        with _node(url, after) as node:
            alert = _alert(url, name)
            hold = node.pipeline.outbox.senders[name].held(node.store.holds())
            assert (hold is not None and hold.left > 250) is held, case
            assert (name in node.due_work()[1]) is not held, case
            assert bool(_send_job(node, name, OK)) is not held, case
            assert (node.store.get_alert(alert).status == "pending") is held, case


# ---- the kinds side by side --------------------------------------------------------------------
# (case, hold written for channel tg: (kind, seconds), the channel checked, its rate then, held)
KINDS = [
    (
        "a rate hold is the channel's own: a second name of the chat keeps its own rate "
        "(BotBotMe/botbot-bot#17: a limit per bot, not global)",
        ("rate", 600.0),
        "tg2",
        "1/s",
        False,
    ),
    ("a rate hold holds its channel under the same rate", ("rate", 600.0), "tg", "1/s", True),
    ("a rate hold under another rate is void", ("rate", 600.0), "tg", "2/s", False),
    ("a server's hold holds the second name", ("flood wait", 600.0), "tg2", "1/s", True),
    ("a failure pause is the target's too", ("failure", 600.0), "tg2", "1/s", True),
    ("a server's hold under another rate still holds", ("flood wait", 600.0), "tg", "2/s", True),
]


@pytest.mark.parametrize("case,written,name,rate,held", KINDS, ids=[k[0] for k in KINDS])
def test_what_each_kind_of_hold_is_keyed_by(case, written, name, rate, held):
    with fresh_pg_database() as url:
        with _node(url, {"tg": {"urls": TG, "rate": "1/s"}}) as node:
            sender = node.pipeline.outbox.senders["tg"]
            reason, seconds = written
            if reason == "rate":
                node.store.hold_rate("tg", seconds, sender.rate)
            else:
                target = sender.hold_ids[sender.targets[0].key]
                node.store.hold_target(target.key, target.label, "tg", seconds, reason)
        with _node(url, {"tg": {"urls": TG, "rate": rate}, "tg2": {"urls": TG, "rate": "1/s"}}) as node:
            assert (node.pipeline.outbox.senders[name].held(node.store.holds()) is not None) is held, case


# redteam17c #2 (fixed: retry_after bounded by delivery.outbox.RETRY_AFTER_MAX): a 429 whose
# retry_after is absurd raised OverflowError in the send job (now + timedelta) before
# mark_failed/hold_channel: no hold, the alert stayed due and every tick re-sent
@pytest.mark.parametrize("retry_after", [1e12, 1e15, float("inf")])
def test_an_absurd_flood_wait_is_held_not_a_crash(retry_after):
    with fresh_pg_database() as url, _node(url, {"tg": {"urls": TG, "rate": "1/s"}}) as node:
        alert = _alert(url, "tg")
        _send_job(node, "tg", SendResult(ok=False, error="429 Too Many Requests", retry_after=retry_after))
        assert node.store.get_alert(alert).status == "pending"
        hold = node.pipeline.outbox.senders["tg"].held(node.store.holds())
        assert hold is not None and hold.reason == "flood wait"


# ---- a 0014 database: its holds migrated (0015) ---------------------------------------------
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_holds_written_by_0014_are_migrated(tmp_path, kind):
    """A flood wait 0014 stored per channel name still holds that channel (keyed
    ``channel:NAME``); a 0014 rate hold (its rate unknown) is dropped: re-judged by the next job."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, text

    with contextlib.ExitStack() as stack:
        url = stack.enter_context(fresh_pg_database()) if kind == "postgresql" else f"sqlite:///{tmp_path / 'm.db'}"
        Store(url).close()
        until = (datetime.now(UTC) + timedelta(seconds=300)).replace(tzinfo=None)
        engine = create_engine(url)
        with engine.begin() as conn:
            for statement in UNDO_AFTER_0015:
                conn.execute(text(statement))
            conn.execute(text("DROP TABLE target_holds"))
            conn.execute(text("DROP TABLE IF EXISTS channel_holds"))  # 0015 keeps it (redteam17e #1)
            conn.execute(
                text(
                    "CREATE TABLE channel_holds (channel VARCHAR(200) PRIMARY KEY, until TIMESTAMP, reason VARCHAR(40))"
                )
            )
            for channel, reason in (("tg", "flood wait"), ("slow", "rate")):
                conn.execute(
                    text("INSERT INTO channel_holds VALUES (:c, :u, :r)"), {"c": channel, "u": until, "r": reason}
                )
            conn.execute(text("UPDATE alembic_version SET version_num = '0014'"))
        engine.dispose()
        store = Store(url)  # migrates to head
        try:
            (hold,) = store.holds()
            assert (hold.kind, hold.holder, hold.channel, hold.reason) == ("server", "channel:tg", "tg", "flood wait")
            assert hold.left == pytest.approx(300.0, abs=30.0)
        finally:
            store.close()
        if kind == "postgresql":
            with _node(url, {"tg": {"urls": TG}, "slow": {"urls": "tgram://1:x/3", "rate": "1/h"}}) as node:
                senders, found = node.pipeline.outbox.senders, node.store.holds()
                assert senders["tg"].held(found) == found[0] and found[0].holder == "channel:tg"
                assert senders["slow"].held(found) is None
