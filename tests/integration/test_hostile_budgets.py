"""Amplification inputs served beside a healthy feed and polled through the pipeline (issue 14,
kind 1): each ends as a recorded error or a warning on its own feed; the healthy feed is processed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.sources.rss import MAX_WINDOWS
from tests.support import amplify as A
from tests.support.hostile import HostileServer, make_pipeline, poll_all

pytestmark = pytest.mark.integration

# path -> (body, content type, feed kind, "error"/"warning", text the error or warning holds)
CASES = {
    "/comment-flood.xml": (A.comment_open_flood(288 * 1024), "rss", "warning", "never ends"),
    "/tag-flood.xml": (A.tag_open_flood(288 * 1024), "rss", "warning", "never ends"),
    "/hidden-doctype-utf16.xml": (A.utf16(A.doctype_bomb(300_000)), "rss", "warning", "items"),
    "/deep-utf16be.xml": (A.utf16(A.deep_feed(5000), bom=False, big_endian=True), "rss", "error", "levels deep"),
    "/many-items.xml": (A.many_items_feed(1500), "rss", "warning", "has 1500 items"),
    "/bomb.xml.gz": (A.gz_multimember(40 * 1024 * 1024), "sitemap", "error", "unzips to more than"),
}


class BudgetServer(HostileServer):
    def _routes(self):  # type: ignore[no-untyped-def]
        r = super()._routes()
        for path, (body, *_rest) in CASES.items():
            r[path] = lambda c, q, body=body: self.send(c, 200, body, "application/xml")
        return r


@pytest.fixture(scope="module")
def server():
    with BudgetServer() as s:
        yield s


@pytest.mark.parametrize("case", sorted(CASES))
def test_amplifier_beside_a_healthy_feed(case, server, tmp_path):
    _body, kind, outcome, text = CASES[case]
    pipeline, store, fetcher, cfg = make_pipeline(
        tmp_path, server, [("Healthy", "/healthy.xml"), ("Hostile", case)], max_bytes=2 * 1024 * 1024
    )
    cfg = replace(cfg, feeds=(cfg.feeds[0], cfg.feeds[1].model_copy(update={"kind": kind})))
    try:
        reports = poll_all(pipeline, cfg)
        assert reports["Healthy"].ok and reports["Healthy"].items == len(server.articles)
        report, state = reports["Hostile"], store.feed_state("Hostile")
        if outcome == "error":
            assert not report.ok and text in report.error and text in (state.last_error or "")
        else:
            assert report.ok and text in report.warning, report
            assert report.items <= 1000 * MAX_WINDOWS  # read in windows of fetch.max_items (sources.rss)
    finally:
        fetcher.close()
        store.close()
