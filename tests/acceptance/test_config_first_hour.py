"""Issue 18 items 4, 7-11: a config that cannot silently lie, checked as a user runs `monitor check`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.smtp import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape of a bot token, not a real one

FEEDS = """\
feeds:
  - name: BBC Arabic
    url: https://feeds.bbci.co.uk/arabic/rss.xml
"""
TOPIC = """\
topics:
  - id: korea
    name: Korea
    any: [كوريا]
    notify: [tg]
"""
CHANNEL = "channels:\n  tg: tgram://${TOKEN}/${CHAT}\n"


def check(
    tmp_path: Path, text: str, env: dict[str, str] | None = None, verb: str = "check"
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "TOKEN": TOKEN, "CHAT": "-100123"}
    return subprocess.run(
        [sys.executable, "-m", "monitor", verb, "--config", str(path)],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=300,
    )


# ---- item 7: duplicate keys (pyyaml#165, pyyaml#41, yacs#17: the first block silently dropped)


@pytest.mark.parametrize(
    "text,line,first",
    [
        (FEEDS + CHANNEL + TOPIC + TOPIC, 11, 6),  # two `topics:` blocks
        (FEEDS + CHANNEL + TOPIC.replace("    notify: [tg]\n", "    notify: [tg]\n    any: [روسيا]\n"), 11, 9),
        (FEEDS.replace("    url:", "    name: BBC\n    url:") + CHANNEL + TOPIC, 3, 2),  # nested in a list item
        ("defaults: {interval: 10m, interval: 5m}\n" + FEEDS + CHANNEL + TOPIC, 1, 1),  # flow style
    ],
)
def test_duplicate_keys_are_refused_with_both_lines(tmp_path, text, line, first):
    out = check(tmp_path, text)
    assert out.returncode == 2, out.stdout
    assert f"config.yaml:{line}:" in out.stderr and f"(first at line {first})" in out.stderr, out.stderr


def test_a_merge_key_then_an_override_is_not_a_duplicate(tmp_path):
    text = "x-base: &base {interval: 10m}\n" + FEEDS + CHANNEL + TOPIC + "defaults:\n  <<: *base\n  interval: 5m\n"
    out = check(tmp_path, text)
    assert "duplicate" not in out.stderr


# ---- item 10: YAML syntax errors with line and fix; our wording; did you mean; notify: NAME


@pytest.mark.parametrize(
    "text,where,hint",
    [
        ("feeds:\n\t- name: x\n", "config.yaml:2:1:", "indent with spaces"),
        ("feeds:\n  - name: x\n   url: y\n", "config.yaml:3:", "same column"),
        ("feeds:\n  - name: x\n    url: *nope\n", "config.yaml:3:", "alias"),
        ('feeds:\n  - name: "x\n', "config.yaml:", "quote"),
    ],
)
def test_yaml_syntax_errors_name_line_and_fix(tmp_path, text, where, hint):
    out = check(tmp_path, text)
    assert out.returncode == 2
    assert where in out.stderr and hint in out.stderr, out.stderr
    assert "while scanning" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "text,expected",
    [
        (FEEDS + CHANNEL + TOPIC + "defaults: 10m\n", "defaults: must be a mapping"),
        (FEEDS + CHANNEL + TOPIC.replace("any: [كوريا]", "any: [كوريا]\n    urgent: maybe"), "must be true or false"),
        (FEEDS + CHANNEL + "topics: [korea]\n", "topics[0]: must be a mapping"),
        (FEEDS + CHANNEL + TOPIC + "defaults: {intervall: 5m}\n", "unknown key (did you mean `interval`?)"),
        (FEEDS + CHANNEL + TOPIC.replace("notify:", "notifi:"), "unknown key (did you mean `notify`?)"),
        (FEEDS + CHANNEL + TOPIC.replace("[tg]", "[tgg]"), "unknown channel 'tgg' (did you mean 'tg'?)"),
        (
            FEEDS + CHANNEL + TOPIC.replace("any: [كوريا]", "any: [كوريا]\n    feeds: [BBC Arabik]"),
            "did you mean 'BBC Arabic'?",
        ),
    ],
)
def test_validation_errors_are_in_our_words(tmp_path, text, expected):
    out = check(tmp_path, text)
    assert out.returncode == 2 and expected in out.stderr, out.stderr
    for leak in ("Input should be", "instance of", "valid dictionary"):
        assert leak not in out.stderr


def test_one_channel_name_is_a_list_of_one(tmp_path):
    out = check(tmp_path, FEEDS + CHANNEL + TOPIC.replace("notify: [tg]", "notify: tg"))
    assert out.returncode == 0, out.stderr
    assert "-> tg" in out.stdout


# ---- item 8: configs that cannot work are errors; probably-wrong ones are warnings


@pytest.mark.parametrize(
    "text,expected",
    [
        ("storage: monitor.db\n" + FEEDS + CHANNEL + TOPIC, "storage: not a database URL"),
        ("storage: mysql2://x/y\n" + FEEDS + CHANNEL + TOPIC, "storage: not a database URL SQLAlchemy knows"),
        (FEEDS + "channels:\n  tg: tgram://${TOKEN}/$TELEGRAM_CHAT_ID\n" + TOPIC, "write `${TELEGRAM_CHAT_ID}`"),
        (FEEDS + "channels:\n  tg: foo://bar\n" + TOPIC, "apprise does not know `foo://`"),
        (FEEDS + "channels:\n  tg: ['tgram://${TOKEN}/1', 'gotify://']\n" + TOPIC, "channels.tg[1]:"),
        (FEEDS.replace("rss.xml", "rss feed.xml") + CHANNEL + TOPIC, "%20"),
        (FEEDS + CHANNEL + TOPIC.replace("any: [كوريا]", "all: [[كوريا]]\n    none: [كوريا]"), "also in `none`"),
    ],
)
def test_configs_that_cannot_work_are_refused(tmp_path, text, expected):
    out = check(tmp_path, text)
    assert out.returncode == 2, out.stdout
    assert expected in out.stderr, out.stderr
    assert TOKEN not in out.stderr + out.stdout and TOKEN[10:20] not in out.stderr + out.stdout


@pytest.mark.parametrize(
    "text,expected",
    [
        (
            FEEDS + "  - name: BBC again\n    url: http://www.feeds.bbci.co.uk/arabic/rss.xml\n" + CHANNEL + TOPIC,
            "same URL as feeds[0] (BBC Arabic)",
        ),
        ("defaults: {interval: 1s}\n" + FEEDS + CHANNEL + TOPIC, "more than once a minute"),
        (FEEDS.replace("rss.xml\n", "rss.xml\n    interval: 30\n") + CHANNEL + TOPIC, "feeds[0].interval: every 30s"),
        (FEEDS + CHANNEL + TOPIC.replace("[كوريا]", "[كوريا, في, من]"), "`في` is in most articles"),
        (FEEDS + CHANNEL + TOPIC.replace("[كوريا]", "[كوريا, ~رئيس]"), "`~رئيس` marks a common word"),
        (
            FEEDS + CHANNEL + TOPIC.replace("any: [كوريا]", "all:\n      - روسيا, موسكو"),
            "for alternatives write a group: [روسيا, موسكو]",
        ),
        (
            FEEDS + CHANNEL + "  ops: tgram://${TOKEN}/$CHAT\n".replace("  ops", "  ops") + TOPIC,
            "`$CHAT` is not expanded",
        ),
    ],
)
def test_probably_wrong_configs_pass_with_a_warning(tmp_path, text, expected):
    out = check(tmp_path, text)
    if "$CHAT" in text and "ops" in text:  # in a channel, an unexpanded $VAR is an error
        assert out.returncode == 2 and expected in out.stderr, out.stderr
        return
    assert out.returncode == 0, out.stderr
    warnings = [ln for ln in out.stdout.splitlines() if ln.startswith("warning: ")]
    assert any(expected in w for w in warnings), out.stdout
    assert all("config.yaml:" in w for w in warnings)


# ---- item 11: term pitfalls


@pytest.mark.parametrize("term", ["روسي*", "*روسيا", "Russia*", "روس%"])
def test_wildcards_are_refused_with_a_hint(tmp_path, term):
    out = check(tmp_path, FEEDS + CHANNEL + TOPIC.replace("[كوريا]", f'["{term}"]'))
    assert out.returncode == 2 and "wildcards" in out.stderr and "clitics" in out.stderr, out.stderr


# ---- item 9: secrets pasted into URLs (apprise#161 `@` in a password, #32 `%`, #1433 `;`)

MAIL = "channels:\n  mail: mailto://${SMTP_USER}:${SMTP_PASSWORD}@127.0.0.1:${PORT}?from=${ALERT_FROM}&to=${ALERT_TO}\n"


@pytest.mark.parametrize("password", ["p@ss/w#rd?x", "100%sure&y=1", "semi;colon pass", "ends-with-@"])
def test_a_password_with_url_characters_reaches_the_mail_server_intact(tmp_path, password):
    with SmtpServer() as smtp:
        env = {
            "SMTP_USER": "alerts@example.org",
            "SMTP_PASSWORD": password,
            "PORT": str(smtp.port),
            "ALERT_FROM": "a+b@example.org",
            "ALERT_TO": "you@example.org",
        }
        text = FEEDS + MAIL + TOPIC.replace("[tg]", "[mail]")
        assert check(tmp_path, text, env).returncode == 0
        path = tmp_path / "config.yaml"
        sent = subprocess.run(
            [sys.executable, "-m", "monitor", "test-alert", "mail", "--config", str(path)],
            capture_output=True,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **env},
            timeout=300,
        )
        assert sent.returncode == 0, sent.stderr
        assert [(login, secret) for _, login, secret in smtp.auth_attempts] == [("alerts@example.org", password)]
        assert smtp.messages and smtp.messages[0].rcpt_tos == ["you@example.org"]


def test_a_literal_password_in_a_bad_url_leaks_no_fragment(tmp_path):
    password = "p@ss/w#rd?xyzzy"
    text = (
        FEEDS
        + f"channels:\n  mail: mailtos://u:{password}@smtp.example.org:587?from=a@example.org\n"
        + TOPIC.replace("[tg]", "[mail]")
    )
    out = check(tmp_path, text)
    output = out.stdout + out.stderr
    assert out.returncode == 2
    for i in range(len(password) - 2):
        piece = password[i : i + 3]
        if piece not in ("p@s",):  # "p@s"... every 3-character piece that could be told apart
            assert piece not in output.replace("mailtos://", ""), (piece, output)


# ---- item 4: read-only verbs without the channel secrets


@pytest.mark.parametrize("verb", ["topics", "feeds", "status", "stories", "outbox"])
def test_read_only_verbs_run_without_channel_secrets(tmp_path, verb):
    text = f"storage: sqlite:///{tmp_path / 'm.db'}\n" + FEEDS + CHANNEL + TOPIC
    out = check(tmp_path, text, env={"TOKEN": "", "CHAT": ""}, verb=verb)
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("note: channel(s) tg") == 1
    strict = check(tmp_path, text, env={"TOKEN": "", "CHAT": ""}, verb="check")
    assert strict.returncode == 2 and "TOKEN is not set" in strict.stderr
