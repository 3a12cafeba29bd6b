"""Near-duplicate detection on real cross-outlet copies (SaudiNewsNet excerpt), pure and in the store.

Ground truth is computed here, independently of monitor.dedup.neardup's hashing:
exact Jaccard of word-3-shingle sets (tuples of folded words) >= 0.5 between
articles of different outlets.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from monitor.dedup import neardup, stories
from monitor.models import Article
from monitor.storage import Store
from monitor.storage.stories import StoryInput, StoryRules
from tests.support.corpus_pages import DAYS, saudinewsnet_articles
from tests.support.story_helpers import T0, corpus, put_story_article, shingle_set, story_members


@pytest.fixture(scope="module")
def truth() -> tuple[list[dict], dict[tuple[int, int], float]]:
    """The corpus excerpt and the exact Jaccard of every cross-outlet pair."""
    arts = corpus()
    sets = [shingle_set(a["content"]) for a in arts]
    scores = {}
    for i, j in itertools.combinations(range(len(arts)), 2):
        if arts[i]["source"] != arts[j]["source"] and sets[i] and sets[j]:
            inter = len(sets[i] & sets[j])
            scores[(i, j)] = inter / (len(sets[i]) + len(sets[j]) - inter)
    return arts, scores


def test_fixture_has_real_copies_and_near_misses(truth):
    _, scores = truth
    copies = [p for p, s in scores.items() if s >= 0.5]
    near = [p for p, s in scores.items() if 0.3 <= s < 0.5]
    assert len(copies) >= 50 and len(near) >= 4


def test_lsh_with_exact_check_finds_exactly_the_copies(truth):
    arts, scores = truth
    fps = [neardup.fingerprint(a["content"]) for a in arts]
    buckets: dict[int, set[int]] = {}
    for i, fp in enumerate(fps):
        for band in fp.bands:
            buckets.setdefault(band, set()).add(i)
    candidates = {tuple(sorted(p)) for ids in buckets.values() for p in itertools.combinations(sorted(ids), 2)}
    found = {
        p
        for p in candidates
        if p in scores and neardup.jaccard(fps[p[0]].shingles, fps[p[1]].shingles) >= neardup.COPY_JACCARD
    }
    expected = {p for p, s in scores.items() if s >= 0.5}
    assert found == expected
    # the banding is selective: unrelated pairs rarely even become candidates
    unrelated = sum(1 for p in candidates if scores.get(p, 1.0) < 0.2)
    assert unrelated < 0.001 * len(scores)


def test_fingerprint_is_stable_and_spelling_insensitive():
    text = saudinewsnet_articles(DAYS[0])[0]["content"]
    a, b = neardup.fingerprint(text), neardup.fingerprint(text)
    assert a.bands == b.bands and len(a.bands) == neardup.BANDS
    # diacritics, tatweel and hamza forms are folded before shingling
    decorated = text.replace("ا", "أ").replace("ي", "ى").replace("ل", "لـ")
    assert neardup.jaccard(a.shingles, neardup.fingerprint(decorated).shingles) == 1.0
    assert neardup.fingerprint("").bands == ()
    # a bare headline is too little text to call two articles copies
    headline = saudinewsnet_articles(DAYS[0])[0]["title"]
    assert neardup.fingerprint(neardup.article_text(headline, "")).bands == ()


# ---- in the store ---------------------------------------------------------------
def test_store_groups_copies_and_survives_restart(store_url, truth):
    arts, scores = truth
    copy_pairs = sorted((p for p, s in scores.items() if s >= 0.6), key=lambda p: p[1])[:12]
    picked = sorted({i for p in copy_pairs for i in p})
    store = Store(store_url)
    ids = {}
    half = len(picked) // 2
    try:
        for n, i in enumerate(picked[:half]):
            ids[i] = put_story_article(store, arts[i], i, T0 + timedelta(minutes=n))
    finally:
        store.close()
    store = Store(store_url)  # a restart: nothing is kept in memory
    try:
        for n, i in enumerate(picked[half:], start=half):
            ids[i] = put_story_article(store, arts[i], i, T0 + timedelta(minutes=n))
        members = story_members(store)
    finally:
        store.close()
    for i, j in copy_pairs:
        (si, ci), (sj, cj) = members[ids[i]], members[ids[j]]
        assert si == sj, (arts[i]["title"], arts[j]["title"])
        assert cj is not None  # the later one is recorded as a copy
        assert (ci or ids[i]) == cj  # of the same group


def test_window_bounds_the_index(store_url, truth):
    arts, scores = truth
    i, j = max(scores, key=scores.get)
    rules = StoryRules(window=timedelta(days=7))
    store = Store(store_url)
    try:
        first = put_story_article(store, arts[i], i, T0, rules)
        late = put_story_article(store, arts[j], j, T0 + timedelta(days=8), rules)  # outside the window: not a copy
        members = story_members(store)
        assert members[late][1] is None and members[late][0] != members[first][0]
        assert store.prune_index(T0 + timedelta(days=8), rules) == 1  # `first` leaves the index
        assert store.prune_index(T0 + timedelta(days=8), rules) == 0
    finally:
        store.close()


def test_concurrent_copies_make_one_alert(store_url, truth):
    import threading

    from monitor.models import NewAlert

    arts, scores = truth
    best = sorted(scores, key=scores.get, reverse=True)
    # four articles that are pairwise copies (a wire story carried by four outlets)
    group = next(
        g
        for g in itertools.combinations(sorted({i for p in best[:40] for i in p}), 4)
        if all(scores.get(p, 0) >= 0.6 for p in itertools.combinations(g, 2))
    )
    store = Store(store_url)
    barrier = threading.Barrier(len(group))
    errors = []

    def save(i):
        a = arts[i]
        art = Article(url=a["url"], url_key=f"{a['url']}#{i}", feed=a["source"], title=a["title"], body=a["content"])
        inp = StoryInput(neardup.fingerprint(art.body), stories.profile(art.title, art.body))
        barrier.wait()
        try:
            store.save_article(
                art,
                guid="",
                outlet=a["source"],
                matches=[],
                story=inp,
                alerts=[NewAlert("t", "tg", "s", "x", "<b>x</b>")],
            )
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in group]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(store.list_alerts()) == 1
        (story,) = store.stories(datetime.now(UTC) - timedelta(hours=1))
        assert len(story.outlets) == 4 and sum(a.copy_of is not None for a in story.articles) == 3
    finally:
        store.close()
