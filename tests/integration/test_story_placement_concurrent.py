"""Issue 17: story placement on PostgreSQL from many sessions at once gives what serial placement gives.

Several Stores (each its own connection pool, like cluster nodes) place real fixture articles
from worker threads at once, on the real PostgreSQL: the labelled story groups of
tests/fixtures/stories (test_story_order's subset), a real three-outlet copy group, and
same-text copies of articles (one article on two nodes at once). Every article carries a
per-article alert, every other one a per-story alert. Repeated over several random
interleavings (workers take the next article of a shuffled queue), each run is compared with
placing the same articles one by one in the order the concurrent transactions committed (a
sequence value taken in each transaction just before its COMMIT: a transaction that waited
for another's lock takes it after that one's): the same stories, copy groups and alerts, to
the article. The stories are also those of placing them in name order (they do not depend on
arrival order, test_story_order). The locks: storage/placelock.py.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import event, select

from monitor.dedup import neardup, stories
from monitor.models import Article, NewAlert
from monitor.storage import Store
from monitor.storage.schema import alerts, story_articles
from monitor.storage.stories import StoryInput
from tests.support.databases import PG_BASE, pg_scratch, pg_unavailable
from tests.support.story_helpers import T0, copy_group
from tests.support.story_labels import daemon_rules, fixture_articles, labels

pytestmark = pytest.mark.skipif(pg_unavailable() is not None, reason=f"PostgreSQL: {pg_unavailable()}")

LAB = labels()
ARTS = fixture_articles(LAB)
GROUPED = sorted(a for a in ARTS if a in LAB.group_of)
PER_ARTICLE = NewAlert("copy-topic", "tg", "s", "t", "h", per="article")
PER_STORY = NewAlert("story-topic", "tg", "s", "t", "h", per="story")


@dataclass(frozen=True)
class Item:
    name: str  # the fixture article (+ "#twin" for a same-text copy under another URL)
    art: dict
    per_story: bool  # the article also carries the per-story alert


@dataclass(frozen=True)
class Outcome:
    stories: frozenset[frozenset[str]]  # story partition, by article name
    groups: frozenset[frozenset[str]]  # copy groups (with every lone article)
    alerted: frozenset[tuple[str, str]]  # (article name, topic) of each alert made
    committed: tuple[str, ...]  # the order the placements committed in


def items() -> list[Item]:
    names = [(a, ARTS[a]) for a in GROUPED]
    names += [(f"{a}#twin", ARTS[a]) for a in GROUPED[::9]]  # one article on two nodes at once
    names += [(f"copy-{n}", art) for n, art in enumerate(copy_group(3))]  # three outlets, one text
    return [Item(name, art, n % 2 == 0) for n, (name, art) in enumerate(names)]


@contextmanager
def scratch_url() -> Iterator[str]:
    with pg_scratch("SCHEMA") as schema:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"


def place_all(url: str, order: list[Item], *, nodes: int = 1, threads: int = 1) -> Outcome:
    """Place `order` from `threads` workers spread over `nodes` Stores (one at a time with 1 and 1)."""
    rules = daemon_rules()
    stores = [Store(url) for _ in range(nodes)]
    assert stores[0].engine is not None
    with stores[0].engine.begin() as conn:
        conn.exec_driver_sql("CREATE SEQUENCE commit_order")
    work: queue.Queue[Item] = queue.Queue()
    for it in order:
        work.put(it)
    ids: dict[str, int] = {}
    seq: dict[str, int] = {}
    errors: list[BaseException] = []
    current = threading.local()
    start = threading.Barrier(threads)

    def before_commit(conn) -> None:  # inside the transaction, after its placement's locks
        name = getattr(current, "name", None)
        if name is not None:
            cur = conn.connection.dbapi_connection.cursor()
            cur.execute("SELECT nextval('commit_order')")
            seq[name] = cur.fetchone()[0]

    for s in stores:
        event.listen(s.engine, "commit", before_commit)

    def worker(store: Store) -> None:
        start.wait()
        while True:
            try:
                it = work.get_nowait()
            except queue.Empty:
                return
            a = Article(
                url=f"https://{it.art['source']}.invalid/{it.name}",
                url_key=it.name,
                feed=it.art["source"],
                title=it.art["title"],
                body=it.art["content"],
            )
            inp = StoryInput(
                neardup.fingerprint(neardup.article_text(a.title, a.body)), stories.profile(a.title, a.body), rules
            )
            made = [PER_ARTICLE, PER_STORY] if it.per_story else [PER_ARTICLE]
            current.name = it.name
            try:
                aid = store.save_article(
                    a, guid="", outlet=it.art["source"], matches=[], alerts=made, story=inp, now=T0
                )
            except BaseException as exc:  # reported below: a worker must not die silently
                errors.append(exc)
                return
            finally:
                current.name = None
            assert aid is not None
            ids[it.name] = aid

    pool = [threading.Thread(target=worker, args=(stores[i % nodes],)) for i in range(threads)]
    try:
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert not errors, errors
        return _outcome(stores[0], ids, seq)
    finally:
        for s in stores:
            s.close()


def _outcome(store: Store, ids: dict[str, int], seq: dict[str, int]) -> Outcome:
    assert store.engine is not None
    with store.engine.connect() as conn:
        rows = {r.article_id: r for r in conn.execute(select(story_articles))}
        made = conn.execute(select(alerts.c.article_id, alerts.c.topic_id, alerts.c.reply_to)).all()
    name_of = {aid: name for name, aid in ids.items()}
    by_story: dict[int, set[str]] = {}
    by_group: dict[int, set[str]] = {}
    for name, aid in ids.items():
        by_story.setdefault(rows[aid].story_id, set()).add(name)
        by_group.setdefault(rows[aid].copy_of or aid, set()).add(name)
    assert all(a.reply_to is None for a in made)  # nothing was sent: no follow-up
    return Outcome(
        frozenset(map(frozenset, by_story.values())),
        frozenset(map(frozenset, by_group.values())),
        frozenset((name_of[a.article_id], a.topic_id) for a in made),
        tuple(sorted(seq, key=seq.__getitem__)),
    )


@pytest.fixture(scope="module")
def by_name() -> Outcome:
    with scratch_url() as url:
        return place_all(url, sorted(items(), key=lambda i: i.name))


def test_the_fixture_has_stories_copies_and_twins(by_name):
    assert sum(1 for s in by_name.stories if len(s) >= 2) >= 30  # many multi-article stories to race on
    assert sum(1 for g in by_name.groups if len(g) >= 2) >= len(GROUPED[::9]) + 1  # every twin, the copy group
    assert any({"copy-0", "copy-1", "copy-2"} <= g for g in by_name.groups)
    story_alerts = sum(1 for _, topic in by_name.alerted if topic == PER_STORY.topic_id)
    assert story_alerts < sum(it.per_story for it in items())  # a story's later articles do not alert
    assert by_name.committed == tuple(sorted(it.name for it in items()))


# (seed, nodes, threads): each row is a random interleaving
ROWS = [(1, 2, 4), (2, 3, 6), (3, 2, 8), (4, 4, 8)]


@pytest.mark.parametrize("seed,nodes,threads", ROWS, ids=[f"seed{r[0]}-{r[1]}nodes-{r[2]}threads" for r in ROWS])
def test_concurrent_placement_equals_serial(by_name, seed, nodes, threads):
    order = items()
    random.Random(seed).shuffle(order)
    with scratch_url() as url:
        got = place_all(url, order, nodes=nodes, threads=threads)
    item = {it.name: it for it in order}
    with scratch_url() as url:
        replay = place_all(url, [item[n] for n in got.committed])
    assert replay.committed == got.committed
    assert got.groups == replay.groups, "copy groups differ from serial placement in commit order"
    assert got.stories == replay.stories, "stories differ from serial placement in commit order"
    assert got.alerted == replay.alerted, "alerts differ from serial placement in commit order"
    # stories do not depend on arrival order; copy groups may (a copy joins the group of the most
    # alike earlier article, and which is earlier varies): compared with the replay above only
    assert got.stories == by_name.stories
