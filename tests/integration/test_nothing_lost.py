"""Issue 12: nothing silently lost, as a property (hypothesis, stateful).

The real pipeline on SQLite against a loopback server (tests/support/web.py), driven through
random sequences of feed states: feeds growing past the per-poll cap (lowered to 3), 304s,
changed and unchanged ETags, items vanishing from the feed, duplicate GUIDs and headlines,
page failures and successes, exceptions raised inside feedparser and trafilatura, alert
endpoint failures (a fake send), and kill -9 between any two store writes (a BaseException
raised before or after a chosen Store method, then the Store and Pipeline reopened on the
same file; tests/acceptance/test_crash.py has the real-SIGKILL harness).

Invariant after every step: every item a 200 response listed has a ledger row in a known
state with a reason (pending ones due at a time); an `alerted` one has its alert(s); no
alert was delivered twice. At the end of each run, with the faults off and time passing,
every item is out of `pending` and every alert was delivered exactly once.

Default: a few examples (well under a minute). MONITOR_LONG_PROPERTY=1 (or `-m slow`
with that variable) runs thousands of steps. Article text: SaudiNewsNet (tests/fixtures).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
import trafilatura
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from monitor import pipeline as pipeline_mod
from monitor.config.load import parse_config
from monitor.delivery.failures import SendResult
from monitor.fetch.client import Fetcher
from monitor.pipeline import Pipeline
from monitor.storage import Store
from monitor.storage.items import STATES, items
from monitor.storage.schema import alerts
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.hostile import rss
from tests.support.web import Response

pytestmark = pytest.mark.integration

LONG = os.environ.get("MONITOR_LONG_PROPERTY") == "1"
TERM = "السعودية"
RSS = {"Content-Type": "application/rss+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
POOL = [a for d in ("2015-07-21", "2015-07-22", "2015-07-23") for a in saudinewsnet_articles(d)]
MATCHING = [a for a in POOL if TERM in a["title"]]
OTHERS = [a for a in POOL if TERM not in a["title"]]
# Store writes a kill may hit; "before" = the write never happened, "after" = committed, then killed.
# Not "before mark_delivered": a kill between a send and its record is the at-least-once window
# (the alert is resent after restart; email Message-ID is stable so receivers thread it).
CRASH_POINTS = [
    (m, w)
    for m in (
        "enqueue_items",
        "save_article",
        "save_and_resolve",  # the pipeline's article + item outcome, one transaction (issue 16)
        "resolve_item",
        "set_item",
        "record_feed_success",
        "record_feed_failure",
        "mark_capped",
        "record_fetch_failure",
        "link_guid",
        "mark_failed",
        "mark_sent",
    )
    for w in ("before", "after")
] + [("mark_delivered", "after")]


class Killed(BaseException):
    """kill -9, in process: not an Exception, so no boundary catches it."""


def _settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=not LONG,
        suppress_health_check=list(HealthCheck),
        database=None,
    )


@pytest.fixture
def machine(monkeypatch, web_server, tmp_path):
    monkeypatch.setattr(pipeline_mod, "MAX_NEW_PER_POLL", 3)
    faults = Counter()  # feedparser / trafilatura / send: how many next calls fail
    crash: dict = {}  # {"method", "when", "countdown"}: the kill to come

    def failing(name, real):
        def wrapper(*a, **kw):
            if faults[name] > 0:
                faults[name] -= 1
                raise RuntimeError(f"injected failure inside {name}")
            return real(*a, **kw)

        return wrapper

    monkeypatch.setattr(feedparser, "parse", failing("feedparser", feedparser.parse))
    monkeypatch.setattr(trafilatura, "extract", failing("trafilatura", trafilatura.extract))

    def killable(name, real):
        def wrapper(self, *a, **kw):
            hit = crash.get("method") == name
            if hit:
                crash["countdown"] -= 1
                hit = crash["countdown"] <= 0
            if hit and crash["when"] == "before":
                crash.clear()
                raise Killed(name)
            result = real(self, *a, **kw)
            if hit:
                crash.clear()
                raise Killed(name)
            return result

        return wrapper

    for name, _ in CRASH_POINTS:
        monkeypatch.setattr(Store, name, killable(name, getattr(Store, name)))
    runs = itertools.count()

    class NothingLost(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            faults.clear()
            crash.clear()
            self.run = next(runs)
            self.dir = Path(tempfile.mkdtemp(dir=tmp_path))
            self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
            self.listing: list[dict] = []  # the feed's current items
            # Items of a 200 response whose poll was not killed before it stored the response's
            # ETag: from then on a 304 would hide them, so each must be in the ledger.
            self.appeared: set[str] = set()
            self.served: list[tuple[str, set[str]]] = []  # (ETag, GUIDs) of the 200s of the current step
            self.etag = 0
            self.etag_moves = True  # False: the server keeps its ETag while the content changes
            self.page_fail: Counter = Counter()
            self.sent: Counter = Counter()  # Message-ID -> successful sends
            self.pool = itertools.cycle(range(len(POOL)))
            self.n = 0
            self.feed_path = f"/n{self.run}.xml"
            web_server.routes[self.feed_path] = self._feed
            cfg = parse_config(
                yaml.safe_dump(
                    {
                        "storage": f"sqlite:///{self.dir / 'm.db'}",
                        "defaults": {"interval": "10m", "timeout": "5s", "backfill": "off"},  # corpus dates
                        "fetch": {"allow_private_networks": True},
                        "feeds": [{"name": "f", "url": web_server.url(self.feed_path)}],
                        "channels": {"mail": "mailto://127.0.0.1:9?from=a@example.com&to=b@example.com"},
                        "topics": [{"id": "t", "name": "T", "any": [TERM], "notify": ["mail"]}],
                    },
                    allow_unicode=True,
                ),
                path=self.dir / "config.yaml",
                env={},
            )
            self.cfg = cfg
            self.fetcher = Fetcher.from_config(cfg)
            self.store: Store | None = None
            self._open()

        # ---- plumbing -------------------------------------------------------------
        def _open(self) -> None:
            if self.store is not None:
                self.store.close()
            self.store = Store(self.cfg.storage_url)
            self.pipeline = Pipeline(self.cfg, self.store, self.fetcher)
            for sender in self.pipeline.outbox.senders.values():
                sender.send = self._send

        def _send(self, request):
            if faults["send"] > 0:
                faults["send"] -= 1
                return SendResult(ok=False, error="HTTP 503 injected", failed=(0,))
            self.sent[request.message_id] += 1
            return SendResult(ok=True)

        def _feed(self, request):
            tag = f'"v{self.etag}"'
            if request.headers.get("If-None-Match") == tag:
                return Response(304, b"", {"ETag": tag})
            self.served.append((tag, {it["guid"] for it in self.listing}))
            return Response(200, rss(self.listing), {**RSS, "ETag": tag})

        def _page(self, n: int, art: dict):
            path = f"/n{self.run}/p{n}.html"

            def handler(request):
                if self.page_fail[n] > 0:
                    self.page_fail[n] -= 1
                    return Response(500, b"down")
                page = article_page(
                    art["title"], split_paragraphs(art["content"]), outlet="o", url=web_server.url(path)
                )
                return Response(200, page.encode(), HTML)

            web_server.routes[path] = handler
            return web_server.url(path)

        def _changed(self) -> None:
            if self.etag_moves:
                self.etag += 1

        def _item(self, art: dict, *, title: str | None = None, guid: str | None = None) -> dict:
            self.n += 1
            return {
                "title": title or art["title"],
                "link": self._page(self.n, art),
                "guid": guid or f"r{self.run}-i{self.n}",
                "description": art["content"][:300],
            }

        def _guard(self, step) -> None:
            self.served = []
            try:
                step()
            except Killed:
                self._open()  # the process died; a new one opens the same database
            state = self.store.feed_state("f")
            for tag, keys in self.served:
                if state is not None and state.etag == tag:
                    self.appeared |= keys

        # ---- feed states --------------------------------------------------------
        @rule(n=st.integers(1, 5), matching=st.integers(0, 5))
        def grow(self, n, matching):
            for k in range(n):
                arts = MATCHING if k < matching else OTHERS
                self.listing.append(self._item(arts[next(self.pool) % len(arts)]))
            self._changed()

        @rule(data=st.data())
        def duplicate_headline(self, data):
            """A new item with an earlier headline and a different text."""
            if not self.listing:
                return
            old = data.draw(st.sampled_from(self.listing))
            self.listing.append(self._item(MATCHING[next(self.pool) % len(MATCHING)], title=old["title"]))
            self._changed()

        @rule(data=st.data())
        def duplicate_guid(self, data):
            """A new link under an earlier GUID (the feed's identity wins: one item)."""
            if not self.listing:
                return
            old = data.draw(st.sampled_from(self.listing))
            self.listing.append(self._item(OTHERS[next(self.pool) % len(OTHERS)], guid=old["guid"]))
            self._changed()

        @rule(data=st.data())
        def vanish(self, data):
            if self.listing:
                k = data.draw(st.integers(1, len(self.listing)))
                drop = set(data.draw(st.permutations(range(len(self.listing))))[:k])
                self.listing = [it for i, it in enumerate(self.listing) if i not in drop]
                self._changed()

        @rule(moves=st.booleans())
        def etag_behaviour(self, moves):
            self.etag_moves = moves

        @rule(data=st.data(), times=st.integers(1, 4))
        def pages_fail(self, data, times):
            if self.n:
                self.page_fail[data.draw(st.integers(1, self.n))] += times

        @rule(where=st.sampled_from(["feedparser", "trafilatura", "send"]), times=st.integers(1, 3))
        def library_raises(self, where, times):
            faults[where] += times

        @rule(point=st.sampled_from(CRASH_POINTS), countdown=st.integers(1, 4))
        def kill_later(self, point, countdown):
            crash.update(method=point[0], when=point[1], countdown=countdown)

        # ---- the daemon ---------------------------------------------------------
        @rule(minutes=st.sampled_from([0, 1, 10, 90, 400]))
        def poll(self, minutes):
            self.now += timedelta(minutes=minutes)
            self._guard(lambda: self.pipeline.poll_feed(self.cfg.feeds[0], force=True, now=self.now))

        @rule()
        def deliver(self):
            self._guard(lambda: self.pipeline.deliver(self.now, ignore_backoff=True))

        # ---- the property -------------------------------------------------------
        def _rows(self) -> dict[str, object]:
            with self.store.tx() as conn:
                return {r.key.removeprefix("guid:"): r for r in conn.execute(select(items)).all()}

        @invariant()
        def nothing_silently_lost(self):
            rows = self._rows()
            for key in self.appeared:
                r = rows.get(key)
                assert r is not None, f"item {key} appeared in a 200 response and has no ledger row"
                assert r.state in STATES and r.reason and r.reason_code, r
                if r.state == "pending":
                    assert r.next_try_at is not None, r
                if r.state in ("alerted", "matched_nothing", "copy"):
                    assert r.article_id is not None, r
                if r.state == "alerted":
                    with self.store.tx() as conn:
                        n = conn.execute(select(alerts.c.id).where(alerts.c.article_id == r.article_id)).all()
                    assert n, r
            assert all(v == 1 for v in self.sent.values()), f"alerted twice: {self.sent}"

        def teardown(self) -> None:
            try:
                faults.clear()
                crash.clear()
                self.page_fail.clear()
                # The server keeps whatever ETag it has (a sticky one too): polls 7 h apart are full
                # fetches (defaults.full_fetch_after 6h), so every listed item must reach the ledger.
                for _ in range(pipeline_mod.ITEM_MAX_ATTEMPTS + 4):
                    self.now += timedelta(hours=7)
                    self.pipeline.poll_feed(self.cfg.feeds[0], force=True, now=self.now)
                    self.pipeline.deliver(self.now, ignore_backoff=True)
                rows = self._rows()
                listed = {it["guid"] for it in self.listing}
                assert listed <= set(rows), listed - set(rows)
                stuck = [(k, rows[k].reason) for k in self.appeared | listed if rows[k].state == "pending"]
                assert stuck == [], stuck
                with self.store.tx() as conn:
                    made = conn.execute(select(alerts.c.status)).scalars().all()
                assert set(made) <= {"sent"}, Counter(made)
                assert len(self.sent) == len(made) and all(v == 1 for v in self.sent.values())
            finally:
                self.store.close()
                self.fetcher.close()

    return NothingLost


def test_nothing_is_silently_lost(machine):
    run_state_machine_as_test(machine, settings=_settings(200 if LONG else 6, 60 if LONG else 25))


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="the long profile: MONITOR_LONG_PROPERTY=1")
def test_nothing_is_silently_lost_long(machine):
    run_state_machine_as_test(machine, settings=_settings(100, 100))
