#!/usr/bin/env python3
"""The plain script a user would write instead of running monitor (issue 16's yardstick).

    python3 bench/plain_script.py STATE.json FEEDS.txt TERMS.txt APPRISE_URL

Every feed in FEEDS.txt (one URL a line) is fetched with httpx (If-None-Match / If-Modified-Since
from the state file), parsed with feedparser; every link not seen before is fetched, its text
extracted with trafilatura.extract, the title and text searched for each line of TERMS.txt as a
plain substring, and one apprise notification sent per article that contains any term. Seen
links and validators are kept in STATE.json. Nothing else: no folding, no copies, no retries.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import apprise
import feedparser
import httpx
import trafilatura


def main(state_path: str, feeds_path: str, terms_path: str, notify_url: str) -> int:
    state_file = Path(state_path)
    state = json.loads(state_file.read_text()) if state_file.exists() else {"seen": [], "etag": {}, "mod": {}}
    seen = set(state["seen"])
    feeds = Path(feeds_path).read_text().split()
    terms = [t for t in Path(terms_path).read_text(encoding="utf-8").splitlines() if t.strip()]
    notifier = apprise.Apprise()
    notifier.add(notify_url)
    new = sent = 0
    with httpx.Client(timeout=30, follow_redirects=True) as client:
        for feed_url in feeds:
            headers = {}
            if feed_url in state["etag"]:
                headers["If-None-Match"] = state["etag"][feed_url]
            if feed_url in state["mod"]:
                headers["If-Modified-Since"] = state["mod"][feed_url]
            try:
                resp = client.get(feed_url, headers=headers)
            except httpx.HTTPError as exc:
                print(f"{feed_url}: {exc}", file=sys.stderr)
                continue
            if resp.status_code == 304 or resp.status_code >= 400:
                continue
            if "etag" in resp.headers:
                state["etag"][feed_url] = resp.headers["etag"]
            if "last-modified" in resp.headers:
                state["mod"][feed_url] = resp.headers["last-modified"]
            for entry in feedparser.parse(resp.content).entries:
                link = entry.get("link")
                if not link or link in seen:
                    continue
                seen.add(link)
                new += 1
                try:
                    page = client.get(link)
                    text = trafilatura.extract(page.text) or ""
                except httpx.HTTPError:
                    continue
                title = entry.get("title", "")
                hits = [t for t in terms if t in title or t in text]
                if hits:
                    notifier.notify(title=title, body=f"{link}\n{', '.join(hits)}\n{text[:300]}")
                    sent += 1
    state["seen"] = sorted(seen)
    state_file.write_text(json.dumps(state))
    print(f"new={new} sent={sent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
