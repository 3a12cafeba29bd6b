"""A TCP proxy on loopback that can freeze: a half-open database connection for tests.

``FreezingProxy(port)`` listens on 127.0.0.1 (``proxy.port``) and forwards every
connection to 127.0.0.1:`port`. ``freeze()`` stops forwarding in both directions while
every socket stays open: the kernel still accepts what a client sends, nothing ever
answers (a peer that hangs, a firewall that drops a NAT entry, a frozen VM). Closing the
proxy closes every socket, so threads blocked on them get an error and end.
"""

from __future__ import annotations

import select
import socket
import threading


class FreezingProxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.upstream = (host, upstream_port)
        self.frozen = threading.Event()
        self._closed = threading.Event()
        self._socks: list[socket.socket] = []
        self._guard = threading.Lock()
        self._listener = socket.create_server((host, 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def freeze(self) -> None:
        self.frozen.set()

    def close(self) -> None:
        with self._guard:
            self._closed.set()
            socks, self._socks = self._socks, []
        for s in [self._listener, *socks]:
            try:
                s.close()
            except OSError:
                pass

    def __enter__(self) -> FreezingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _keep(self, *socks: socket.socket) -> bool:
        """Hold `socks` open until close (False, and closed now, when the proxy is closed)."""
        with self._guard:
            if not self._closed.is_set():
                self._socks += socks
                return True
        for s in socks:
            s.close()
        return False

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.frozen.is_set():  # a new connection is accepted and never answered
                self._keep(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            if self._keep(client, server):
                threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        while not self._closed.is_set():
            if self.frozen.is_set():
                self._closed.wait(0.1)  # hold both sockets open, read nothing, send nothing
                continue
            try:
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        a.close()
                        b.close()
                        return
                    peer[s].sendall(data)
            except (OSError, ValueError):
                return
