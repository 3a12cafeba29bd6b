"""A 304 leaves its connection for the next request to the host (issue 16: an idle pass of a
host's feeds paid a new connection, resolver thread and TLS handshake per poll), unless the
304 announces a body, whose bytes could be read as the next response.

Public reports of the same kind: psf/requests#2924 (connections not recycled when the body
is not consumed), aio-libs/aiohttp#96 (an unconsumed body must close the connection),
aether-lang-dev/aether#1664 (304 is bodiless whatever the headers say; reuse only when the
framing is definite). Each row is rebuilt here on a raw local server."""

from __future__ import annotations

import socket
import threading

import pytest

from monitor.fetch.client import Fetcher


class RawServer:
    """HTTP/1.1 by hand: a 200 to a plain GET, ``not_modified`` (raw bytes) to a conditional one;
    keeps every connection open and counts them."""

    def __init__(self, not_modified: bytes) -> None:
        self.not_modified = not_modified
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                if b"if-none-match" in head.lower():
                    conn.sendall(self.not_modified)
                else:
                    conn.sendall(
                        b'HTTP/1.1 200 OK\r\nETag: "v1"\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok'
                    )


PLAIN = b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'
# (id, the 304 as sent, connections for 200 + 304 + 304 + 200 + 304)
ROWS = [
    ("plain 304 (nginx, Apache)", PLAIN, 1),  # requests#2924: kept for the next request
    ("304 with Content-Length: 0", b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 0\r\n\r\n', 1),
    # a 304 announcing a length (allowed: the 200's length) and sending those bytes anyway
    # (aiohttp#96): closed, so "JUNK!" is never read as the next status line
    ("304 with a body after it", b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 5\r\n\r\nJUNK!', 3),
    (
        "304 with a chunked body after it",
        b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nJUNK!\r\n0\r\n\r\n',
        3,
    ),
]


@pytest.mark.parametrize(("not_modified", "connections"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_a_304_keeps_its_connection_unless_it_announces_a_body(not_modified, connections):
    server = RawServer(not_modified)
    url = f"http://127.0.0.1:{server.port}/feed.xml"
    try:
        with Fetcher(timeout=5, user_agent="t", allow_private_networks=True) as fetcher:
            statuses = [fetcher.get(url, etag=etag).status for etag in (None, '"v1"', '"v1"', None, '"v1"')]
    finally:
        server.sock.close()
    assert statuses == [200, 304, 304, 200, 304]  # no request ever read a leftover byte
    assert server.connections == connections
