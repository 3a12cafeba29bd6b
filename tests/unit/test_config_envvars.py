"""Issue 14 kind 2: text from outside is never expanded as config; `${VAR}` is read only where chosen.

Public reports rebuilt here (our own inputs):
- FreshRSS/FreshRSS#9276: attributes of a remote OPML list are untrusted text -> `IMPORTED`.
- curl/curl#11311: config-file variables only where the file opts in (`[expand]`), and an escape
  for a literal `${` -> `url_env` opt-in and `$${` in `test_expansion_is_a_choice_by_place`.
- docker/compose#4485 (and the Compose interpolation docs): `$` in a regular expression
  (`($|/)`) must survive loading; `$$` is one literal `$` -> `test_dollar_in_a_pattern_is_kept`.
"""

from __future__ import annotations

import pytest
import yaml

from monitor.config.envvars import escape, escape_entry, expand, unescape
from monitor.config.load import parse_config
from monitor.errors import ConfigError

ENV = {"TELEGRAM_BOT_TOKEN": "123456:tok-en_value", "SMTP_PASSWORD": "pw", "X": "xv"}

TAIL = "topics: [{id: t, name: T, any: [a], notify: [c]}]\nchannels: {c: 'json://127.0.0.1:9/x'}\n"

# Spellings a list's author can use to reach the environment, in a name and in a URL.
IMPORTED = [
    "https://evil.example/f.xml?t=${TELEGRAM_BOT_TOKEN}",
    "https://evil.example/f.xml?p=${SMTP_PASSWORD:-x}",
    "https://evil.example/$${X}/f.xml",
    "https://evil.example/f.xml?q=%24%7BX%7D",
    "https://evil.example/$X/f.xml",
    "https://evil.example/f.xml?a=$${X}&b=${X}&c=$$$",
    "https://evil.example/f.xml?n=${X:-${SMTP_PASSWORD}}",
    "https://evil.example/f.xml?u=${}",
]


def _config_with(entries: list[dict[str, str]]) -> str:
    block = yaml.safe_dump({"feeds": [escape_entry(e) for e in entries]}, allow_unicode=True, width=1000)
    return block + TAIL


@pytest.mark.parametrize("url", IMPORTED)
def test_imported_text_loads_back_unchanged_and_never_expands(url):
    name = "Gulf Daily " + url.split("?", 1)[-1]  # the name carries the same spellings
    config = parse_config(_config_with([{"name": name, "url": url}]), env=ENV)
    assert config.feeds[0].url == url and config.feeds[0].name == name
    assert config.secrets == ()  # nothing was read from the environment
    for secret in ENV.values():
        assert secret not in config.feeds[0].url


@pytest.mark.parametrize(
    "text",
    ["", "plain", "$", "$$", "$$$", "${X}", "$${X}", "${X:-d}", "a$b$$c", "€$€", "${", "}$"],
)
def test_escape_and_unescape_are_inverse(text):
    assert unescape(escape(text)) == text
    problems: list = []
    secrets: list = []
    assert expand({"storage": escape(text)}, ENV, problems, secrets) == {"storage": text}
    assert problems == [] and secrets == []


@pytest.mark.parametrize(
    "feed, env_ok, want",
    [
        ({"url": "https://ex.org/f?k=${X}"}, False, "url_env: true"),  # a pasted line: refused, not read
        ({"url": "https://ex.org/f?k=${X}", "url_env": True}, True, "https://ex.org/f?k=xv"),
        ({"url": "https://ex.org/f?k=$${X}", "url_env": True}, True, "https://ex.org/f?k=${X}"),
        ({"url": "https://ex.org/f?k=${X:-d}"}, False, "url_env: true"),
        ({"url": "https://ex.org/f", "name": "n ${X}"}, False, "is not expanded here"),
        ({"url": "https://ex.org/f", "outlet": "${SMTP_PASSWORD}"}, False, "is not expanded here"),
        ({"url": "https://ex.org/f?k=${NOPE}", "url_env": True}, False, "NOPE is not set"),
    ],
)
def test_expansion_is_a_choice_by_place(feed, env_ok, want):
    entry = {"name": "n", **feed}
    text = yaml.safe_dump({"feeds": [entry]}, allow_unicode=True, width=1000) + TAIL
    if env_ok:
        config = parse_config(text, env=ENV)
        assert config.feeds[0].url == want
        assert "xv" not in want or "xv" in config.secrets
    else:
        with pytest.raises(ConfigError) as err:
            parse_config(text, env=ENV)
        assert want in str(err.value) and "feeds[0]" in str(err.value)


@pytest.mark.parametrize(
    "section, value, want",
    [
        ("channels", "{c: 'json://127.0.0.1:9/${X}'}", ("channels", "c", "json://127.0.0.1:9/xv")),
        ("channels", "{c: 'json://127.0.0.1:9/$${X}'}", ("channels", "c", "json://127.0.0.1:9/${X}")),
        ("storage", "'sqlite:///${X}.db'", ("storage", None, "xv.db")),
    ],
)
def test_secrets_places_still_expand(section, value, want):
    text = "feeds: [{name: n, url: 'https://ex.org/f'}]\n"
    text += "topics: [{id: t, name: T, any: [a], notify: [c]}]\n"
    text += f"{section}: {value}\n"
    if section != "channels":
        text += "channels: {c: 'json://127.0.0.1:9/x'}\n"
    config = parse_config(text, env=ENV)
    if section == "channels":
        assert config.channels["c"] == (want[2],)
    else:
        assert config.storage_url.endswith(want[2])


@pytest.mark.parametrize("pattern", [r"/news/\d+$", r"^/(world|sport)($|/)", r"/a\$b/", "/$$/"])
def test_dollar_in_a_pattern_is_kept(pattern):
    entry = {"name": "p", "url": "https://ex.org/s/", "kind": "page", "link_pattern": pattern}
    config = parse_config(_config_with([entry]), env=ENV)
    assert config.feeds[0].link_pattern == pattern


def test_a_short_env_value_is_a_secret_too():
    text = "feeds: [{name: n, url: 'https://ex.org/f?k=${SMTP_PASSWORD}', url_env: true}]\n" + TAIL
    assert "pw" in parse_config(text, env=ENV).secrets
