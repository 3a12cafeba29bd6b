"""Issue 18 (red team 18): `monitor check` pitfalls of a new user's first config: a topic
that can never match, a `${VAR}` that changes the Telegram chat, other wildcard spellings,
an unset variable blamed twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.acceptance.test_store_shown import monitor


def small_config(tmp_path: Path, topic: str, channel: str = "tgram://${TG}/1") -> Path:
    (tmp_path / "config.yaml").write_text(
        "storage: sqlite:///m.db\nfeeds:\n  - name: A\n    url: https://example.org/a.xml\n"
        f"channels:\n  telegram: {channel}\n"
        f"topics:\n  - id: t1\n    name: T1\n{topic}    notify: telegram\n",
        encoding="utf-8",
    )
    return tmp_path


def test_check_flags_a_topic_whose_only_any_term_is_vetoed(tmp_path):
    """`any: [روسيا]` + `none: [روسيا]` can never match; `all` + `none` is refused, `any` + `none` is OK."""
    cwd = small_config(tmp_path, "    any: [روسيا]\n    none: [روسيا]\n")
    result = monitor(cwd, "check")
    assert result.returncode == 2 or "none" in result.stdout + result.stderr, result.stdout + result.stderr


def test_check_refuses_a_variable_with_hash_in_the_telegram_path(tmp_path):
    """README: "In the host or path a value must not hold a space or / ? # @". A chat id
    variable holding `#` is accepted; apprise then reads chat -100 (the rest is a fragment),
    a different chat than the one configured."""
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel="tgram://${TG}/${CHAT}")
    result = monitor(cwd, "check", env={"CHAT": "-100#12"})
    assert result.returncode == 2, result.stdout + result.stderr


def test_an_unset_variable_is_not_also_blamed_on_apprise_parsing(tmp_path):
    """The shipped config without monitor.env: each unset ${VAR} is named (good), then the same
    channel gets a second error telling the user to percent-encode @ / # ? (wrong advice)."""
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel="tgram://${TELEGRAM_BOT_TOKEN}/${TELEGRAM_CHAT_ID}")
    result = monitor(cwd, "check")
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "apprise cannot read" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "term",
    [
        "روسي?",  # `?` one-letter wildcard of search tools (Google Alerts, Lucene): `?` dropped, exact `روسي` only
        "روسي؟",  # the same with the Arabic question mark an Arabic keyboard types
        "روسي＊",  # a fullwidth asterisk (IMEs, pasted from a PDF): `*` is refused, `＊` silently dropped
    ],
)
def test_check_refuses_other_wildcard_spellings(tmp_path, term):
    cwd = small_config(tmp_path, f"    any: ['{term}']\n")
    result = monitor(cwd, "check")
    out = result.stdout + result.stderr
    assert result.returncode == 2 or "warning" in out, out


@pytest.mark.parametrize(
    ("topic", "refused"),
    [
        ("    any: [روسيا]\n    none: [روسيا]\n", True),
        ("    any: [روسيا, موسكو]\n    none: [موسكو, روسيا]\n", True),
        ("    any: [روسيا]\n    none: [روسيا، موسكو]\n", False),  # one phrase, not the term
        ("    any: [روسيا, موسكو]\n    none: [روسيا]\n", False),  # موسكو can still match
    ],
)
def test_check_refuses_a_topic_whose_every_any_term_is_vetoed(tmp_path, topic, refused):
    result = monitor(small_config(tmp_path, topic), "check")
    assert (result.returncode == 2) == refused, result.stdout + result.stderr
    assert ("can never match" in result.stderr) == refused


@pytest.mark.parametrize(
    ("chat", "refused"),
    [("-100#12", True), ("12?x=1", True), ("12 34", True), ("-10012", False), ("@mychannel", False)],
)
def test_check_refuses_a_chat_variable_that_would_change_the_chat(tmp_path, chat, refused):
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel="tgram://${TG}/${CHAT}")
    result = monitor(cwd, "check", env={"CHAT": chat})
    assert (result.returncode == 2) == refused, result.stdout + result.stderr
    if refused:
        assert "${CHAT}" in result.stderr and chat not in result.stderr.replace("${CHAT}", "")


# caronc/apprise#400 (special characters in an SMTP password), rebuilt with a literal `#`
@pytest.mark.parametrize(
    "channel",
    [
        "mailtos://${SU}:Zq#9xK@smtp.example.org:587?from=a@example.org&to=b@example.org",
        "mailtos://${SU}:#start@smtp.example.org:587?from=a@example.org&to=b@example.org",
        "mailto://ali:pa#ss@smtp.example.org?from=a@example.org&to=b@example.org",
    ],
)
def test_a_literal_hash_in_a_password_is_named_not_the_user_variable(tmp_path, channel):
    """`mailtos://${SU}:Zq#9xK@host...`: the error blames `${SU}` ("in the URL's host part")
    and says the host is empty, instead of pointing at the literal `#` to encode as %23."""
    cwd = small_config(tmp_path, "    any: [روسيا]\n", channel=channel)
    result = monitor(cwd, "check", env={"SU": "ali@example.org"})
    assert result.returncode == 2
    assert "${SU}" not in result.stderr and "%23" in result.stderr, result.stderr


def test_check_warns_on_tilde_on_an_ordinary_word(tmp_path):
    """README: "on ordinary words these rules merge different words (زيارة / وزارة)"; `~زيارة` is in
    5% of articles (not common), but the corpus writes it زيارات and زيارته: an ordinary word."""
    cwd = small_config(tmp_path, "    any: [~زيارة]\n")
    result = monitor(cwd, "check")
    said = result.stdout + result.stderr
    assert result.returncode == 0 and "warning" in said and "`~زيارة` marks an ordinary word" in said, said
