"""Store: migrations, dedup, fetch failures, outbox lifecycle, concurrency — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from monitor.errors import StoreError
from monitor.storage import Store
from tests.support.store_rows import sample_alerts, sample_article, sample_match, save_sample

UTC = UTC


# ---- migrations / opening ---------------------------------------------------
def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from monitor.storage.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_migrations_idempotent(store_url):
    s1 = Store(store_url)
    save_sample(s1)
    s1._upgrade()  # running upgrade head again is a no-op
    s1.close()
    s2 = Store(store_url)
    try:
        with s2.engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [_head()]  # one row: the single head revision
        assert s2.counts()["articles"] == 1
    finally:
        s2.close()


def test_head_revision_read_without_alembic_is_alembics_head():
    from monitor.storage.db import head_revision

    assert head_revision() == _head()


@pytest.mark.parametrize(
    ("rows", "at_head"),
    [
        (None, True),  # as the store left it
        ([], False),  # table emptied
        (["0006"], False),  # one revision behind
        (["0001"], False),
        (["HEAD", "0006"], False),  # two rows (HEAD replaced by the real head)
    ],
)
def test_reopen_runs_alembic_only_when_behind(store_url, monkeypatch, rows, at_head):
    """Opening a store already at head must not import or run alembic (issue 16: ~0.45 s per
    process); any other state goes through alembic as before."""
    s = Store(store_url)
    if rows is not None:
        with s.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            for r in rows:
                conn.execute(
                    text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": _head() if r == "HEAD" else r}
                )
    assert s._at_head() is at_head
    s.close()
    import alembic.command

    calls = []
    monkeypatch.setattr(alembic.command, "upgrade", lambda cfg, rev: calls.append(rev))
    Store(store_url).close()
    assert calls == ([] if at_head else ["head"])


def test_data_survives_reopen(store_url):
    s = Store(store_url)
    aid = save_sample(s)
    s.record_feed_success("f1", "https://ex.com/feed", etag='"e1"', last_modified=None, new_items=1)
    s.close()
    s = Store(store_url)
    try:
        assert s.known("https://ex.com/a/1", "f1", "g1").id == aid
        assert s.feed_state("f1").etag == '"e1"'
        assert len(s.due_alerts(datetime.now(UTC))) == 2
    finally:
        s.close()


def test_sqlite_wal_and_pragmas(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        s.close()


def test_unusable_sqlite_path_raises_store_error(tmp_path):
    with pytest.raises(StoreError, match="cannot open store"):
        Store(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")


# ---- articles ------------------------------------------------------------------
def test_save_article_idempotent(store):
    aid = save_sample(store)
    assert isinstance(aid, int)
    assert save_sample(store) is None
    assert (
        store.save_article(
            sample_article(), guid="g1", outlet="O", matches=[sample_match("t2")], alerts=sample_alerts("t2")
        )
        is None
    )
    c = store.counts()
    assert (c["articles"], c["matches"], c["alerts_pending"]) == (1, 1, 2)


def test_known_by_url_key_and_by_guid(store):
    assert store.known("https://ex.com/a/1", "f1", "g1") is None
    aid = save_sample(store)
    by_key = store.known("https://ex.com/a/1", "other", "")
    assert by_key.id == aid and by_key.status == "done" and by_key.url_key == "https://ex.com/a/1"
    by_guid = store.known("https://ex.com/moved/1", "f1", "g1")  # link changed, guid kept
    assert by_guid is not None and by_guid.id == aid
    assert store.known("https://ex.com/moved/1", "f2", "g1") is None  # guid is per feed
    assert store.known("https://ex.com/moved/1", "f1", "") is None  # empty guid never matches


def test_fetch_failure_attempts_then_done(store):
    kw = dict(feed="f1", url="https://ex.com/a/1", url_key="https://ex.com/a/1", guid="g1", title="t")
    assert store.record_fetch_failure(error="timeout", **kw) == 1
    assert store.record_fetch_failure(error="timeout", **kw) == 2
    assert store.record_fetch_failure(error="503", **kw) == 3
    k = store.known("https://ex.com/a/1", "f1", "g1")
    assert (k.status, k.fetch_attempts) == ("fetch_failed", 3)
    assert store.known("https://ex.com/other", "f1", "g1").id == k.id  # guid recorded too
    assert store.counts()["articles"] == 0
    aid = save_sample(store)
    assert aid == k.id  # the failed row became the done article
    assert store.known("https://ex.com/a/1", "f1", "g1").status == "done"
    assert store.record_fetch_failure(error="late", **kw) == 3  # a done article is left alone
    assert store.known("https://ex.com/a/1", "f1", "g1").status == "done"
    assert store.counts()["articles"] == 1


def test_matches_hits_json(store):
    aid = save_sample(store)
    with store.engine.connect() as conn:
        hits, snippet = conn.execute(text("SELECT hits, snippet FROM matches WHERE article_id = :a"), {"a": aid}).one()
    import json

    assert json.loads(hits) == [
        {
            "term": "غزة",
            "matched": "غزّة",
            "field": "body",
            "token": 3,
            "start": 10,
            "end": 14,
            "group": "any",
            "variant": False,
            "weight": 1.0,
        }
    ]
    assert snippet == "… غزّة …"


def test_aware_datetimes_round_trip(store):
    published = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=3)))
    before = datetime.now(UTC)
    save_sample(store, published=published)
    (stored,) = list(store.articles_since(before - timedelta(seconds=1)))
    assert stored.published == published
    assert stored.published.tzinfo is not None and stored.published.utcoffset() == timedelta(0)
    assert stored.fetched_at.tzinfo is not None and stored.fetched_at >= before - timedelta(seconds=1)
    alert = store.due_alerts(datetime.now(UTC))[0]
    assert alert.created_at.utcoffset() == timedelta(0)
    later = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))
    store.mark_failed(alert.id, "x", later)
    (again,) = [a for a in store.list_alerts("pending") if a.id == alert.id]
    assert again.next_attempt_at == later and again.next_attempt_at.utcoffset() == timedelta(0)


def test_articles_since_and_prune(store):
    t0 = datetime.now(UTC) - timedelta(seconds=1)
    for i in range(3):
        save_sample(store, key=f"https://ex.com/a/{i}", guid=f"g{i}")
    got = list(store.articles_since(t0))
    assert [a.url for a in got] == [f"https://ex.com/a/{i}" for i in range(3)]
    assert got[0].outlet == "Outlet" and got[0].body == "نص المقال" and got[0].feed == "f1"
    assert list(store.articles_since(datetime.now(UTC) + timedelta(hours=1))) == []
    assert store.prune(t0) == 0
    assert store.prune(datetime.now(UTC) + timedelta(seconds=1)) == 3
    assert store.prune(datetime.now(UTC) + timedelta(seconds=1)) == 0
    assert all(a.body == "" for a in store.articles_since(t0))
    assert save_sample(store, key="https://ex.com/a/0", guid="g0") is None  # still deduplicated
    assert store.counts()["articles"] == 3


# ---- feeds --------------------------------------------------------------------------
def test_feed_health(store):
    assert store.feed_state("f1") is None
    store.record_feed_failure("f1", "https://ex.com/feed", "boom")
    store.record_feed_failure("f1", "https://ex.com/feed", "boom2")
    s = store.feed_state("f1")
    assert (s.consecutive_failures, s.last_error, s.items_seen) == (2, "boom2", 0)
    assert s.last_success_at is None and s.last_error_at.tzinfo is not None
    store.record_feed_success("f1", "https://ex.com/feed", etag='"e"', last_modified="Mon", new_items=4)
    store.record_feed_success("f1", "https://ex.com/feed", etag=None, last_modified=None, new_items=2)
    s = store.feed_state("f1")
    assert (s.consecutive_failures, s.last_error, s.items_seen) == (0, None, 6)
    assert (s.etag, s.last_modified) == ('"e"', "Mon")  # a 304 without validators keeps them
    assert s.last_success_at is not None and s.last_polled_at >= s.last_success_at
    store.record_feed_success("f2", "https://ex.com/f2", etag=None, last_modified=None, new_items=0)
    assert [f.name for f in store.list_feeds()] == ["f1", "f2"]


def test_feed_schedule_streak_and_flag(store):
    t0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    s = store.record_feed_failure(
        "f1",
        "https://ex.com/feed",
        "boom",
        next_poll_at=t0 + timedelta(hours=1),
        flag_after=86400,
        kind="sitemap",
        now=t0,
    )
    assert (s.failing_since, s.flagged_at, s.next_poll_at, s.kind) == (t0, None, t0 + timedelta(hours=1), "sitemap")
    s = store.record_feed_failure("f1", "https://ex.com/feed", "boom", flag_after=86400, now=t0 + timedelta(hours=25))
    assert s.failing_since == t0 and s.flagged_at == t0 + timedelta(hours=25) and s.consecutive_failures == 2
    s = store.record_feed_failure("f1", "https://ex.com/feed", "boom", flag_after=86400, now=t0 + timedelta(hours=30))
    assert s.flagged_at == t0 + timedelta(hours=25)  # flagged once, not re-stamped
    store.record_feed_success(
        "f1",
        "https://ex.com/feed",
        etag=None,
        last_modified=None,
        new_items=1,
        warning="2 items have no date",
        new_per_hour=3.5,
        now=t0 + timedelta(hours=31),
    )
    s = store.feed_state("f1")
    assert (s.failing_since, s.flagged_at, s.next_poll_at, s.consecutive_failures) == (None, None, None, 0)
    assert (s.last_warning, s.new_per_hour, s.kind) == ("2 items have no date", 3.5, "sitemap")


def test_link_guid_makes_a_second_key(store):
    aid = save_sample(store)
    store.link_guid("f1", "title:abc", aid)
    store.link_guid("f1", "title:abc", aid)  # idempotent
    assert store.known("nope", "f1", "title:abc").id == aid


# ---- outbox ---------------------------------------------------------------------------
def test_outbox_lifecycle(store):
    aid = save_sample(store)
    now = datetime.now(UTC)
    due = store.due_alerts(now)
    assert [a.channel for a in due] == ["tg", "mail"]  # oldest first (insertion order)
    assert all(a.status == "pending" and a.attempts == 0 and a.article_id == aid for a in due)
    assert [a.channel for a in store.due_alerts(now, channel="mail")] == ["mail"]
    assert len(store.due_alerts(now, limit=1)) == 1
    tg = due[0]
    retry_at = now + timedelta(minutes=5)
    store.mark_failed(tg.id, "429 too many", retry_at)
    assert [a.id for a in store.due_alerts(now)] == [due[1].id]  # not due yet
    assert [a.id for a in store.due_alerts(retry_at - timedelta(seconds=1))] == [due[1].id]
    again = store.due_alerts(retry_at)
    assert [a.id for a in again] == [tg.id, due[1].id]
    assert (again[0].attempts, again[0].last_error, again[0].status) == (1, "429 too many", "pending")
    store.mark_sent(tg.id, retry_at)
    assert [a.id for a in store.due_alerts(retry_at)] == [due[1].id]
    (sent,) = store.list_alerts("sent")
    assert sent.id == tg.id and sent.status == "sent"
    c = store.counts()
    assert (c["alerts_pending"], c["alerts_sent"], c["alerts_dead"]) == (1, 1, 0)


def test_dead_and_requeue(store):
    save_sample(store)
    a = store.due_alerts(datetime.now(UTC))[0]
    store.mark_dead(a.id, "chat not found")
    assert a.id not in [x.id for x in store.due_alerts(datetime.now(UTC) + timedelta(days=999))]
    (dead,) = store.list_alerts("dead")
    assert (dead.id, dead.last_error, dead.status) == (a.id, "chat not found", "dead")
    assert store.counts()["alerts_dead"] == 1
    assert store.requeue(a.id) is True
    assert store.requeue(a.id) is False  # not dead any more
    assert store.requeue(999_999) is False
    back = [x for x in store.due_alerts(datetime.now(UTC)) if x.id == a.id][0]
    assert (back.status, back.attempts) == ("pending", 0)
    assert len(store.list_alerts()) == 2 and len(store.list_alerts(limit=1)) == 1


# ---- concurrency ------------------------------------------------------------------------
def test_concurrent_save_same_article(store):
    n_threads, n_articles = 4, 5
    results: dict[int, list] = {i: [] for i in range(n_articles)}
    errors: list[BaseException] = []

    def worker(i: int, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            key = f"https://ex.com/c/{i}"
            if store.known(key, "f1", f"g{i}") is None:
                store.record_fetch_failure(feed="f1", url=key, url_key=key, guid=f"g{i}", title="t", error="e")
            results[i].append(save_sample(store, key=key, guid=f"g{i}"))
        except BaseException as exc:
            errors.append(exc)

    for i in range(n_articles):
        barrier = threading.Barrier(n_threads)
        threads = [threading.Thread(target=worker, args=(i, barrier)) for _ in range(n_threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert errors == []
    for i in range(n_articles):
        ids = [r for r in results[i] if r is not None]
        assert len(ids) == 1, results[i]
        assert results[i].count(None) == n_threads - 1
    c = store.counts()
    assert (c["articles"], c["matches"], c["alerts_pending"]) == (n_articles, n_articles, 2 * n_articles)


def test_upgrade_from_0001_keeps_the_outbox(store_url):
    """A store made before the delivery columns (0002) upgrades with its alerts intact."""
    from sqlalchemy import create_engine

    from tests.support.databases import migrate

    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            migrate(conn, "0001")
            conn.execute(
                text(
                    "INSERT INTO articles (url_key, url, feed, outlet, guid, title, body, status, "
                    "fetch_attempts, text_source) VALUES ('k', 'u', 'f', 'o', '', 't', 'b', 'done', 0, '')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, "
                    "attempts, created_at) SELECT id, 't1', 'tg', 's', 'x', 'h', 'pending', 2, "
                    "CURRENT_TIMESTAMP FROM articles"
                )
            )
    finally:
        engine.dispose()
    s = Store(store_url)
    try:
        [alert] = s.list_alerts()
        assert (alert.status, alert.attempts, alert.delivered, alert.digest) == ("pending", 2, "", None)
        s.mark_delivered([alert.id], "abc")
        s.mark_delivered([alert.id], "def")
        assert s.get_alert(alert.id).delivered == "abc def"
    finally:
        s.close()


def test_unusable_postgres_hides_password():
    with pytest.raises(StoreError) as info:
        Store("postgresql+psycopg://postgres:Sup3rS3cret@127.0.0.1:1/test?connect_timeout=3")
    message = str(info.value)
    assert "cannot open store" in message
    assert "Sup3rS3cret" not in message
    assert "127.0.0.1:1" in message


# save_and_resolve: the pipeline stores an article and resolves its ledger item in one
# transaction (issue 16); the item reads as resolve_item would leave it, and an article stored
# already (another worker's) leaves the item alone.
@pytest.mark.parametrize(
    "alerts,note,state",
    [
        (sample_alerts(), "", "alerted"),
        ([], "; its page was a wall", "skipped"),  # matched, no alert: its story or copy group had one
    ],
)
def test_save_and_resolve_is_save_article_then_resolve_item(store, alerts, note, state):
    from monitor.models import FeedItem
    from monitor.storage import ItemInput, Resolution

    now = datetime(2026, 1, 1, tzinfo=UTC)
    item = FeedItem("f1", "https://ex.com/a/1", "g1", "عنوان", "", None)
    store.enqueue_items("f1", [ItemInput("guid:g1", "https://ex.com/a/1", item)], now)
    [row] = store.due_items("f1", now)
    got = store.save_and_resolve(
        sample_article(),
        guid="g1",
        outlet="Outlet",
        matches=[sample_match()],
        alerts=alerts,
        resolve=Resolution(row.id, now, note),
    )
    assert got is not None and store.known("https://ex.com/a/1", "f1", "g1").id == got.id
    assert got.item.state == state and got.item.article_id == got.id and got.item.reason.endswith(note)
    assert got.item == store.feed_items("f1")[0]
    again = store.save_and_resolve(
        sample_article(), guid="g1", outlet="Outlet", matches=[], alerts=[], resolve=Resolution(row.id + 1, now)
    )
    assert again is None
