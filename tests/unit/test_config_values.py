"""The config value syntaxes (monitor.config.values): durations, rates, HH:MM, windows, listen addresses.

Each parser is shared by config validation and the runtime module that acts on
the value, so these tables are the whole contract: what is accepted, what it
means, and what is refused with which message.
"""

from __future__ import annotations

from datetime import time

import pytest
import yaml

from monitor.config.load import parse_config
from monitor.config.values import parse_duration, parse_hhmm, parse_listen, parse_rate, parse_window
from monitor.errors import ConfigError


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("90s", 90.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        (" 15 m ", 900.0),  # spaces around and between, as YAML may leave them
        ("45", 45.0),  # a bare number in a string: seconds
        (30, 30.0),
        (0.5, 0.5),
    ],
)
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value, message",
    [
        ("10 minutes", "must be a duration like 90s"),
        ("1w", "must be a duration like 90s"),  # weeks are not a unit
        ("-5m", "must be a duration like 90s"),
        ("", "must be a duration like 90s"),
        ("0s", "must be positive"),
        (0, "must be positive"),
        (-1, "must be positive"),
        (True, "must be a duration like 90s"),  # YAML `yes` is not one second
        (None, "must be a duration like 90s"),
    ],
)
def test_bad_durations(value, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(value)


@pytest.mark.parametrize(
    "text, rate",
    [
        ("1/s", (1, 1.0)),
        ("20/m", (20, 60.0)),
        ("3/10s", (3, 10.0)),
        ("100/h", (100, 3600.0)),
        ("2/0.5s", (2, 0.5)),
        (" 30 / m ", (30, 60.0)),
    ],
)
def test_rates(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["0/s", "1/x", "fast", "1/0s", "1/", "/s", "-1/s", "1/d", ""])
def test_bad_rates(text):
    with pytest.raises(ValueError, match="must be a rate like 1/s, 20/m or 3/10s"):
        parse_rate(text)


@pytest.mark.parametrize(
    "text, at",
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        (" 8:05 ", time(8, 5)),
    ],
)
def test_hhmm(text, at):
    assert parse_hhmm(text) == at


@pytest.mark.parametrize("text", ["24:00", "7:5", "7.30", "0730", "12:60", "7:30pm", ""])
def test_bad_hhmm(text):
    with pytest.raises(ValueError, match="must be a time like 07:30"):
        parse_hhmm(text)


@pytest.mark.parametrize(
    "text, window",
    [
        ("23:00-07:00", (time(23, 0), time(7, 0))),  # wraps past midnight
        ("01:00-05:30", (time(1, 0), time(5, 30))),
        (" 22:30 - 6:00 ", (time(22, 30), time(6, 0))),
    ],
)
def test_windows(text, window):
    assert parse_window(text) == window


@pytest.mark.parametrize(
    "text, message",
    [
        ("23:00", "must be a window like 23:00-07:00"),
        ("23:00 to 07:00", "must be a window like 23:00-07:00"),
        ("23:00-25:00", "must be a time like 07:30"),
        ("07:00-07:00", "start and end must differ"),
    ],
)
def test_bad_windows(text, message):
    with pytest.raises(ValueError, match=message):
        parse_window(text)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (":9464", ("127.0.0.1", 9464)),
        ("9464", ("127.0.0.1", 9464)),
        ("[::1]:9464", ("::1", 9464)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
        ("localhost:0", ("localhost", 0)),  # port 0: the OS picks one
        (" 127.0.0.1:9464 ", ("127.0.0.1", 9464)),
    ],
)
def test_listen_addresses(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize(
    "value", ["127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:", "host:-1", "[]:9464", "[::1]9464", "[::1:9464"]
)
def test_bad_listen_addresses(value):
    with pytest.raises(ValueError, match="must be HOST:PORT"):
        parse_listen(value)


# An IPv6 literal's own colons taken for the host:port separator. Rebuilt from public
# reports of this kind: microsoft/CCF#7671 ("::1" read as host "::", port 1),
# xroche/httrack#599 ("[2001:db8::1]" without a port read as a cut host and port 1),
# odnoklassniki/one-nio#138 ("[::1]" without a port read as host "[:", port 1).
@pytest.mark.parametrize(
    "value, message",
    [
        ("::1", "needs brackets"),
        ("2001:db8::2:30", "needs brackets"),  # ends in :digits like a port, still an address
        ("fe80::1:9464", "needs brackets"),
        ("[::1]", "must be HOST:PORT"),
        ("[2001:db8::1]", "must be HOST:PORT"),
    ],
)
def test_an_ipv6_literal_is_never_split_inside(value, message):
    with pytest.raises(ValueError, match=message):
        parse_listen(value)


BASE = {
    "feeds": [{"name": "F", "url": "http://example.com/feed"}],
    "topics": [{"id": "t", "name": "T", "any": ["x"], "notify": ["tg"]}],
    "channels": {"tg": "tgram://1:x/2"},
}


@pytest.mark.parametrize(
    "patch, where, message",
    [
        ({"defaults": {"interval": "1w"}}, "defaults.interval", "must be a duration like 90s"),
        ({"fetch": {"max_hint": "0s"}}, "fetch.max_hint", "must be positive"),
        (
            {"channels": {"tg": {"urls": "tgram://1:x/2", "rate": ["1/s", "fast"]}}},
            "channels.tg.rate",
            "must be a rate like",
        ),
        ({"channels": {"tg": {"urls": "tgram://1:x/2", "digest_at": "7.30"}}}, "channels.tg.digest_at", "07:30"),
        (
            {"channels": {"tg": {"urls": "tgram://1:x/2", "quiet_hours": "07:00-07:00"}}},
            "channels.tg.quiet_hours",
            "start and end must differ",
        ),
        ({"http": {"listen": "127.0.0.1:99999"}}, "http.listen", "must be HOST:PORT"),
    ],
)
def test_config_refuses_what_the_runtime_parser_refuses(patch, where, message):
    with pytest.raises(ConfigError) as err:
        parse_config(yaml.safe_dump({**BASE, **patch}), env={})
    assert where in str(err.value) and message in str(err.value)


def test_a_bad_listen_address_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        parse_config(
            "feeds: [{name: a, url: 'http://x.example/f'}]\nchannels: {m: 'mailto://h'}\n"
            "topics: [{id: t, name: T, any: [x], notify: [m]}]\nhttp: {listen: 'localhost:port'}\n"
        )
    assert "http.listen: must be HOST:PORT" in err.value.problems[0]
