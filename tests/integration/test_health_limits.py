"""Issue 14 kind 4: the health listener has limits (connections at once, time per connection).

Loopback only; every socket is closed at the end. Public reports rebuilt as client behaviours:
- nesquena/hermes-webui#194 (#198): idle or slow clients each hold a ThreadingHTTPServer thread
  forever -> "idle" and "half line" clients.
- falabellamichael/SignalR.E.A.C.H#15: 50 half-open requests hold 50 threads -> the flood from another
  process, counted in this process's file descriptors and threads.
- libevent/libevent#593: a per-read timeout alone does not stop a client trickling header lines;
  a time-to-live per connection does -> "trickle".
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from monitor.fetch.client import Fetcher
from monitor.service.health import HealthServer
from tests.support.web import Response

FLOOD = r"""
import socket, sys
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
if mode == "half":
    import time; time.sleep(0.5)
    for s in socks:
        try:
            s.send(b"GET /healthz HTT")
        except OSError:
            pass
print("ready", flush=True)
sys.stdin.read()  # hold every socket until the test closes our stdin
"""


def _healthy() -> tuple[bool, dict[str, str]]:
    return True, {"status": "ok"}


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def server():
    srv = HealthServer("127.0.0.1:0", _healthy, max_connections=8, request_timeout=30.0).start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("mode", ["idle", "half"])
def test_a_flood_of_idle_sockets_is_bounded_and_healthz_still_answers(server, web_server, mode):
    web_server.routes["/feed.xml"] = Response(200, b"<rss/>")
    fds, threads = _fds(), threading.active_count()
    flood = subprocess.Popen(
        [sys.executable, "-c", FLOOD, str(server.port), "300", mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert flood.stdout.readline().strip() == "ready"
        fetcher = Fetcher(timeout=60, user_agent="t", allow_private_networks=True)
        try:
            for _ in range(5):
                resp = httpx.get(server.url + "/healthz", timeout=60)
                assert resp.status_code == 200 and resp.json() == {"status": "ok"}
                assert fetcher.get(web_server.url("/feed.xml")).content == b"<rss/>"  # polling works
                assert server.open_connections() <= 8
                # this process holds at most the 8 served sockets (+ a few of httpx's and the fetcher's)
                assert _fds() - fds <= 8 + 6
                assert threading.active_count() - threads <= 8 + 4
        finally:
            fetcher.close()
    finally:
        flood.stdin.close()
        flood.wait(60)
        flood.stdout.close()


@pytest.mark.parametrize(
    "send",
    [
        [],  # idle: connects and says nothing
        [b"GET /healthz HTTP/1.0\r\n"],  # half: the request line, never the blank line
        [b"GET /healthz HTTP/1.0\r\n"] + [b"X-Pad: a\r\n"] * 200,  # trickle: a header line every 0.1 s
    ],
    ids=["idle", "half line", "trickle"],
)
def test_a_slow_client_is_closed_after_the_request_timeout(send):
    srv = HealthServer("127.0.0.1:0", _healthy, max_connections=4, request_timeout=1.0).start()
    try:
        with socket.create_connection(("127.0.0.1", srv.port)) as sock:
            sock.settimeout(60)  # only so a broken server cannot hang the test
            closed = False
            for chunk in send or [b""] * 200:
                try:
                    if chunk:
                        sock.sendall(chunk)
                    time.sleep(0.1)
                except OSError:
                    closed = True
                    break
            if not closed:
                try:
                    closed = sock.recv(1024) == b"" or True  # EOF (or a 408 answer, then EOF)
                except OSError:
                    closed = True
            assert closed
        assert srv.open_connections() == 0 or _wait_for(lambda: srv.open_connections() == 0)
        if len(send) > 1:  # the trickling client was cut by the connection's time, not by a per-read timeout
            assert srv._server.evicted >= 1
        assert httpx.get(srv.url + "/healthz", timeout=60).status_code == 200
    finally:
        srv.stop()


def _wait_for(check, tries: int = 600) -> bool:
    for _ in range(tries):
        if check():
            return True
        time.sleep(0.05)
    return False


def test_when_every_slot_is_answering_a_new_connection_is_closed_at_once():
    release = threading.Event()

    def slow_health() -> tuple[bool, dict[str, str]]:
        release.wait(60)
        return True, {"status": "ok"}

    srv = HealthServer("127.0.0.1:0", slow_health, max_connections=3, request_timeout=60.0).start()
    results: list[int] = []
    try:
        clients = [
            threading.Thread(target=lambda: results.append(httpx.get(srv.url + "/healthz", timeout=60).status_code))
            for _ in range(3)
        ]
        for c in clients:
            c.start()
        assert _wait_for(lambda: srv.open_connections() == 3 and srv._server.refused == 0)
        assert _wait_for(lambda: all(not c.reading for c in srv._server._conns.values()))
        with socket.create_connection(("127.0.0.1", srv.port)) as extra:
            extra.settimeout(60)
            extra.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert extra.recv(1024) == b""  # closed without an answer: no 4th thread
        assert srv._server.refused == 1
        release.set()
        for c in clients:
            c.join(60)
        assert results == [200, 200, 200]  # the requests being answered were not cut
    finally:
        release.set()
        srv.stop()
