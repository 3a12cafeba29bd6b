"""Issue 17: the races of story placement on PostgreSQL, made to happen one step at a time.

A placement (Store.save_article of a real fixture article's same-text twin, so the story it
joins is known) runs in a thread while the test holds another transaction open on the story
it wants, as a concurrent placement on another node would (one sharing no band and no key
term with it, so only the story's row lock orders them). The test waits until the placement
waits on that row lock, commits, and checks the placement read the committed state:

- merged away: the other transaction folds the twin's story into an older one (a merge) and
  deletes it; the placement must retry and join the older story (not write to a deleted one);
- alerted meanwhile: the other transaction adds the story's per-story alert; the placement
  must see it and not alert the story again (its update of the story's row would also wait:
  this row guards the order "story row first, alert decision after", not the lock alone).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import text

from monitor.dedup import neardup, stories
from monitor.models import Article, NewAlert
from monitor.storage import Store
from monitor.storage.stories import StoryInput
from tests.support.databases import fresh_pg_database, pg_unavailable
from tests.support.story_helpers import T0, put_story_article
from tests.support.story_labels import daemon_rules, fixture_articles, labels

pytestmark = pytest.mark.skipif(pg_unavailable() is not None, reason=f"PostgreSQL: {pg_unavailable()}")

ARTS = fixture_articles(labels())
X, Y = ARTS["snn-20150721-0031"], ARTS["snn-20150723-0619"]  # two stories (different events)
PER_STORY = NewAlert("story-topic", "tg", "s", "t", "h", per="story")
HANG_GUARD = 120.0  # seconds: only so a broken lock cannot hang the suite


def twin(store: Store, art: dict, alerts: list[NewAlert]) -> int:
    """Save a same-text copy of `art` under another URL (it joins `art`'s story)."""
    a = Article(
        url=art["url"] + "?twin", url_key=art["url"] + "#twin", feed="twin", title=art["title"], body=art["content"]
    )
    inp = StoryInput(
        neardup.fingerprint(neardup.article_text(a.title, a.body)), stories.profile(a.title, a.body), daemon_rules()
    )
    aid = store.save_article(
        a, guid="", outlet="twin", matches=[], alerts=alerts, story=inp, now=T0 + timedelta(minutes=5)
    )
    assert aid is not None
    return aid


def wait_for_row_lock_wait(dsn: str, db: str) -> None:
    deadline = time.monotonic() + HANG_GUARD
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
                " AND wait_event IN ('transactionid', 'tuple')",
                (db,),
            ).fetchall()
            if rows:
                return
            time.sleep(0.02)
    raise AssertionError("the placement never waited on the story's row lock")


def merge_into_older(conn, older: int, newer: int) -> None:
    """What a concurrent placement's merge does to the stories' rows."""
    conn.execute(text("UPDATE story_articles SET story_id = :o WHERE story_id = :n"), {"o": older, "n": newer})
    conn.execute(
        text(
            "UPDATE story_terms SET story_id = :o WHERE story_id = :n AND term NOT IN "
            "(SELECT term FROM story_terms WHERE story_id = :o)"
        ),
        {"o": older, "n": newer},
    )
    conn.execute(text("DELETE FROM story_terms WHERE story_id = :n"), {"n": newer})
    conn.execute(text("DELETE FROM stories WHERE id = :n"), {"n": newer})


def alert_story(conn, article: int) -> None:
    """What a concurrent placement that alerted the story does."""
    conn.execute(
        text(
            "INSERT INTO alerts (article_id, topic_id, channel, subject, text, html, status, attempts, created_at)"
            " VALUES (:a, 'story-topic', 'tg', 's', 't', 'h', 'pending', 0, :now)"
        ),
        {"a": article, "now": T0},
    )


# (id, what the other transaction does holding the story's row, twin of, expected)
ROWS = [
    ("merged away: retry and join the older story", "merge", Y, "joins older"),
    ("alerted meanwhile: no second per-story alert", "alert", X, "no alert"),
]


@pytest.mark.parametrize("other,art,expect", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_placement_reads_what_the_other_transaction_committed(caplog, other, art, expect):
    caplog.set_level(logging.INFO, logger="monitor.storage.placelock")
    with fresh_pg_database() as url:
        db = url.rsplit("/", 1)[1]
        dsn = f"host=127.0.0.1 port=5432 user=postgres dbname={db}"
        store = Store(url)
        try:
            x = put_story_article(store, X, 0, T0, daemon_rules())
            y = put_story_article(store, Y, 1, T0 + timedelta(minutes=1), daemon_rules())
            sid = {a.article_id: s.id for s in store.stories(T0 - timedelta(days=1)) for a in s.articles}
            assert sid[x] < sid[y]  # two stories, X's the older
            target = sid[x] if art is X else sid[y]
            got: dict[str, object] = {}
            assert store.engine is not None
            with store.engine.connect() as other_conn:
                tx = other_conn.begin()
                other_conn.execute(text("SELECT id FROM stories WHERE id = :s FOR UPDATE"), {"s": target})
                if other == "merge":
                    merge_into_older(other_conn, sid[x], sid[y])
                else:
                    alert_story(other_conn, x)

                def place() -> None:
                    try:
                        got["id"] = twin(store, art, [PER_STORY])
                    except BaseException as exc:  # checked below
                        got["error"] = exc

                t = threading.Thread(target=place)
                t.start()
                wait_for_row_lock_wait(dsn, db)
                tx.commit()
                t.join(HANG_GUARD)
            assert "error" not in got, got
            placed = {a.article_id: s.id for s in store.stories(T0 - timedelta(days=1)) for a in s.articles}
            with store.engine.connect() as conn:
                alerted = conn.execute(text("SELECT article_id FROM alerts")).scalars().all()
        finally:
            store.close()
    if expect == "joins older":
        assert placed[got["id"]] == placed[x] == placed[y] == sid[x]
        assert "placement retried" in caplog.text
    else:
        assert placed[got["id"]] == sid[x]
        assert alerted == [x]  # the other transaction's alert only


def test_a_story_whose_articles_were_deleted_does_not_stop_placement():
    """A candidate story read with no article means "merged away meanwhile" (retry) only when its
    row is gone too: one whose articles an operator deleted stays, and is joined by none."""
    with fresh_pg_database() as url:
        store = Store(url)
        try:
            x = put_story_article(store, X, 0, T0, daemon_rules())
            assert store.engine is not None
            with store.engine.begin() as conn:
                conn.execute(text("DELETE FROM articles WHERE id = :x"), {"x": x})  # cascades to story_articles
            again = twin(store, X, [PER_STORY])
            (story,) = [s for s in store.stories(T0 - timedelta(days=1)) if s.articles]
        finally:
            store.close()
    assert [a.article_id for a in story.articles] == [again]
