"""Health, the pure parts: parsing the listen address and the like, without a store or a server.
Store summaries, pipeline metrics and credentials are in tests/integration/test_health.py.
"""

from __future__ import annotations

import pytest

from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.service.health import parse_listen


@pytest.mark.parametrize(
    "value, expected",
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (":9464", ("127.0.0.1", 9464)),
        ("9464", ("127.0.0.1", 9464)),
        ("[::1]:9464", ("::1", 9464)),
        ("0.0.0.0:80", ("0.0.0.0", 80)),
    ],
)
def test_listen_addresses(value, expected):
    assert parse_listen(value) == expected


def test_a_bad_listen_address_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        parse_config(
            "feeds: [{name: a, url: 'http://x.example/f'}]\nchannels: {m: 'mailto://h'}\n"
            "topics: [{id: t, name: T, any: [x], notify: [m]}]\nhttp: {listen: 'localhost:port'}\n"
        )
    assert "http.listen: must be HOST:PORT" in err.value.problems[0]
