"""The channel-kind registry: which URLs make which kind, and what each kind means downstream."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.models import CHANNEL_KINDS, ChannelKind, channel_kind, url_scheme

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TG = "tgram://123456:AAHsecret/111"


@pytest.mark.parametrize(
    ("urls", "kind"),
    [
        ([TG], ChannelKind.TELEGRAM),
        ([TG, "tgram://1:x/2"], ChannelKind.TELEGRAM),
        (["TGRAM://1:x/2"], ChannelKind.TELEGRAM),  # schemes are case-insensitive
        (["mailto://a@b.c"], ChannelKind.EMAIL),
        (["mailto://a@b.c", "mailtos://u:p@h?to=x@y.z"], ChannelKind.EMAIL),
        ([TG, "mailto://a@b.c"], ChannelKind.OTHER),  # mixed: sent as plain text to both
        (["json://localhost"], ChannelKind.OTHER),
        (["not a url"], ChannelKind.OTHER),
        ([], ChannelKind.OTHER),
    ],
)
def test_kind_of_a_channel(urls, kind):
    assert channel_kind(urls) is kind
    assert channel_kind(iter(urls)) is kind  # any iterable (config gives lists or tuples)


def test_every_kind_has_one_row_and_schemes_do_not_overlap():
    assert set(CHANNEL_KINDS) == set(ChannelKind)
    assert all(spec.kind is kind for kind, spec in CHANNEL_KINDS.items())
    seen: set[str] = set()
    for spec in CHANNEL_KINDS.values():
        assert not (spec.schemes & seen)
        seen |= spec.schemes
        # each row's example URL is of its own kind
        assert channel_kind([spec.example]) is spec.kind, spec.example
    assert [k for k, s in CHANNEL_KINDS.items() if not s.schemes] == [ChannelKind.OTHER]  # one fallback


def test_the_kind_is_a_string_for_logs_and_old_callers():
    assert ChannelKind.TELEGRAM == "telegram" and f"{ChannelKind.EMAIL}" == "email"
    assert CHANNEL_KINDS["other"].kind is ChannelKind.OTHER  # a str looks up the same row


def test_what_each_kind_sends():
    tg, mail, other = (CHANNEL_KINDS[k] for k in (ChannelKind.TELEGRAM, ChannelKind.EMAIL, ChannelKind.OTHER))
    assert (tg.telegram_html, tg.sends_html, tg.sends_title, tg.html_template) == (
        True,
        True,
        False,
        "telegram.html.j2",
    )
    assert (mail.telegram_html, mail.sends_html, mail.sends_title, mail.html_template) == (
        False,
        True,
        True,
        "email.html.j2",
    )
    assert (other.telegram_html, other.sends_html, other.sends_title) == (False, False, True)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("tgram://a/b", "tgram"), ("MailTos://u@h", "mailtos"), (" json://h", "json"), ("no scheme", "")],
)
def test_url_scheme(url, scheme):
    assert url_scheme(url) == scheme


def test_readme_names_every_kind_and_its_schemes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"Channel kinds:(.*?)(?:\n- |\n#)", readme, flags=re.S)
    assert section, "README's Delivery section lists the channel kinds"
    text = section.group(1)
    for spec in CHANNEL_KINDS.values():
        assert f"`{spec.kind}`" in text
        for scheme in spec.schemes:
            assert f"`{scheme}://`" in text
