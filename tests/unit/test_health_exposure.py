"""Issue 14 kind 4, the pure part: binding the health listener beyond loopback is warned about
(at start, in the log, and by `monitor check`); the listener's limits are config keys."""

from __future__ import annotations

import pytest

from monitor.cli.main import main
from monitor.config.load import parse_config
from monitor.errors import ConfigError
from monitor.service.health import exposure_warning


@pytest.mark.parametrize(
    "listen, warned",
    [
        ("127.0.0.1:9464", False),
        (":9464", False),
        ("9464", False),
        ("[::1]:9464", False),
        ("127.0.0.53:9464", False),
        ("localhost:9464", False),
        ("0.0.0.0:9464", True),
        ("[::]:9464", True),
        ("192.168.1.20:9464", True),
        ("10.0.0.2:9464", True),
        ("[fe80::1]:9464", True),
        ("monitor.example.org:9464", True),
    ],
)
def test_binding_beyond_loopback_is_warned(listen, warned):
    warning = exposure_warning(listen)
    assert (warning is not None) is warned
    if warning:
        assert "beyond this machine" in warning and listen in warning


BASE = (
    "feeds: [{name: n, url: 'https://ex.org/f'}]\n"
    "channels: {c: 'json://127.0.0.1:9/x'}\n"
    "topics: [{id: t, name: T, any: [a], notify: [c]}]\n"
)


@pytest.mark.parametrize("listen, warned", [("127.0.0.1:9464", False), ("0.0.0.0:9464", True)])
def test_check_says_so(tmp_path, capsys, listen, warned):
    config = tmp_path / "config.yaml"
    config.write_text(BASE + f"http: {{listen: '{listen}'}}\n", encoding="utf-8")
    assert main(["--config", str(config), "check"]) == 0
    out = capsys.readouterr().out
    assert f"http: {listen}" in out and ("beyond this machine" in out) is warned


@pytest.mark.parametrize(
    "http, ok",
    [
        ("{listen: ':9', max_connections: 4, request_timeout: 5s}", True),
        ("{listen: ':9', request_timeout: 2m}", True),
        ("{listen: ':9', max_connections: 0}", False),
        ("{listen: ':9', request_timeout: soon}", False),
    ],
)
def test_limits_are_config_keys(http, ok):
    text = BASE + f"http: {http}\n"
    if ok:
        config = parse_config(text, env={})
        assert config.http.max_connections >= 1 and config.http.request_timeout > 0
    else:
        with pytest.raises(ConfigError):
            parse_config(text, env={})
