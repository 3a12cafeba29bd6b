"""Helpers for daemon tests: a real NOTIFY_SOCKET listener, a small news site, waiting."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable

from monitor.matching.matcher import compile_topics
from monitor.matching.rules import TopicRule
from tests.support.corpus_pages import article_page, saudinewsnet_articles, split_paragraphs
from tests.support.site import rss
from tests.support.web import Response

SAFETY = 120.0  # seconds: only so a broken daemon cannot hang the suite; never a speed target


def wait_until(pred: Callable[[], object], what: str, timeout: float = SAFETY) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


class NotifySocket:
    """A unix datagram socket standing in for systemd's; collects every state line."""

    def __init__(self, abstract: bool = False) -> None:
        self.dir = tempfile.mkdtemp(prefix="sdn", dir="/tmp")  # AF_UNIX paths must stay short
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"monitor-test-{os.getpid()}-{id(self)}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(self.dir, "notify")
            self.sock.bind(self.address)
        self.messages: list[dict[str, str]] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._recv, daemon=True)
        self._thread.start()

    def _recv(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._cond:
                self.messages.append(fields)
                self._cond.notify_all()

    def count(self, key: str, value: str = "1") -> int:
        with self._cond:
            return sum(m.get(key) == value for m in self.messages)

    def wait_for(self, key: str, value: str = "1", n: int = 1, timeout: float = SAFETY) -> dict[str, str]:
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if m.get(key) == value]
                if len(found) >= n:
                    return found[n - 1]
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {key}={value} (#{n}) in {self.messages}")
                self._cond.wait(left)

    def close(self) -> None:
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def serve_feed(web, feed_path: str, articles: list[dict], *, delay: float = 0.0) -> list[str]:
    """Serve real SaudiNewsNet articles as pages plus an RSS feed listing them; return page URLs."""
    items, urls = [], []
    stem = feed_path.strip("/").replace("/", "-").removesuffix(".xml")
    for i, art in enumerate(articles):
        path = f"/{stem}/article-{i}.html"
        url = web.url(path)
        page = article_page(art["title"], split_paragraphs(art["content"]), outlet=art["source"], url=url, style=i % 6)
        web.routes[path] = Response(200, page.encode(), {"Content-Type": "text/html; charset=utf-8"}, delay=delay)
        items.append((art["title"], url, f"{stem}-{i}"))
        urls.append(url)
    web.routes[feed_path] = Response(200, rss(items), {"Content-Type": "application/rss+xml"})
    return urls


def distinguishing_term(target: dict, others: list[dict]) -> str:
    """A word of `target`'s title that makes a one-term topic match it and none of `others`."""
    for word in target["title"].split():
        if len(word) < 5 or not any(ch.isalpha() for ch in word):
            continue
        matcher = compile_topics([TopicRule("probe", "probe", (), (word,), ())])
        if matcher.match(target["title"], target["content"]) and not any(
            matcher.match(o["title"], o["content"]) for o in others
        ):
            return word
    raise AssertionError("no distinguishing title word in the fixture article")


def articles(day: str, start: int, n: int) -> list[dict]:
    return saudinewsnet_articles(day)[start : start + n]
