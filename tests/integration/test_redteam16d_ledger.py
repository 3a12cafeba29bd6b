"""Red team of issue 16's store bookkeeping (item16d), on SQLite and PostgreSQL: what held.

``items_by_key`` now binds its keys as ONE parameter (SQLite ``json_each`` of a JSON text,
PostgreSQL ``= ANY(array)``) instead of pages of 500 bound variables, and ``enqueue_items`` on
SQLite runs one compiled INSERT per listed item. These rows pin what the paged ``IN`` and the
multi-row INSERT gave (checked against main before the change, b146afb): every listed key comes
back however many are asked (past SQLite's variable limit), whatever characters a key holds (JSON's
escapes: quotes, backslashes, controls, line separators, astral), a NUL-twin keyed as stored, and
a listing naming an item twice counts it once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import FeedItem
from monitor.storage import ItemInput
from monitor.storage.items import ALL_DUE

pytestmark = pytest.mark.integration

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# keys JSON escapes (json.dumps) or SQLite's JSON reader could mistake
_ODD = ['"', "\\", '\\"', '["a"]', "x'y", "\\u0041", "A", "\x01", "\x1f", "\x7f", "\u2028", "\ufeff", "\U0001f600"]


def _inp(key: str, title: str = "t") -> ItemInput:
    return ItemInput(key, key.replace("\x00", ""), FeedItem("f", "u", "g", title, ""))


# (variant, keys listed, keys asked, keys found, new items counted)
LEDGER = [
    (
        "5,000 asked, past SQLite's 999/32,766 variables",
        [f"k{i}" for i in range(5000)],
        [f"k{i}" for i in range(5000)],
        5000,
        5000,
    ),
    (
        "50,000 asked, 45,000 absent, duplicates",
        [f"k{i}" for i in range(5000)],
        [f"k{i}" for i in range(50_000)] + [f"k{i}" for i in range(100)],
        5000,
        5000,
    ),
    ("keys JSON escapes", [f"k{c}" for c in _ODD] + _ODD, [f"k{c}" for c in _ODD] + _ODD, 2 * len(_ODD), 2 * len(_ODD)),
    ("a NUL twin is the stored key", ["a\x00b", "ab"], ["ab", "a\x00b"], 1, 1),
    ("the same item listed twice", ["x", "x", "y"], ["x", "y"], 2, 2),
    ("nothing asked", ["x"], [], 0, 1),
]


@pytest.mark.parametrize(("variant", "listed", "asked", "found", "new"), LEDGER, ids=[r[0] for r in LEDGER])
def test_items_by_key_finds_every_listed_key(store, variant, listed, asked, found, new):
    added = store.enqueue_items("f", [_inp(k) for k in listed], NOW)
    assert sum(added.values()) == new, variant
    got = store.items_by_key("f", asked)
    assert len(got) == found, variant
    assert all(row.key == key and row.feed == "f" for key, row in got.items()), variant
    assert store.items_by_key("other", asked) == {}, variant  # per feed
    # every new one is due, all of them in one read (``monitor once``'s ALL_DUE)
    assert len(store.due_items("f", NOW, limit=ALL_DUE)) == store.count_due("f", NOW) == new, variant
    assert store.enqueue_items("f", [_inp(k) for k in listed], NOW + timedelta(minutes=1)) == {}, variant
