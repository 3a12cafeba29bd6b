"""Issue 14 kind 3: secrets in configured URLs are masked in any output, whatever their length or encoding.

Public reports rebuilt here (our own inputs):
- certtools/intelmq#889 "Strip API keys from feed URLs": a feed polled with `?apikey=` -> FEED_URLS.
- FreshRSS/FreshRSS#5001: `Passwd`/`token` query values in request logs, any case -> LOG_LINES.
- Dolibarr/dolibarr#40579: a `?key=` URL embedded in a stored error text -> LOG_LINES ("GET ... HTTP 500").
- clowder-framework/pyclowder#11: a status message quoting a URL with its key -> LOG_LINES.
"""

from __future__ import annotations

import io
import urllib.parse

import pytest

from monitor.redact import MASK, RedactingWriter, add_feed_urls, add_secrets, mask_url, redact, secret_name

# (configured feed URL, the secret in it): every length, plain and percent-encoded
FEED_URLS = [
    ("https://api.example.org/rss?apikey=Zq81LongKey&lang=ar", "Zq81LongKey"),
    ("https://api.example.org/rss?lang=ar&token=Qz", "Qz"),  # shorter than 4
    ("https://api.example.org/rss?key=p%40s%20w%2Fd9", "p@s w/d9"),  # percent-encoded
    ("https://api.example.org/rss?api_key=a+b+c9", "a b c9"),  # +-encoded
    ("https://api.example.org/rss?X-Amz-Signature=5f3e&n=1", "5f3e"),
    ("https://api.example.org/rss?Passwd=k1", "k1"),
    ("https://u9:hunter-9@api.example.org/rss", "hunter-9"),
    ("https://api.example.org/rss#access_token=Tk9", "Tk9"),
]


def _forms(value: str) -> set[str]:
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value), urllib.parse.quote(value)}
    return forms | {f.lower() for f in forms if "%" in f}


@pytest.mark.parametrize("url, secret", FEED_URLS)
def test_a_secret_in_a_feed_url_is_masked_where_it_stands(url, secret):
    add_feed_urls([url])
    for text in (url, f"GET {url}: HTTP 500", f"feed=x url={url} error=timeout", f"'{url}'"):
        shown = redact(text)
        assert MASK in shown
        for form in _forms(secret):
            assert f"={form}" not in shown and f":{form}@" not in shown, shown
    assert "api.example.org/rss" in redact(url)  # the rest of the URL stays readable


@pytest.mark.parametrize(
    "value",
    ["v7", "Ab", "a b&c", "é9", "x/y", "1234567890abcdef"],  # short, spaces, non-ASCII, a slash, long
)
def test_a_variable_value_is_masked_in_a_url_whatever_its_length_or_encoding(value):
    add_secrets([value])
    for form in _forms(value):
        for url in (
            f"https://ex.org/feed?id={form}",
            f"https://ex.org/{form}/rss.xml" if "/" not in value else f"https://ex.org/feed?p={form}",
            f"https://ex.org/feed#t={form}",
        ):
            shown = redact(f"error on {url} (HTTP 404)")
            assert form not in shown.replace("https://ex.org", ""), (form, shown)
    if len(value) >= 4:  # long values go anywhere, not only in URLs
        assert value not in redact(f"the key {value} was refused")


@pytest.mark.parametrize(
    "line, kept",
    [
        ("HTTP Request: GET https://ex.org/rss?Passwd=hunter2&output=xml", "output=xml"),
        ("HTTP Request: GET https://ex.org/rss?TOKEN=aa&lang=en", "lang=en"),
        ("GET https://ex.org/v1/rss?key=AIzaSyA-xyz: HTTP 500", "HTTP 500"),
        ("extractor status: fetched https://ex.org/api/files?key=r2d2 in 3 s", "in 3 s"),
        ("https://ex.org/a?session_id=9&x=1 and https://ex.org/b?sig=2", "x=1"),
    ],
)
def test_log_lines_lose_the_value_and_keep_the_rest(line, kept):
    shown = redact(line)
    assert kept in shown and MASK in shown
    for secret in ("hunter2", "=aa", "AIzaSyA-xyz", "r2d2", "=9", "=2"):
        assert secret not in shown


@pytest.mark.parametrize(
    "name, secret",
    [("apikey", True), ("api_key", True), ("ApiKey", True), ("access_token", True), ("sig", True),
     ("client_secret", True), ("password", True), ("auth", True), ("session", True), ("%74oken", True),
     ("lang", False), ("q", False), ("page", False), ("id", False), ("format", False)],
)  # fmt: skip
def test_secret_names(name, secret):
    assert secret_name(name) is secret


def test_urls_without_secrets_are_kept_byte_for_byte():
    for url in ("https://ex.org/a/b.xml?lang=ar&page=2#top", "http://[::1]:8080/x", "https://ex.org"):
        assert mask_url(url) == url


def test_the_writer_redacts_every_write():
    add_secrets(["Wr1t3rSecret"])
    buf = io.StringIO()
    out = RedactingWriter(buf)
    print("feed https://ex.org/f?token=Qq and Wr1t3rSecret", file=out)  # type: ignore[arg-type]
    out.writelines(["x Wr1t3rSecret\n"])
    assert "Qq" not in buf.getvalue() and "Wr1t3rSecret" not in buf.getvalue()
    assert out.getvalue() == buf.getvalue()  # everything else is the stream's own
