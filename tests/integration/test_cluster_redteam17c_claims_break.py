"""Red team 17c #3: a page claim (storage/claims.py) against the real PostgreSQL under a
server's session timeouts, and how its lock is freed.

A claim was a transaction-level advisory lock, so its connection sat idle in a transaction
for the whole page fetch; a server with ``idle_in_transaction_session_timeout`` (usual on
managed PostgreSQL) killed it, and the item failed at the claim's commit. It is now a
session-level lock on a pooled connection in autocommit, unlocked in a ``finally`` before
the connection goes back to the pool (or the connection is dropped when that fails). The
timeouts are set per session (libpq ``options`` in the store URL), never server-wide.

Rebuilt (no text copied) from public reports of the kind:
- skypilot-org/skypilot#10251: an advisory lock taken in an implicit transaction left its
  session idle in transaction for the whole hold; the timeout would kill the holder.
- level12/pals#28: intermittent IdleInTransactionSessionTimeout around pg_advisory_lock.
- lablup/backend.ai#1826: a lock's connection closed by the server while held; the lock
  must be released explicitly, and the next holder may take it.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

import pytest

from monitor.storage import Store
from tests.support.cluster import covering_terms, sql
from tests.support.databases import fresh_pg_database
from tests.support.pipelines import feed_pipeline
from tests.support.service_helpers import articles, serve_feed

pytestmark = pytest.mark.integration

SPACE = 0x6D6F6E  # claims.py's first key of a page claim
LEFT = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def _with_options(url: str, options: str) -> str:
    """`url` whose every session starts with `options` (libpq ``-c name=value``)."""
    return f"{url}?options={quote(options)}"


# (case, the session's settings, each page's delay in seconds, articles)
TIMEOUTS = [
    ("idle_in_transaction_session_timeout 1 s, pages of 2 s (skypilot#10251)", "idle_in_transaction", 1, 2.0, 2),
    ("idle_in_transaction_session_timeout 5 s, a page of 6 s (level12/pals#28)", "idle_in_transaction", 5, 6.0, 1),
    ("idle_session_timeout 1 s: the idle claim itself cut mid-fetch (backend.ai#1826)", "idle", 1, 2.0, 1),
]


@pytest.mark.parametrize("case,kind,seconds,delay,n", TIMEOUTS, ids=[t[0] for t in TIMEOUTS])
def test_a_slow_page_under_a_session_timeout_is_stored(tmp_path, web_server, case, kind, seconds, delay, n):
    arts = articles("2015-07-21", 0, n)
    pages = serve_feed(web_server, "/main.xml", arts, delay=delay)
    with fresh_pg_database() as base:
        Store(base).close()  # migrated without the timeout
        url = _with_options(base, f"-c {kind}_session_timeout={seconds * 1000}")
        assert sql(url, f"SHOW {kind}_session_timeout") == [(f"{seconds}s",)], case
        pipeline = feed_pipeline(tmp_path, url, [("main", web_server.url("/main.xml"))], covering_terms(arts))
        config = pipeline.config
        try:
            pipeline.poll_feed(config.feeds[0], force=True)
            alerts = len(pipeline.store.list_alerts(limit=100))
            errors = sql(base, "SELECT state, last_error FROM items WHERE last_error IS NOT NULL")
            left = sql(base, LEFT, SPACE)
        finally:
            pipeline.fetcher.close()
            pipeline.store.close()
    fetched = [len(web_server.requests_for(p.split(str(web_server.port), 1)[1])) for p in pages]
    assert fetched == [1] * n, case
    assert alerts == n, case
    assert errors == [], case  # the item no longer fails at the claim's end
    assert left == [(0,)], case  # and no claim outlives its block


def _holder_pid(url: str) -> int:
    rows = sql(url, LEFT.replace("count(*)", "pid") + " AND granted", SPACE)
    assert rows is not None and len(rows) == 1
    return int(rows[0][0])


def _raise(url: str) -> None:
    raise RuntimeError("the block failed")


def _cut(url: str) -> None:
    """The claim's connection ends under it (a failover, a server's session timeout)."""
    sql(url, "SELECT pg_terminate_backend(%s)", _holder_pid(url))


# (case, what happens inside the holder's block, the block's error, the lock is freed at once
# by it (another session gets the claim while the block still runs), a warning is logged)
FREED = [
    ("the block raises: unlocked before its connection goes back to the pool", _raise, RuntimeError, False, False),
    ("the claim's connection cut mid-block: the lock freed, the connection dropped", _cut, None, True, True),
]


@pytest.mark.parametrize("case,inside,error,freed_at_once,warned", FREED, ids=[f[0] for f in FREED])
def test_a_claims_lock_is_freed(caplog, case, inside, error, freed_at_once, warned):
    with fresh_pg_database() as url:
        store, other = Store(url), Store(url)
        try:
            caplog.set_level(logging.WARNING, logger="monitor.storage.claims")
            during: list[bool] = []
            try:
                with store.claim_page("example.com/a/1") as got:
                    assert got, case
                    inside(url)
                    with other.claim_page("example.com/a/1", wait=0.5) as second:
                        during.append(second)
            except RuntimeError:
                assert error is RuntimeError, case
            with other.claim_page("example.com/a/1", wait=5.0) as after:
                pass
            assert store.engine is not None
            checked_out = store.engine.pool.checkedout()  # type: ignore[attr-defined]
            with store.claim_page("example.com/a/1", wait=5.0) as again:  # the store claims on
                pass
            left = sql(url, LEFT, SPACE)
        finally:
            store.close()
            other.close()
    assert during == ([True] if freed_at_once else []), case
    assert (after, again, checked_out, left) == (True, True, 0, [(0,)]), case
    assert ("session lock not released" in caplog.text) is warned, case


def test_many_failed_blocks_keep_no_connection_and_no_lock():
    """More failing claims than the pool holds (10 + 20 overflow): each returns its
    connection unlocked (a leak would exhaust the pool and block the 31st claim)."""
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            failed = 0
            for i in range(40):
                try:
                    with store.claim_page(f"example.com/a/{i % 3}", wait=1.0):
                        raise RuntimeError("the block failed")
                except RuntimeError:
                    failed += 1
            assert store.engine is not None
            checked_out = store.engine.pool.checkedout()  # type: ignore[attr-defined]
            left = sql(url, LEFT, SPACE)
            got: list[bool] = []
            threads = [
                threading.Thread(target=lambda k=k: got.append(_claims(store, k)), name=f"claim-{k}") for k in range(8)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        finally:
            store.close()
    assert (failed, checked_out, left) == (40, 0, [(0,)])
    assert got == [True] * 8  # eight worker threads, one key each: none waits


def _claims(store: Store, k: int) -> bool:
    with store.claim_page(f"example.com/b/{k}", wait=1.0) as got:
        return got


# (case, the waiter's session settings, its wait in seconds, the holder lets go after
# seconds, the waiter gets the claim). The waiter never fails: past its wait it fetches.
WAITS = [
    ("a wait of 1 s on a holder of 3 s: given up", "", 1.0, 3.0, False),
    ("a wait of 5 s on a holder of 1 s: granted", "", 5.0, 1.0, True),
    (
        "a server statement_timeout of 1 s under a 60 s wait: given up, no error",
        "-c statement_timeout=1000",
        60.0,
        3.0,
        False,
    ),
]


@pytest.mark.parametrize("case,options,wait,holds,got", WAITS, ids=[w[0] for w in WAITS])
def test_a_claims_wait_ends_in_a_fetch_never_an_error(case, options, wait, holds, got):
    with fresh_pg_database() as base:
        holder, waiter = Store(base), Store(_with_options(base, options) if options else base)
        entered = threading.Event()

        def hold() -> None:
            with holder.claim_page("example.com/a/1"):
                entered.set()
                threading.Event().wait(holds)

        first = threading.Thread(target=hold)
        try:
            first.start()
            assert entered.wait(60), case
            with waiter.claim_page("example.com/a/1", wait=wait) as granted:
                pass
            first.join(60)
            left = sql(base, LEFT, SPACE)
        finally:
            holder.close()
            waiter.close()
    assert (granted, left) == (got, [(0,)]), case
