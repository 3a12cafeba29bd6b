"""The fetch guard on values: the address policy (non-public refused, public passes) and URL
parser confusion. The checks at connect time against a real server are in
tests/integration/test_fetch_guard.py.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import httpx
import pytest

from monitor.fetch.netguard import UnsafeURLError, address_problem, check_url, checked_url


@pytest.mark.parametrize(
    "ip,why",
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("fd00::1", "private"),
        ("fc00::5", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("2002:0a00:0001::1", "private"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        # IANA special-purpose ranges that ipaddress (3.11) calls global (issue 14, kind 6)
        ("192.0.0.9", "IETF protocol"),
        ("192.0.0.255", "IETF protocol"),
        ("192.88.99.1", "6to4 relay"),
        ("fec0::1", "site-local"),
        ("feff:ffff::1", "site-local"),
        ("3fff::1", "documentation"),
        ("::ffff:192.0.0.9", "IETF protocol"),
        # the rest of the registry, flagged by ipaddress already: kept flagged
        ("192.0.2.1", "private"),
        ("198.51.100.7", "private"),
        ("203.0.113.9", "private"),
        ("198.18.0.1", "private"),
        ("2001:db8::1", "private"),
        ("100::1", "reserved"),
        ("64:ff9b:1::1", "reserved"),
        ("255.255.255.255", "reserved"),
    ],
)
def test_non_public_addresses_are_refused(ip, why):
    assert why in address_problem(ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    "ip", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::808:808", "192.0.1.1", "192.175.48.1"]
)
def test_public_addresses_pass(ip):
    assert address_problem(ipaddress.ip_address(ip)) is None


@pytest.mark.parametrize(
    "url,why",
    [
        ("http://a\\@b/", "backslash"),
        ("http://example.org\\@127.0.0.1/", "backslash"),
        ("http://user:pass@example.org/", "credentials"),
        ("http://example.org@127.0.0.1/", "credentials"),
        ("ftp://example.org/feed", "only http"),
        ("file:///etc/passwd", "only http"),
        ("gopher://127.0.0.1:6379/_x", "only http"),
        ("http://exa mple.org/", "space"),
        ("http://example.org/\r\nX-Injected: 1", "control"),
        ("http:///feed.xml", "ambiguous host"),
        ("http://example.org\\.evil.test/", "backslash"),
        ("http://127.0.0.1\t/", "control"),
        ("http://example.org:99999/", "invalid URL"),
    ],
)
def test_confusing_urls_are_refused(url, why):
    with pytest.raises(UnsafeURLError, match=why):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/feed.xml",
        "http://EXAMPLE.org:8080/a?b=c#d",
        "https://مثال.example/خبر",
        "http://[2606:4700::1111]/",
    ],
)
def test_plain_urls_pass(url):
    assert check_url(url) == url


def test_spaces_and_backslashes_after_the_host_are_harmless():
    assert check_url("https://example.org/news/a b.html?q=x y") == "https://example.org/news/a%20b.html?q=x%20y"
    assert check_url("https://example.org/a\\b") == "https://example.org/a\\b"


@pytest.mark.parametrize(
    "location,why",
    [
        ("javascript:alert(1)", "redirect to a javascript: URL refused"),
        ("JaVaScRiPt:alert(document.cookie)", "redirect to a javascript: URL refused"),
        ("  javascript:alert(1)", "redirect to a javascript: URL refused"),
        ("java\tscript:alert(1)", "redirect to a javascript: URL refused"),
        ("data:text/html,<script>alert(1)</script>", "redirect to a data: URL refused"),
        ("data:application/rss+xml;base64,PHJzcy8+", "redirect to a data: URL refused"),
        ("vbscript:msgbox(1)", "redirect to a vbscript: URL refused"),
        ("file:///etc/passwd", "redirect to a file: URL refused"),
        ("mailto:a@example.org", "redirect to a mailto: URL refused"),
        ("http://[zz/", "redirect to an unusable URL"),
    ],
)
def test_redirects_to_other_schemes_are_refused_as_fetch_errors(location, why):
    """Each is an UnsafeURLError (a FetchError, so recorded on the source), never another exception."""
    import httpx

    from monitor.fetch.client import Fetcher

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": location}, stream=httpx.ByteStream(b""))

    fetcher = Fetcher(timeout=5, user_agent="t", transport=httpx.MockTransport(handler))
    try:
        with pytest.raises(UnsafeURLError, match=why) as caught:
            fetcher.get("http://example.org/feed.xml")
        assert "\t" not in str(caught.value) and str(caught.value).startswith("GET http://example.org/feed.xml")
    finally:
        fetcher.close()


# ---- checked_url: what the Fetcher keys its per-host limit on and requests (parsed once) ----
@pytest.mark.parametrize(
    "url, host",
    [
        ("https://News.Example.org/a?b=1#c", "news.example.org"),
        ("http://127.0.0.1:8080/feed/1.xml", "127.0.0.1"),
        ("http://[::1]:81/x", "::1"),
        ("https://مثال.إختبار/خبر", "مثال.إختبار"),
        ("https://example.org/a b", "example.org"),
    ],
)
def test_checked_url_gives_the_urlsplit_host_and_httpx_parse_of_the_checked_text(url, host):
    checked = checked_url(url)
    assert checked.url == check_url(url) == url.replace(" ", "%20")
    assert checked.host == host == (urlsplit(checked.url).hostname or "").lower()
    assert checked.parsed == httpx.URL(checked.url)
