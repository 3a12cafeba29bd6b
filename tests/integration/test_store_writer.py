"""SQLite's write transactions of one process run on ONE connection (storage/db.py, ``_Writer``;
issue 16: on pooled connections a write often landed on a connection another had written
through since, and SQLite dropped its page cache, ≈ 0.3 ms of CPU per new article with 8
threads):

- writes share one connection, whatever thread makes them and while reads hold other ones
  (before: the pool handed out several);
- a write whose block fails is rolled back and the next one works (a fresh connection);
- a write nested in another of the same thread fails as "locked" after the wait (before:
  SQLite's busy_timeout, the same error), the outer one undone;
- reads still answer while this process writes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

import monitor.storage.db as db
from monitor.errors import StoreError
from monitor.storage import Store
from monitor.storage.schema import article_guids, neardup_entries
from tests.support.store_rows import save_sample

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _write_connections(store: Store) -> set[int]:
    """Ids of the driver connections that ran an INSERT, UPDATE or DELETE, from now on."""
    seen: set[int] = set()
    assert store.engine is not None

    def note(conn, cursor, sql, *_a):
        if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.add(id(conn.connection.dbapi_connection))

    event.listen(store.engine, "before_cursor_execute", note)
    return seen


def _one_by_one(store: Store, aid: int) -> None:
    store.link_guid("f", "g0", aid)
    with store.tx(write=False) as conn:  # a read holds a pooled connection meanwhile
        conn.execute(select(article_guids.c.guid)).all()
        store.link_guid("f", "g1", aid)
    store.link_guid("f", "g2", aid)


def _threads(store: Store, aid: int) -> None:
    def work(t: int) -> None:
        for i in range(10):
            store.link_guid("f", f"g{t}-{i}", aid)
            store.known("none", "f", f"g{t}-{i}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


# (variant, the writes, guids stored by them)
SHARED: list[tuple[str, Callable[[Store, int], None], int]] = [
    ("one after another, a read open meanwhile", _one_by_one, 3),
    ("8 threads at once, reading too", _threads, 80),
]


@pytest.mark.parametrize(("variant", "writes", "stored"), SHARED, ids=[s[0] for s in SHARED])
def test_sqlite_writes_share_one_connection(tmp_path, variant, writes, stored):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        aid = save_sample(store)
        used = _write_connections(store)
        writes(store, aid)
        with store.tx(write=False) as conn:
            got = conn.execute(select(article_guids.c.guid).where(article_guids.c.feed == "f")).scalars().all()
    finally:
        store.close()
    assert len(used) == 1, variant
    assert len(got) == stored, variant


def _block_error(store: Store) -> None:
    with store.tx() as conn:
        conn.execute(neardup_entries.insert(), dict(article_id=1, indexed_at=T0, shingles=b""))
        raise ValueError("the block failed")


def _driver_error(store: Store) -> None:
    with store.tx() as conn:  # no article 123456: the foreign key refuses it
        conn.execute(neardup_entries.insert(), dict(article_id=123456, indexed_at=T0, shingles=b""))


FAILED = [
    ("an error of the block", _block_error, ValueError),
    ("a driver error (foreign key)", _driver_error, StoreError),
]


@pytest.mark.parametrize(("variant", "fail", "error"), FAILED, ids=[f[0] for f in FAILED])
def test_a_write_after_a_failed_one_works(tmp_path, variant, fail, error):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        save_sample(store)
        with pytest.raises(error):
            fail(store)
        with store.tx(write=False) as conn:
            assert conn.execute(select(neardup_entries.c.article_id)).all() == [], variant
        store.link_guid("f", "after", 1)
        assert store.known("none", "f", "after") is not None, variant
    finally:
        store.close()


def test_a_write_nested_in_one_of_the_same_thread_fails_as_locked(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "WRITE_WAIT", 0.2)
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        aid = save_sample(store)
        with pytest.raises(StoreError, match="locked"), store.tx():
            store.link_guid("f", "inner", aid)
        assert store.known("none", "f", "inner") is None
        store.link_guid("f", "later", aid)  # the connection was given back
        assert store.known("none", "f", "later") is not None
    finally:
        store.close()


def test_a_read_answers_while_this_process_writes(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        aid = save_sample(store)
        with store.tx() as conn:
            conn.execute(article_guids.insert(), dict(feed="f", guid="uncommitted", article_id=aid))
            assert store.known("none", "f", "uncommitted") is None  # the committed state, at once
        assert store.known("none", "f", "uncommitted") is not None
    finally:
        store.close()


# redteam16c: the store closing (``monitor run``'s stop, then ``store.close()``) while a thread's
# write transaction is still running. (variant, the writer's wait, stored after): before the fix a
# write that outlasted the wait had its connection closed under it by ``close()`` and was lost
# ("This Connection is closed"); as before ``_Writer`` (a pooled connection), it now commits.
# (variant, the writer's wait in seconds, close() has given up waiting before the write ends)
CLOSING = [
    ("the write ends within the wait", 30.0, False),
    ("the write outlasts the wait", 0.05, True),
]


@pytest.mark.parametrize(("variant", "wait", "gave_up"), CLOSING, ids=[c[0] for c in CLOSING])
def test_a_write_running_when_the_store_closes_commits(tmp_path, monkeypatch, variant, wait, gave_up):
    monkeypatch.setattr(db, "WRITE_WAIT", wait)
    path = tmp_path / "m.db"
    store = Store(f"sqlite:///{path}")
    aid = save_sample(store)
    inside, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with store.tx() as conn:
                conn.execute(article_guids.insert(), dict(feed="f", guid="running", article_id=aid))
                inside.set()
                go.wait(60)
        except BaseException as exc:  # reported below
            errors.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    assert inside.wait(60)
    closer = threading.Thread(target=store.close)
    closer.start()
    if gave_up:
        closer.join(60)
    go.set()
    writer.join(60)
    closer.join(60)
    after = Store(f"sqlite:///{path}")
    try:
        assert after.known("none", "f", "running") is not None, (variant, errors)
        assert errors == [], variant
    finally:
        after.close()
