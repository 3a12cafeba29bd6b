"""The cheaper statements of a new article's store calls (issue 16) give what the slower ones
gave, on SQLite and PostgreSQL:

- ``known`` reads key, GUIDs and alias in ONE query, ranked: the key first, then each GUID in
  the order given (it read them one query each);
- ``Store.seen`` (the pipeline's checks before a page is fetched, one read transaction) is
  ``known`` and then ``title_twin`` / ``text_twin``;
- ``enqueue_items`` adds the listed items by one multi-row INSERT … RETURNING and touches the
  known ones by one executemany, counting new items per reason as the per-row statements did,
  a key with a NUL (stored without it) included;
- a list bound as one parameter (``db.in_list``: ``= ANY`` / ``json_each``) selects what an
  expanding ``IN`` selected;
- ``save_and_resolve`` resolves the item from what it stored (it read it back): the item's
  state, reason and reference equal what ``resolve_item`` reads back afterwards, for each state;
- a read-only transaction on SQLite takes no write lock: it answers while another process
  holds the write lock (it waited up to 30 s for it, then failed with "database is locked").
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from monitor.dedup import neardup, stories
from monitor.models import Article, FeedItem
from monitor.storage import ItemInput, Resolution, Store
from monitor.storage.db import in_list, list_param
from monitor.storage.schema import neardup_bands, neardup_entries
from tests.support.store_rows import sample_alerts, sample_match, save_sample
from tests.support.story_helpers import corpus

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# (variant, article keys stored: (url_key, feed, guid), the query (url_key, feed, guids...),
#  the index of the stored article found, or None)
KNOWN = [
    ("by key", [("k1", "f", "g1")], ("k1", "f", "zz"), 0),
    ("by guid, link changed", [("k1", "f", "g1")], ("k2", "f", "g1"), 0),
    ("by alias after an unknown guid", [("k1", "f", "url:k9")], ("k9", "f", "g9", "url:k9"), 0),
    ("the key before a guid of another article", [("k1", "f", "g1"), ("k2", "f", "g2")], ("k2", "f", "g1"), 1),
    ("the guid before the alias", [("k1", "f", "g1"), ("k2", "f", "url:k9")], ("k9", "f", "g1", "url:k9"), 0),
    ("the alias when the guid is empty", [("k1", "f", "url:k9")], ("k9", "f", "", "url:k9"), 0),
    ("a guid is per feed", [("k1", "f", "g1")], ("k9", "other", "g1"), None),
    ("an empty guid never matches", [("k1", "f", "")], ("k9", "f", ""), None),
    ("nothing stored under any", [("k1", "f", "g1")], ("k9", "f", "g9", "url:k9", "g8"), None),
]


@pytest.mark.parametrize(("variant", "stored", "query", "found"), KNOWN, ids=[k[0] for k in KNOWN])
def test_known_ranks_key_then_guids_in_order(store, variant, stored, query, found):
    ids = [save_sample(store, key, guid=guid, feed=feed) for key, feed, guid in stored]
    got = store.known(*query)
    assert (got.id if got else None) == (ids[found] if found is not None else None), variant
    assert store.seen(*query).known == got, variant


def _ledger(store: Store, feed: str, items: list[FeedItem], now: datetime) -> list:
    store.enqueue_items(feed, [ItemInput(f"guid:{it.guid}", it.url or f"text:{it.guid}", it) for it in items], now)
    return store.due_items(feed, now, limit=1000)


TWINS = [
    # (variant, the earlier item's link, the later item's link, same teaser, twin found)
    ("a rotated guid and link: title twin", "https://ex.com/a?v=1", "https://ex.com/a?v=2", True, True),
    ("another teaser: no twin", "https://ex.com/a?v=1", "https://ex.com/a?v=2", False, False),
    ("link-less, regenerated guid: text twin", "", "", True, True),
]


@pytest.mark.parametrize(("variant", "url1", "url2", "same", "twin"), TWINS, ids=[t[0] for t in TWINS])
def test_seen_is_known_then_the_twins(store, variant, url1, url2, same, twin):
    from monitor.dedup.keys import title_key

    published = NOW - timedelta(hours=2)
    headline = "وزير الخارجية يلتقي نظيره في الرياض لبحث العلاقات الثنائية"
    first = FeedItem("f", url1, "g1", headline, "ملخص الخبر", published)
    later = FeedItem("f", url2, "g2", headline, "ملخص الخبر" if same else "ملخص آخر", published)
    store.enqueue_items("f", [ItemInput("guid:g1", url1 or "text:g1", first, title_key(first))], NOW)
    [row1] = store.due_items("f", NOW)
    store.save_and_resolve(
        Article(url1, url1 or "text:g1", "f", first.title, "نص"),
        guid="g1",
        outlet="O",
        matches=[],
        alerts=[],
        resolve=Resolution(row1.id, NOW),
    )
    t2 = NOW + timedelta(hours=1)
    store.enqueue_items("f", [ItemInput("guid:g2", url2 or "text:g2", later, title_key(later))], t2)
    [row2] = store.due_items("f", t2)
    since = NOW - timedelta(days=7)
    seen = store.seen(url2 or "text:g2", "f", "g2", ledger=row2, twin_since=since)
    alone = store.title_twin(row2) or store.text_twin(row2, since)
    assert seen.known == store.known(url2 or "text:g2", "f", "g2") and seen.known is None, variant
    assert seen.twin == alone, variant
    assert (seen.twin is not None and seen.twin.id == row1.id) == twin, variant


ENQUEUE = [
    # (variant, keys listed by the first poll, keys listed by the second, new per poll)
    ("all new, then all known", ["a", "b", "c"], ["a", "b", "c"], (3, 0)),
    ("a key listed twice counts once", ["a", "a", "b"], ["b", "c", "c"], (2, 1)),
    ("two keys a NUL apart are one row", ["a\x00", "a"], ["a", "b\x00"], (1, 1)),
    ("nothing listed", [], ["a"], (0, 1)),
]


@pytest.mark.parametrize(("variant", "first", "second", "new"), ENQUEUE, ids=[e[0] for e in ENQUEUE])
def test_enqueue_counts_new_items_and_touches_known_ones(store, variant, first, second, new):
    def listed(keys: list[str], reason: str) -> list[ItemInput]:
        return [
            ItemInput(f"guid:{k}", f"https://ex.com/{k.strip(chr(0))}", FeedItem("f", "", k, k, ""), reason_code=reason)
            for k in keys
        ]

    t2 = NOW + timedelta(minutes=5)
    got1 = store.enqueue_items("f", listed(first, "new"), NOW)
    got2 = store.enqueue_items("f", listed(second, "cap"), t2)
    assert (got1.get("new", 0), got2.get("cap", 0)) == new, variant
    rows = {r.key: r for r in store.feed_items("f", limit=100)}
    stored = {f"guid:{k.replace(chr(0), '')}" for k in first + second}
    assert set(rows) == stored, variant
    for k in second:  # listed again: last seen by the second poll, first seen kept
        r = rows[f"guid:{k.replace(chr(0), '')}"]
        assert r.last_seen_at == t2, variant
        assert r.first_seen_at == (NOW if k.replace("\x00", "") in [f.replace("\x00", "") for f in first] else t2)


IN_LISTS = [
    # (variant, band keys stored, band keys asked for)
    ("some found", [5, -7, 2**62, -(2**62)], [5, 2**62, 99]),
    ("none found", [1, 2, 3], [4, 5]),
    ("an empty list", [1, 2], []),
    ("repeated values", [1, 2], [2, 2, 2]),
]


@pytest.mark.parametrize(("variant", "stored", "asked"), IN_LISTS, ids=[i[0] for i in IN_LISTS])
def test_a_list_bound_as_one_parameter_selects_as_in_does(store, variant, stored, asked):
    from sqlalchemy import bindparam, insert, select

    save_sample(store, "k1")
    with store.tx() as conn:
        article_id = conn.exec_driver_sql("SELECT id FROM articles").scalar_one()
        conn.execute(insert(neardup_entries).values(article_id=article_id, indexed_at=NOW, shingles=b""))
        conn.execute(insert(neardup_bands), [{"band": b, "article_id": article_id} for b in stored])
        one = select(neardup_bands.c.band).where(in_list(neardup_bands.c.band, "bands", store.dialect))
        got = sorted(conn.execute(one, {"bands": list_param(store.dialect, asked)}).scalars())
        expanding = select(neardup_bands.c.band).where(neardup_bands.c.band.in_(bindparam("b", expanding=True)))
        want = sorted(conn.execute(expanding, {"b": asked}).scalars())
    assert got == want == sorted(b for b in stored if b in asked), variant


def test_a_term_list_with_a_nul_finds_the_term_stored_without_it(store):
    from sqlalchemy import insert, select

    from monitor.storage.schema import stories as stories_table
    from monitor.storage.schema import story_terms

    with store.tx() as conn:
        sid = conn.execute(
            insert(stories_table)
            .values(title="t", first_seen=NOW, last_seen=NOW, n_articles=1, profile="{}")
            .returning(stories_table.c.id)
        ).scalar_one()
        conn.execute(insert(story_terms), [{"story_id": sid, "term": t} for t in ("غزة", "a\x00b", "it's")])
        q = select(story_terms.c.term).where(in_list(story_terms.c.term, "terms", store.dialect))
        got = sorted(conn.execute(q, {"terms": list_param(store.dialect, ["ab", "it's", "غزة", "x"])}).scalars())
    assert got == sorted(["ab", "it's", "غزة"])


def _story_input(title: str, body: str):
    from monitor.storage.stories import StoryInput

    return StoryInput(
        neardup.fingerprint(neardup.article_text(title, body)),
        stories.profile(title, body),
        echoes=stories.echoes(title, body),
    )


# (variant, what the article before stored: None or (same text, its alerts), this article's
#  match and alerts, the state its item gets)
RESOLVED = [
    ("alerted", None, True, True, "alerted"),
    ("matched nothing", None, False, False, "matched_nothing"),
    ("a copy of an earlier article", (True, False), False, False, "copy"),
    ("matched, but its copy group alerted already", (True, True), True, True, "copy"),
    ("matched, no alert made: skipped", None, True, False, "skipped"),
]


@pytest.mark.parametrize(("variant", "before", "match", "alerts", "state"), RESOLVED, ids=[r[0] for r in RESOLVED])
def test_save_and_resolve_states_equal_a_read_back(store, variant, before, match, alerts, state):
    art = next(a for a in corpus() if len(a["content"]) > 800)
    n = 0

    def put(key: str, with_match: bool, with_alerts: bool | str) -> tuple:
        nonlocal n
        n += 1
        item = FeedItem("f", f"https://ex.com/{key}", f"g{n}", art["title"], "")
        store.enqueue_items("f", [ItemInput(f"guid:g{n}", f"https://ex.com/{key}", item)], NOW)
        row = next(r for r in store.due_items("f", NOW) if r.key == f"guid:g{n}")
        article = Article(item.url, item.url, "f", art["title"], art["content"])
        got = store.save_and_resolve(
            article,
            guid=item.guid,
            outlet="O",
            matches=[sample_match()] if with_match else [],
            alerts=sample_alerts() if with_alerts is True else [],
            story=_story_input(art["title"], art["content"]),
            resolve=Resolution(row.id, NOW, "; note"),
        )
        return row, got

    if before is not None:
        put("first", before[1], before[1])
    row, got = put("second", match, alerts)
    assert got is not None and got.item.state == state, variant
    read_back = store.resolve_item(row.id, got.id, NOW, note="; note")
    assert got.item == read_back, variant


HOLD = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
c.execute("COMMIT")
"""

# the reads the pipeline makes for every listed item and every poll
READS = [
    ("known", lambda s: s.known("https://ex.com/a/1", "f1", "g1")),
    ("seen", lambda s: s.seen("https://ex.com/a/1", "f1", "g1").known),
    ("poll_start", lambda s: s.poll_start("f1", NOW)[0]),
]


@pytest.mark.parametrize(("variant", "read"), READS, ids=[r[0] for r in READS])
def test_a_read_answers_while_another_process_holds_the_write_lock(tmp_path, variant, read):
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        aid = save_sample(store)
        p = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(tmp_path / "m.db")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert p.stdout is not None and p.stdout.readline().strip() == "locked"
            got = read(store)  # before: BEGIN IMMEDIATE waited 30 s for the lock, then StoreError
        finally:
            p.communicate("\n")
        assert got is None or getattr(got, "id", aid) == aid, variant
    finally:
        store.close()
