"""The optional HTTP listener: GET /healthz (JSON) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from monitor.config.values import parse_listen
from monitor.errors import MonitorError
from monitor.metrics import REGISTRY

log = logging.getLogger(__name__)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class HealthServer:
    """Serves `health()` -> (healthy, body) on /healthz and the metrics registry on /metrics."""

    def __init__(self, listen: str, health: Callable[[], tuple[bool, dict[str, Any]]]) -> None:
        host, port = parse_listen(listen)
        health_fn = health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    try:
                        ok, body = health_fn()
                    except MonitorError as exc:
                        ok, body = False, {"status": "error", "error": str(exc)}
                    self._reply(200 if ok else 503, "application/json", json.dumps(body, ensure_ascii=False).encode())
                elif path == "/metrics":
                    self._reply(200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY))
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
            server_cls = type("_Server", (_Server,), {"address_family": family})
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
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
