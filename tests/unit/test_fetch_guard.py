"""The fetch guard on values: the address policy (non-public refused, public passes) and URL
parser confusion. The checks at connect time against a real server are in
tests/integration/test_fetch_guard.py.
"""

from __future__ import annotations

import ipaddress

import pytest

from monitor.fetch.netguard import UnsafeURLError, address_problem, check_url


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
    ],
)
def test_non_public_addresses_are_refused(ip, why):
    assert why in address_problem(ipaddress.ip_address(ip))


@pytest.mark.parametrize("ip", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "64:ff9b::808:808"])
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
