"""storage.stories.MemberCache: a stored member's row parsed once, the same Member as parsing it
anew, keyed by the row's text (a changed row is never served an older one's), and bounded."""

from __future__ import annotations

import json

import pytest

from monitor.dedup import stories as clustering
from monitor.storage.stories import MemberCache

PROFILE = json.dumps({"بوتين": 0.8, "موسكو": 0.6}, ensure_ascii=False)
HEAD = json.dumps({"بوتين": 1.0}, ensure_ascii=False)
ROW = (PROFILE, json.dumps(["بوتين"], ensure_ascii=False), HEAD, 40, "الرياض", "بوتين في موسكو", "https://www.a.com/1")


def _parsed(row):
    profile, echoes, head, words, outlet, title, url = row
    return clustering.Member(
        json.loads(profile),
        clustering.title_profile(title),
        None if echoes is None else frozenset(json.loads(echoes)),
        None if head is None else json.loads(head),
        words,
        outlet,
        clustering.site(url),
    )


ROWS = {
    "every field": ROW,
    "no echoes, head or words (placed before 0013)": (PROFILE, None, None, None, "", "بوتين", "http://a.com/x"),
    "no host": (PROFILE, "[]", HEAD, None, "ب", "عنوان", "/relative"),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=list(ROWS))
def test_a_row_gives_the_member_parsing_it_gives_and_is_parsed_once(row):
    cache = MemberCache()
    first = cache.member(row)
    assert first == _parsed(row)
    assert cache.member(tuple(row)) is first and len(cache) == 1


CHANGED = {
    "profile": 0,
    "echoes": 1,
    "head": 2,
    "words": 3,
    "outlet": 4,
    "title": 5,
    "url": 6,
}
OTHER = (json.dumps({"ترامب": 1.0}, ensure_ascii=False), "[]", None, 90, "جدة", "ترامب", "https://b.com/2")


@pytest.mark.parametrize("field", CHANGED.values(), ids=list(CHANGED))
def test_a_row_with_other_text_is_parsed_anew(field):
    """An article id can come back with another article (SQLite reuses a rolled-back row's id; a
    PostgreSQL node sees other nodes' rows): the key is the text, so the older Member is not served."""
    cache = MemberCache()
    cache.member(ROW)
    row = ROW[:field] + (OTHER[field],) + ROW[field + 1 :]
    assert cache.member(row) == _parsed(row) != _parsed(ROW)


ROW_CHARS = sum(len(v) for v in ROW if isinstance(v, str)) + 2  # a title below gets " i"
BOUNDS = {
    "entries": (dict(entries=2), 2),
    "characters in all": (dict(chars=2 * ROW_CHARS + 1), 2),
    "a row too long": (dict(row_chars=10), 0),
    "a row longer than all the characters": (dict(chars=10), 0),
    "no entries": (dict(entries=0), 0),
}


def _titled(i):
    return ROW[:5] + (f"{ROW[5]} {i}",) + ROW[6:]  # the same length, another title


@pytest.mark.parametrize(("bounds", "at_most"), BOUNDS.values(), ids=list(BOUNDS))
def test_the_cache_is_bounded(bounds, at_most):
    cache = MemberCache(**bounds)
    for i in range(5):
        assert cache.member(_titled(i)) == _parsed(_titled(i))
        assert len(cache) <= at_most and cache.chars <= cache.max_chars
        assert cache.chars == len(cache) * ROW_CHARS


def test_the_least_recently_used_row_goes_first():
    cache = MemberCache(entries=2)
    first, second = cache.member(_titled(1)), cache.member(_titled(2))
    assert cache.member(_titled(1)) is first  # read again: now the more recent
    cache.member(_titled(3))
    assert cache.member(_titled(1)) is first and cache.member(_titled(2)) is not second
