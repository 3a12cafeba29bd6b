"""CPU per request: monitor's Fetcher.get against a plain httpx.Client.get (issue 16).

    python3 bench/fetch_cost.py [--requests N] [--rounds R] [--base DIR]

A loopback HTTP/1.1 server in another process (so its CPU is not counted) answers every
path with the same 32 KB Arabic HTML page (ETag, Content-Length) and /304/... with a bodiless
304. In this process, each of four loops runs N sequential GETs on one kept-alive connection:
`Fetcher.get(url)` (every limit on: URL check, per-host and global slot, deadline, byte cap,
soft-redirect test), `httpx.Client(follow_redirects=True).get(url).content` (what
bench/plain_script.py does), and both again conditional (If-None-Match: a 304). Figures are
CPU ms per request (time.process_time), the best of R rounds. With `--base DIR` the same
loops run again with the monitor package of DIR (a checkout), interleaved, in fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SERVER = r"""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
PAGE = ("<html><head><title>t</title></head><body><p>" + "نص عربي طويل للاختبار " * 800 + "</p></body></html>").encode()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits on the client's delayed ACK
    wbufsize = 1 << 17  # headers and body leave in one write
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith("/304/"):
            self.send_response(304); self.send_header("ETag", '"abc"'); self.end_headers(); return
        self.send_response(200); self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("ETag", '"abc"'); self.send_header("Content-Length", str(len(PAGE))); self.end_headers()
        self.wfile.write(PAGE)
s = ThreadingHTTPServer(("127.0.0.1", 0), H); s.daemon_threads = True
print(s.server_address[1], flush=True); s.serve_forever()
"""


def measure(port: int, n: int, rounds: int) -> dict[str, float]:
    """CPU ms per request of each loop, best of `rounds`."""
    import httpx

    from monitor.fetch.client import Fetcher

    fetcher = Fetcher(timeout=30, user_agent="bench", allow_private_networks=True)
    client = httpx.Client(timeout=30, follow_redirects=True)
    loops = {
        "ours 200": ("/a/", lambda u: fetcher.get(u)),
        "plain 200": ("/a/", lambda u: client.get(u).content),
        "ours 304": ("/304/", lambda u: fetcher.get(u, etag='"abc"')),
        "plain 304": ("/304/", lambda u: client.get(u, headers={"If-None-Match": '"abc"'}).content),
    }
    best = dict.fromkeys(loops, float("inf"))
    for _ in range(rounds):
        for name, (path, get) in loops.items():
            for i in range(20):  # warm: connection open, code paths imported
                get(f"http://127.0.0.1:{port}{path}{i}")
            start = time.process_time()
            for i in range(n):
                get(f"http://127.0.0.1:{port}{path}{i}")
            best[name] = min(best[name], (time.process_time() - start) / n * 1000)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--base", help="a checkout whose monitor package is measured too, interleaved")
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)  # a child run: measure, print, exit
    args = ap.parse_args()
    if args.port:
        print(json.dumps(measure(args.port, args.requests, args.rounds)))
        return
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        trees = [("after", here)] + ([("base", os.path.abspath(args.base))] if args.base else [])
        results: dict[str, list[dict[str, float]]] = {}
        for _ in range(2):  # interleaved: each tree measured twice, best kept
            for tag, tree in trees:
                env = {**os.environ, "PYTHONPATH": tree}
                cmd = [sys.executable, __file__, "--port", str(port), "--requests", str(args.requests)]
                out = subprocess.run(cmd + ["--rounds", str(args.rounds)], env=env, capture_output=True, text=True)
                out.check_returncode()
                results.setdefault(tag, []).append(json.loads(out.stdout))
        for tag, runs in results.items():
            best = {k: min(r[k] for r in runs) for k in runs[0]}
            cells = "  ".join(f"{k} {v:.3f}" for k, v in best.items())
            print(
                f"{tag:6} CPU ms/request: {cells}  | ratio 200 {best['ours 200'] / best['plain 200']:.2f}"
                f"  304 {best['ours 304'] / best['plain 304']:.2f}"
            )
    finally:
        server.kill()


if __name__ == "__main__":
    main()
