"""A ``Prepared`` statement (storage/prepared.py: compiled once per dialect, run on the driver's
cursor, issue 16) stores and reads what ``conn.execute`` of the same statement does, on SQLite
and PostgreSQL: each value through its column type's bind processor, each result through its
result processor, a driver error as StoreError, the engine's cursor events told.

The faults a path past SQLAlchemy's parameter processing could bring back, each a row below:
- a NUL in text refused by PostgreSQL ("A string literal cannot contain NUL (0x00) characters"):
  https://github.com/psycopg/psycopg2/issues/1243, https://github.com/MIT-LCP/oracle2postgres/issues/15,
  https://github.com/arachnys/cabot/pull/655 (NulFreeText drops it);
- a datetime stored in another zone or format than the rows it is compared with (UTCDateTime:
  UTC, SQLite's one text format), and read back naive;
- hand-built parameter binding that copies SQLAlchemy's internals and drifts from them:
  https://github.com/zzzeek/sqlalchemy/pull/433 (aiopg / asyncpgsa copying ``_init_compiled``);
  here every processor comes from the column types, and these rows compare both paths.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, String, bindparam, event, func, insert, literal, select, update

from monitor.errors import StoreError
from monitor.storage.prepared import Prepared
from monitor.storage.schema import articles, neardup_entries, stories, story_articles
from tests.support.store_rows import save_sample

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RIYADH = timezone(timedelta(hours=3))

STORY_KEYS = ("title", "first_seen", "last_seen", "n_articles", "profile")

# (variant, a stories row as given; the title as stored)
STORY_ROWS = [
    ("plain", dict(title="عنوان", first_seen=T0, last_seen=T0, n_articles=1, profile="{}"), "عنوان"),
    ("NUL in the title", dict(title="عن\x00وان", first_seen=T0, last_seen=T0, n_articles=1, profile="{}"), "عنوان"),
    (
        "aware, not UTC",
        dict(title="t", first_seen=T0.astimezone(RIYADH), last_seen=T0.astimezone(RIYADH), n_articles=2, profile="{}"),
        "t",
    ),
    (
        "naive (taken as UTC)",
        dict(title="t", first_seen=T0.replace(tzinfo=None), last_seen=T0, n_articles=1, profile="{}"),
        "t",
    ),
]

_STORY = select(stories.c.title, stories.c.first_seen, stories.c.last_seen, stories.c.n_articles, stories.c.profile)


@pytest.mark.parametrize("variant,row,title", STORY_ROWS, ids=[r[0] for r in STORY_ROWS])
def test_an_insert_stores_what_conn_execute_stores(store, variant, row, title):
    fast = Prepared(insert(stories).returning(stories.c.id), STORY_KEYS)
    with store.tx() as conn:
        a = fast.execute(conn, row).scalar_one()
        b = conn.execute(insert(stories).returning(stories.c.id), row).scalar_one()
        got_a = conn.execute(_STORY.where(stories.c.id == a)).one()
        got_b = conn.execute(_STORY.where(stories.c.id == b)).one()
    assert tuple(got_a) == tuple(got_b)
    assert got_a.title == title and got_a.first_seen == T0 and got_a.first_seen.tzinfo is not None


# (variant, the select, its parameters): rows as conn.execute gives them, datetimes converted
SELECTS = [
    ("by id, a datetime column", select(stories.c.id, stories.c.last_seen).where(stories.c.id == bindparam("sid")), {}),
    (
        "a datetime parameter, a fixed literal and LIMIT",
        select(stories.c.id, literal(0).label("rank"))
        .where(stories.c.last_seen >= bindparam("since"), stories.c.title != "x")
        .order_by(stories.c.id)
        .limit(1),
        {"since": T0.astimezone(RIYADH) - timedelta(minutes=1)},
    ),
    ("no row", select(stories.c.profile).where(stories.c.id == bindparam("sid")), {"sid": -1}),
    (
        "a literal NULL (an anonymous bind whose value is None)",
        select(stories.c.id, literal(None, Integer).label("absent")).where(stories.c.id == bindparam("sid")),
        {},
    ),
    (
        "bytes and NULL",
        select(neardup_entries.c.article_id, neardup_entries.c.shingles, story_articles.c.copy_of)
        .join(story_articles, story_articles.c.article_id == neardup_entries.c.article_id, isouter=True)
        .where(neardup_entries.c.article_id == bindparam("aid")),
        {},
    ),
]


@pytest.mark.parametrize("variant,stmt,params", SELECTS, ids=[s[0] for s in SELECTS])
def test_a_select_reads_what_conn_execute_reads(store, variant, stmt, params):
    aid = save_sample(store)
    with store.tx() as conn:
        sid = conn.execute(
            insert(stories).returning(stories.c.id),
            dict(title="t", first_seen=T0, last_seen=T0, n_articles=1, profile="{}"),
        ).scalar_one()
        conn.execute(insert(neardup_entries), dict(article_id=aid, indexed_at=T0, shingles=b"\x00\x01\xff"))
    args = {"sid": sid, "aid": aid, **params}
    with store.tx() as conn:
        want = [tuple(r) for r in conn.execute(stmt, args).all()]
        got = Prepared(stmt).execute(conn, args).all()
    assert [tuple(r) for r in got] == want
    assert [r._mapping == dict(zip(r._fields, r, strict=True)) for r in got] == [True] * len(got)


# (variant, an UPDATE run per mapping): execute_many changes what conn.execute's executemany does
UPDATES = [
    (
        "a datetime parameter and a literal NULL",
        update(stories)
        .where(stories.c.id == bindparam("sid"), func.coalesce(literal(None, String), stories.c.title) == "t")
        .values(last_seen=bindparam("seen"), n_articles=stories.c.n_articles + 1),
    ),
]


@pytest.mark.parametrize("variant,stmt", UPDATES, ids=[u[0] for u in UPDATES])
def test_execute_many_changes_what_an_executemany_changes(store, variant, stmt):
    row = dict(title="t", first_seen=T0, last_seen=T0, n_articles=1, profile="{}")
    with store.tx() as conn:
        ids = [conn.execute(insert(stories).returning(stories.c.id), row).scalar_one() for _ in range(4)]
    seen = T0.astimezone(RIYADH) + timedelta(hours=1)
    with store.tx() as conn:
        n = Prepared(stmt).execute_many(conn, [{"sid": i, "seen": seen} for i in ids[:2]])
        conn.execute(stmt, [{"sid": i, "seen": seen} for i in ids[2:]])
        got = [tuple(r) for r in conn.execute(_STORY.where(stories.c.id.in_(ids)).order_by(stories.c.id)).all()]
    assert n == 2
    assert got[:2] == got[2:] and got[0][2] == seen and got[0][3:] == (2, "{}")


def test_a_driver_error_leaves_as_store_error_and_the_transaction_is_undone(store):
    fast = Prepared(insert(neardup_entries), ("article_id", "indexed_at", "shingles"))
    with pytest.raises(StoreError, match="(?i)foreign key"), store.tx() as conn:
        fast.execute(conn, dict(article_id=123456, indexed_at=T0, shingles=b""))
    with store.tx() as conn:
        assert conn.execute(select(neardup_entries.c.article_id)).all() == []


def test_the_engines_cursor_events_are_told(store):
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda c, cur, sql, *a: seen.append(sql))
    with store.tx() as conn:
        Prepared(select(stories.c.id).where(stories.c.id == bindparam("sid"))).execute(conn, {"sid": 1})
    assert [s.split()[0] for s in seen] == ["SELECT"]


# (variant, statement, keys): refused when first run, before anything is sent
REFUSED = [
    ("a column left to its Python-side default (articles.outlet)", insert(articles), ("url_key", "url", "feed")),
    (
        "an expanding IN",
        select(stories.c.id).where(stories.c.id.in_(bindparam("ids", expanding=True))),
        None,
    ),
    ("a parameter not given", select(stories.c.id).where(stories.c.id == bindparam("sid")), None),
]


@pytest.mark.parametrize("variant,stmt,keys", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_it_cannot_run_as_sqlalchemy_would_is_refused(store, variant, stmt, keys):
    with pytest.raises((ValueError, KeyError)), store.tx() as conn:
        Prepared(stmt, keys).execute(conn, {})
