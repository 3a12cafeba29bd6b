"""The fetch guard: address policy, URL parser confusion, checks at connect time, limits."""

from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest

from monitor.fetch.client import Fetcher
from monitor.fetch.netguard import BlockedAddressError, UnsafeURLError
from tests.support.hostile import HostileServer
from tests.support.web import Response, WebServer


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


def _fetcher(answers: list[list[str]], calls: list[str], **kw) -> Fetcher:
    """A fetcher whose DNS answers are scripted: each resolution takes the next answer."""

    def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return Fetcher(timeout=5, user_agent="t", resolver=resolver, **kw)


def test_dns_rebinding_cannot_reach_a_private_address(hostile):
    """The address checked is the address connected to: one resolution per connection.

    rebind.test first resolves to the one allowed address, then (TTL 0) to a
    private one. A guard that checked the name and let the client resolve again
    would connect to the second answer; ours connects to what it checked, and
    refuses the private answer when it comes.
    """
    calls: list[str] = []
    fetcher = _fetcher([["127.0.0.1"], ["10.0.0.7"]], calls, allowed_networks=("127.0.0.1/32",))
    url = f"http://rebind.test:{hostile.port}/healthy.xml"
    try:
        assert fetcher.get(url).status == 200
        assert calls == ["rebind.test"]  # resolved once, and that answer was used
        with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.7 \(private\); refused"):
            fetcher.get(url)  # the server closes connections: a new one resolves again
    finally:
        fetcher.close()
    assert [r.headers["host"] for r in hostile.requests] == [f"rebind.test:{hostile.port}"]


def test_one_private_answer_among_public_ones_is_refused(hostile):
    calls: list[str] = []
    fetcher = _fetcher([["93.184.216.34", "127.0.0.1"]], calls)
    try:
        with pytest.raises(BlockedAddressError, match="127.0.0.1 \\(loopback\\)"):
            fetcher.get(f"http://mixed.test:{hostile.port}/healthy.xml")
    finally:
        fetcher.close()
    assert hostile.requests == []


def test_redirect_hops_are_checked_like_the_first_url(hostile):
    fetcher = Fetcher(timeout=5, user_agent="t", allowed_networks=("127.0.0.1/32",))
    try:
        with pytest.raises(BlockedAddressError, match="169.254.169.254"):
            fetcher.get(hostile.url("/redirect-metadata.xml"))
        with pytest.raises(UnsafeURLError, match="backslash"):
            fetcher.get(hostile.url("/redirect-confused.xml"))
        with pytest.raises(UnsafeURLError, match="only http"):
            fetcher.get(hostile.url("/redirect-ftp.xml"))
    finally:
        fetcher.close()


def test_opting_in_allows_private_networks(hostile):
    fetcher = Fetcher(timeout=5, user_agent="t", allow_private_networks=True)
    try:
        assert fetcher.get(hostile.url("/healthy.xml").replace("127.0.0.1", "localhost")).status == 200
    finally:
        fetcher.close()


def test_per_host_and_global_concurrency_limits():
    active, peak = {"n": 0}, {"127.0.0.1": 0, "all": 0}
    by_host: dict[str, int] = {}
    lock = threading.Lock()

    def slow(request):
        host = request.headers["host"].split(":")[0]
        with lock:
            active["n"] += 1
            by_host[host] = by_host.get(host, 0) + 1
            peak["all"] = max(peak["all"], active["n"])
            peak[host] = max(peak.get(host, 0), by_host[host])
        time.sleep(0.2)
        with lock:
            active["n"] -= 1
            by_host[host] -= 1
        return Response(200, b"ok")

    with WebServer({"/slow": slow}) as web:
        fetcher = Fetcher(timeout=30, user_agent="t", allow_private_networks=True, max_connections=3, max_per_host=2)
        urls = [web.url("/slow"), web.url("/slow").replace("127.0.0.1", "localhost")] * 6
        threads = [threading.Thread(target=fetcher.get, args=(u,)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fetcher.close()
    assert len(web.requests) == 12
    assert peak["127.0.0.1"] <= 2 and peak["localhost"] <= 2
    assert 2 <= peak["all"] <= 3


def _self_signed(tmp_path):
    """A certificate for the name `news.test` (and nothing else), written as PEM files."""
    from datetime import datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("news.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_https_is_verified_against_the_name_while_connecting_to_the_checked_address(tmp_path):
    import http.server
    import ssl

    cert_file, key_file = _self_signed(tmp_path)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    server.socket = server_ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    trust = ssl.create_default_context(cafile=str(cert_file))
    names = {"news.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    fetcher = Fetcher(
        timeout=5,
        user_agent="t",
        allowed_networks=("127.0.0.1/32",),
        ssl_context=trust,
        resolver=lambda host, _port: names[host],
    )
    try:
        assert fetcher.get(f"https://news.test:{port}/").content == b"ok"
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):  # same address, wrong name
            fetcher.get(f"https://other.test:{port}/")
    finally:
        fetcher.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "[::ffff:7f00:1]", "localhost"])
def test_numeric_and_named_spellings_of_loopback_are_refused(hostile, host):
    fetcher = Fetcher(timeout=5, user_agent="t")
    try:
        with pytest.raises(BlockedAddressError, match="loopback"):
            fetcher.get(f"http://{host}:{hostile.port}/healthy.xml")
    finally:
        fetcher.close()
    assert hostile.requests == []


@pytest.mark.parametrize("how", ["hangs", "fails", "answers"])
def test_dns_resolution_runs_under_the_request_deadline(how):
    """A resolver that never returns is abandoned at the deadline (issue 14); errors and answers pass."""
    from monitor.errors import FetchError
    from monitor.fetch.netguard import DeadlineError, deadline, resolve_within

    release = threading.Event()

    def resolver(host: str, port: int) -> list[str]:
        if how == "hangs":
            release.wait()
        if how == "fails":
            raise FetchError(f"cannot resolve {host}: no such name")
        return ["127.0.0.1"]

    try:
        with deadline(0.3):
            if how == "hangs":
                with pytest.raises(DeadlineError, match="resolving stuck.example took more than"):
                    resolve_within(resolver, "stuck.example", 80, None)
            elif how == "fails":
                with pytest.raises(FetchError, match="no such name"):
                    resolve_within(resolver, "stuck.example", 80, None)
            else:
                assert resolve_within(resolver, "ok.example", 80, None) == ["127.0.0.1"]
    finally:
        release.set()
