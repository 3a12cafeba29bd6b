"""The optional HTTP listener: GET /healthz (JSON) and GET /metrics (Prometheus text).

Bounded (issue 14): at most `max_connections` connections are served at once; when
all are taken, the oldest one still sending its request is closed to make room (so a
flood of idle sockets cannot lock /healthz out), and when none is, the new one is
closed at once. Each connection gets `request_timeout` seconds in all (request and
answer) and as much between two reads, then is closed, so a slow-drip client cannot
hold a slot. Only HTTP/1.0 (no keep-alive). Binding beyond loopback is logged as a
warning (`exposure_warning`).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.config.values import parse_listen
from monitor.errors import MonitorError
from monitor.metrics import registry

log = logging.getLogger(__name__)


MAX_CONNECTIONS = 16  # served at once (http.max_connections)
REQUEST_TIMEOUT = 10.0  # seconds per connection, request and answer (http.request_timeout)


def exposure_warning(listen: str) -> str | None:
    """A warning when `listen` binds beyond this machine (0.0.0.0, ::, a LAN or public address, a
    host name other than localhost), else None."""
    host, _port = parse_listen(listen)
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host.lower() in ("localhost", "localhost."):
            return None
    return (
        f"http.listen {listen} serves /healthz and /metrics beyond this machine "
        "(anyone who can reach it can read them); use 127.0.0.1 unless a firewall restricts it"
    )


@dataclass
class _Conn:
    deadline: float  # monotonic: closed after this
    reading: bool = True  # still sending its request (may be closed to make room)
    closed: bool = False  # shut down by us; its thread is ending


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    max_connections = MAX_CONNECTIONS
    request_timeout = REQUEST_TIMEOUT

    def server_activate(self) -> None:
        self._conns: dict[socket.socket, _Conn] = {}
        self._conns_lock = threading.Lock()
        self.refused = 0  # connections closed at once: every slot busy answering
        self.evicted = 0  # connections closed to make room, or past their time
        super().server_activate()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that broke (a client gone, one we closed to make room): one DEBUG line,
        never the stdlib's traceback on stderr (any client could flood the journal with them)."""
        self.errors = getattr(self, "errors", 0) + 1
        log.debug("health connection error client=%s", client_address)

    def _close(self, sock: socket.socket, conn: _Conn) -> None:
        conn.closed = True
        self.evicted += 1
        try:
            sock.shutdown(socket.SHUT_RDWR)  # the handler's blocked read or write returns at once
        except OSError:
            pass

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            live = [(s, c) for s, c in self._conns.items() if not c.closed]
            if len(live) >= self.max_connections:
                idle = [(s, c) for s, c in live if c.reading]
                if not idle:
                    self.refused += 1
                    self.shutdown_request(request)
                    return
                self._close(*min(idle, key=lambda sc: sc[1].deadline))  # the oldest idle one
            self._conns[request] = _Conn(time.monotonic() + self.request_timeout)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.pop(request, None)

    def request_read(self, request: Any) -> None:
        """The handler has read a whole request: it is answered, not closed to make room."""
        with self._conns_lock:
            conn = self._conns.get(request)
            if conn is not None:
                conn.reading = False

    def service_actions(self) -> None:  # serve_forever calls this every poll interval
        now = time.monotonic()
        with self._conns_lock:
            for sock, conn in list(self._conns.items()):
                if not conn.closed and conn.deadline < now:
                    self._close(sock, conn)

    def open_connections(self) -> int:
        with self._conns_lock:
            return sum(1 for c in self._conns.values() if not c.closed)


class HealthServer:
    """Serves `health()` -> (healthy, body) on /healthz and the metrics registry on /metrics.

    `max_connections`: connections served at once; `request_timeout`: seconds per connection
    (see the module's docstring). Raises MonitorError when the address cannot be bound.
    """

    def __init__(
        self,
        listen: str,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        host, port = parse_listen(listen)
        health_fn = health
        self.listen = listen

        class Handler(BaseHTTPRequestHandler):
            timeout = request_timeout  # per read: an idle socket is closed after this

            def parse_request(self) -> bool:
                ok = super().parse_request()
                if ok:
                    self.server.request_read(self.request)  # type: ignore[attr-defined]
                return ok

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    try:
                        ok, body = health_fn()
                    except MonitorError as exc:
                        ok, body = False, {"status": "error", "error": str(exc)}
                    self._reply(200 if ok else 503, "application/json", json.dumps(body, ensure_ascii=False).encode())
                elif path == "/metrics":
                    self._reply(200, CONTENT_TYPE_LATEST, generate_latest(registry()))
                else:
                    self._reply(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

            def _reply(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("http %s", format % args)

        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            server_cls = type(
                "_Server",
                (_Server,),
                {"address_family": family, "max_connections": max_connections, "request_timeout": request_timeout},
            )
            self._server = server_cls((host, port), Handler)
        except OSError as exc:
            raise MonitorError(
                f"cannot listen on {host}:{port} for /healthz and /metrics: {exc.strerror or exc}"
            ) from None
        self.host, self.port = host, self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("http listening url=%s", self.url)
        warning = exposure_warning(self.listen)
        if warning:
            log.warning("%s", warning)
        return self

    def open_connections(self) -> int:
        """Connections being served now (at most `max_connections`)."""
        return int(self._server.open_connections())

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
