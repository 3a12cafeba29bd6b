"""Locks of story placement on PostgreSQL (several `monitor run` nodes on one database).

Placement (storage/stories.place) must give what placing the articles one at a time gives.
One lock for the whole cluster did that, and made the cluster place one article at a time
(issue 17: sessions waited on it 86% of the time). Instead, a placement takes:

1. a transaction-level advisory lock per MinHash band key and per key term of its article
   (`lock_keys`, one statement, keys in sorted order so two placements cannot deadlock). An
   article's copy group comes from the articles sharing a band with it, and its story from
   the articles it links (`clustering.links` needs MIN_SHARED shared key terms): any two
   placements that could find each other share a key, so the later one waits for the
   earlier one's commit and then reads it, as in serial placement. Placements with no key
   in common run at once.
2. row locks (``FOR UPDATE``, in id order) on the stories it joins or merges
   (`lock_stories`), before it writes any. A story changes under a placement only through
   others that join it (they wait for the row lock: two articles of a story decide its
   per-story alert and follow-up one after the other) or a merge that folds it into an
   older story and deletes it. So a candidate or target story gone from the database means
   the placement read a state that no longer holds: `PlacementConflict`, raised before the
   placement writes anything (row locks taken by the failed `lock_stories` are released by
   its savepoint; the advisory ones are kept), and `with_retry` decides again, at most
   MAX_ATTEMPTS times.

SQLite needs none of this: its write transaction (BEGIN IMMEDIATE) already serializes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from monitor.errors import StoreError
from monitor.storage.db import lock_key

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 8
# First key of the two-key advisory lock form (its own key space, apart from the one-key
# locks of db.py and the cluster): "plac".
NAMESPACE = 0x706C6163

# The subquery sorts the keys before the locks are taken (a lock function in the select list
# of the ORDER BY query itself may run before the sort).
_LOCK_KEYS = text(
    "SELECT count(pg_advisory_xact_lock(:ns, k)) FROM "
    "(SELECT DISTINCT k FROM unnest(CAST(:keys AS integer[])) AS u(k) ORDER BY k) AS s"
).bindparams(bindparam("ns"), bindparam("keys"))
_STORIES = text("SELECT id FROM stories WHERE id = ANY(CAST(:ids AS bigint[]))")
_LOCK_STORIES = text("SELECT id FROM stories WHERE id = ANY(CAST(:ids AS bigint[])) ORDER BY id FOR UPDATE")


class PlacementConflict(StoreError):
    """A story the placement read was merged into another meanwhile (decide again)."""


def placement_keys(bands: Iterable[int], terms: Iterable[str]) -> list[int]:
    """The sorted lock keys of an article: one per MinHash band key, one per key term."""
    return sorted({lock_key(f"b:{b}") for b in bands} | {lock_key(f"t:{t[:100]}") for t in terms})


def lock_keys(conn: Connection, bands: Iterable[int], terms: Iterable[str]) -> None:
    """Take the article's advisory locks (held to the end of the transaction)."""
    keys = placement_keys(bands, terms)
    if keys:
        conn.execute(_LOCK_KEYS, {"ns": NAMESPACE, "keys": keys})


def lock_stories(conn: Connection, ids: list[int]) -> None:
    """Row-lock stories `ids` in id order; PlacementConflict when one is gone (merged away),
    with the row locks this took released (a savepoint around them), so that the placement's
    next attempt takes its locks in id order again."""
    with conn.begin_nested():  # a PlacementConflict rolls back to it, releasing the row locks
        got = conn.execute(_LOCK_STORIES, {"ids": sorted(ids)}).scalars().all()
        if len(got) != len(set(ids)):
            raise PlacementConflict(f"stories merged meanwhile: {sorted(set(ids) - set(got))}")


def gone(conn: Connection, ids: list[int]) -> list[int]:
    """Those of stories `ids` no longer in the database (merged into another). A candidate story
    read with no article is one, or a story whose articles were deleted (it stays, joined by none)."""
    if not ids:
        return []
    have = set(conn.execute(_STORIES, {"ids": sorted(ids)}).scalars())
    return sorted(set(ids) - have)


def with_retry(conn: Connection, dialect: str, decide: Callable[[], T]) -> T:
    """`decide()` (which may raise PlacementConflict), decided again on PostgreSQL. A conflict is
    raised before the placement writes anything: by `gone` (only reads before it) or by
    `lock_stories` (which releases its row locks), so an attempt leaves nothing to undo and no
    savepoint is needed around it (two round trips less per article, issue 16)."""
    if dialect != "postgresql":
        return decide()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return decide()
        except PlacementConflict as exc:
            if attempt == MAX_ATTEMPTS:
                raise
            log.info("placement retried attempt=%d reason=%s", attempt, exc.args[0] if exc.args else "conflict")
    raise AssertionError("unreachable")  # the loop returns or raises
