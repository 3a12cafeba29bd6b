"""Issue 12, loss 4: a batch size is never a pass limit. `monitor once` (an ignore_backoff pass)
delivers every pending alert however many there are, failed ones included once each."""

from __future__ import annotations

import pytest

from monitor.delivery import outbox as outbox_mod
from monitor.delivery.outbox import Outbox
from monitor.storage import Store
from tests.support.outbox_helpers import add_article, corpus, make_config
from tests.support.web import Response


@pytest.mark.parametrize(
    "pending,batch,failing",
    [
        (7, 3, 0),  # 2 batches + 1: the research case was 204 alerts with a batch of 200
        (3, 3, 0),  # exactly one batch
        (10, 3, 4),  # the first 4 answers fail: each is tried once, the rest still go
        (1, 3, 1),
    ],
)
def test_once_delivers_every_pending_alert(tmp_path, web_server, monkeypatch, pending, batch, failing):
    monkeypatch.setattr(outbox_mod, "BATCH", batch)
    answers = [Response(500, b"busy")] * failing
    web_server.routes["/json/a"] = lambda request: answers.pop(0) if answers else Response(200, b"{}")
    cfg = make_config(tmp_path, {"cap": web_server.url("/json/a").replace("http://", "json://")})
    store = Store(cfg.storage_url)
    try:
        row = corpus()[0]
        for i in range(pending):
            add_article(store, cfg, row, key=f"https://example.org/{i}")
        report = Outbox(cfg, store).deliver(ignore_backoff=True)
        assert (report.sent, report.failed) == (pending - failing, failing)
        assert len(web_server.requests_for("/json/a")) == pending  # each tried exactly once
        assert store.counts()["alerts_pending"] == failing
    finally:
        store.close()
