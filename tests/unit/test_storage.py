"""Store URL errors that need no database: an unsupported or garbage URL. The Store itself,
on SQLite and PostgreSQL (and an unreachable server's error), is in
tests/integration/test_storage.py.
"""

from __future__ import annotations

import pytest

from monitor.errors import StoreError
from monitor.storage import Store


def test_unsupported_or_garbage_url_raises_store_error():
    with pytest.raises(StoreError):
        Store("nonsense://user:pw@host/db")


# matches.hits is written without dataclasses.asdict (its deep copy cost ≈ 1 ms per match, issue 16):
# the JSON must stay byte for byte what asdict gave, for every kind of hit.
HITS = [
    ("a body hit", dict(term="غزة", matched="غزّة", field="body", token=3, start=10, end=14, group="any")),
    (
        "a title variant of a name",
        dict(term="~بوتين", matched="بوتن", field="title", token=0, start=0, end=4, variant=True),
    ),
    (
        "a weighted near pair",
        dict(term="نفط", matched="النفط", field="body", token=9, start=40, end=45, group="near[0][1]", weight=0.5),
    ),
    ("quotes and newlines", dict(term='"x"', matched='a "b"\nc', field="body", token=1, start=2, end=9)),
]


@pytest.mark.parametrize(("variant", "hit"), HITS, ids=[h[0] for h in HITS])
def test_hits_json_is_what_asdict_gave(variant, hit):
    import json
    from dataclasses import asdict

    from monitor.models import Match, TermHit
    from monitor.storage.articles import hits_json

    hits = (TermHit(**hit), TermHit(**{**hit, "token": hit["token"] + 1}))
    m = Match("t", "T", hits, "…")
    assert hits_json(m) == json.dumps([asdict(h) for h in hits], ensure_ascii=False), variant
