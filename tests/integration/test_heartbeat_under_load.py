"""/healthz and the watchdog keep answering while hostile input is parsed (issue 14, kind 1).

No wall-clock thresholds: a parser thread works through hostile inputs (each large enough
that the old quadratic regexes held the GIL for seconds to minutes per input) in a loop
capped at a number of steps, and stops as soon as the main thread has had HEALTHZ answers
from the real HealthServer and the pinger thread has had PINGS WATCHDOG=1 datagrams
delivered through the real Notifier. The test asserts that both happened while the
parser was still inside its cap, i.e. interleaved with the parsing, not after it.
(The per-character work of every scanner is bounded in tests/unit/test_hostile_budgets.py.)
"""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from monitor.extract.htmlcheck import check_page
from monitor.service.health import HealthServer
from monitor.service.sdnotify import Notifier
from monitor.sources.rss import parse_feed_result
from tests.support import amplify as A

pytestmark = pytest.mark.integration

HEALTHZ = 5
PINGS = 5
MAX_STEPS = 200
SIZE = 1024 * 1024

STEPS = [
    lambda: parse_feed_result("f", A.comment_open_flood(SIZE), "http://127.0.0.1/"),
    lambda: parse_feed_result("f", A.tag_open_flood(SIZE), "http://127.0.0.1/"),
    lambda: parse_feed_result("f", A.lt_flood_summary(SIZE), "http://127.0.0.1/"),
    lambda: parse_feed_result("f", A.utf16(A.doctype_bomb(SIZE)), "http://127.0.0.1/"),
    lambda: check_page(A.flat_p_page(2 * SIZE).decode(), "http://127.0.0.1/"),
]


def test_healthz_and_watchdog_answer_while_hostile_feeds_are_parsed(tmp_path):
    sock_path = str(tmp_path / "notify")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(sock_path)
    notifier = Notifier({"NOTIFY_SOCKET": sock_path})
    server = HealthServer("127.0.0.1:0", lambda: (True, {"status": "ok"})).start()
    enough = threading.Event()
    steps = [0]

    def parse() -> None:
        while not enough.is_set() and steps[0] < MAX_STEPS:
            STEPS[steps[0] % len(STEPS)]()
            steps[0] += 1

    def ping() -> None:
        got = 0
        while got < PINGS:
            assert notifier.watchdog()
            if receiver.recv(64) == b"WATCHDOG=1":
                got += 1

    parser = threading.Thread(target=parse)
    pinger = threading.Thread(target=ping)
    try:
        parser.start()
        pinger.start()
        answers = 0
        with httpx.Client(timeout=60) as client:
            while answers < HEALTHZ:
                r = client.get(server.url + "/healthz")
                assert r.status_code == 200 and r.json() == {"status": "ok"}
                answers += 1
        pinger.join()
        done_at = steps[0]
        enough.set()
        parser.join()
        assert done_at < MAX_STEPS, "heartbeats only came after the parser ran out of work"
    finally:
        enough.set()
        server.stop()
        notifier.close()
        receiver.close()
