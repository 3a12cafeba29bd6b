"""`monitor once` promises "process everything new": it works every item due when it
starts, however many; the daemon's per-poll budget (MAX_NEW_PER_POLL) is a pace, not a
pass limit. Was broken: a feed with 101 or 150 new items got 100 worked per `once`.
(A budget taken for a pass limit is miniflux/v2#679's kind: feeds growing without limits.)"""

from __future__ import annotations

import pytest

from monitor import pipeline as pipeline_mod
from monitor.storage import Store
from tests.support.corpus_pages import saudinewsnet_articles
from tests.support.desk import Desk

# (variant, per-poll budget, new items in the feed)
CASES = [
    ("one over the per-poll budget", 100, 101),
    ("a large first fetch", 100, 150),
    ("exactly the budget", 5, 5),
    ("three budgets and one", 4, 13),
]


@pytest.mark.parametrize(("variant", "budget", "n"), CASES, ids=[c[0] for c in CASES])
def test_once_processes_every_new_item(tmp_path, web_server, capsys, monkeypatch, variant, budget, n):
    monkeypatch.setattr(pipeline_mod, "MAX_NEW_PER_POLL", budget)
    arts = [a for d in ("2015-07-21", "2015-07-22", "2015-07-23") for a in saudinewsnet_articles(d)]
    titles = list(dict.fromkeys(a["title"] for a in arts))[:n]
    assert len(titles) == n
    desk = Desk(web_server, tmp_path, term="في")
    desk.set_feed("Busy", [{"title": t, "guid": f"b{i}", "description": t} for i, t in enumerate(titles)])
    assert desk.once() == 0
    out = capsys.readouterr().out
    assert f"new={n}" in out, f"{variant}: {out}"
    counts = Store(f"sqlite:///{tmp_path / 'm.db'}").item_counts("Busy")
    assert counts["pending"] == 0 and sum(counts.values()) == n, f"{variant}: {counts}"
