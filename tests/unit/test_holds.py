"""monitor.delivery.holds: a target's identity (same key for every URL that reaches one chat,
mailbox or webhook; never its secret) and which hold keeps a channel silent (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.delivery.holds import channel_keys, held_by, identity, legacy_key, rate_signature
from monitor.storage import Hold

TOKEN = "123456:AAHsecretTOKEN"

# (case, URL a, URL b, one target)
SAME = [
    ("the same URL", f"tgram://{TOKEN}/111", f"tgram://{TOKEN}/111", True),
    ("a `bot` prefix and options", f"tgram://{TOKEN}/111", f"tgram://bot{TOKEN}/111?format=html&silent=yes", True),
    ("a reissued token of the same bot", f"tgram://{TOKEN}/111", "tgram://123456:OTHERtoken/111", True),
    ("a @name in another letter case", f"tgram://{TOKEN}/@News", f"tgram://{TOKEN}/@news", True),
    ("another chat", f"tgram://{TOKEN}/111", f"tgram://{TOKEN}/222", False),
    ("another bot", f"tgram://{TOKEN}/111", "tgram://654321:AAHsecretTOKEN/111", False),
    (
        "mail: mailto and mailtos, another password",
        "mailto://desk:pw@example.com?to=a@example.org",
        "mailtos://desk:other@EXAMPLE.com?to=A@example.org",
        True,
    ),
    (
        "mail: the recipient in the path or in to=",
        "mailto://desk:pw@example.com/a@example.org",
        "mailto://desk:pw@example.com?to=a@example.org",
        True,
    ),
    (
        "mail: another account on one server",
        "mailto://desk:pw@example.com?to=a@example.org",
        "mailto://night:pw@example.com?to=a@example.org",
        False,
    ),
    ("webhook: host case, a trailing slash, options", "json://h.example/in/abc", "json://H.example/in/abc/?x=1", True),
    ("webhook: json and its TLS twin jsons", "json://h.example/in/abc", "jsons://h.example/in/abc", True),
    ("webhook: another path", "json://h.example/in/abc", "json://h.example/in/xyz", False),
    ("webhook: another port", "json://h.example:8080/in", "json://h.example:8081/in", False),
    ("another service on the same host", "json://h.example/in", "xml://h.example/in", False),
]


@pytest.mark.parametrize("case,a,b,same", SAME, ids=[s[0] for s in SAME])
def test_a_target_has_one_identity_whatever_url_reaches_it(case, a, b, same):
    assert (identity(a).key == identity(b).key) is same, case


# (URL, the label shown, a secret it must not show)
LABELS = [
    (f"tgram://{TOKEN}/111", "telegram bot 123456 chat 111", "AAHsecret"),
    ("mailtos://desk:mailPW@example.com?to=a@example.org", "email desk@example.com to a@example.org via", "mailPW"),
    ("discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js", "discord://4174216298/…", "JHMHI8qBe7bk"),
    ("json://user:hookPW@h.example/in/abcSECRET", "json://h.example/…", "abcSECRET"),
    ("json://[::1", "a URL that does not parse", "::1"),
]


@pytest.mark.parametrize("url,label,secret", LABELS, ids=[row[1] for row in LABELS])
def test_a_targets_label_names_it_without_its_secret(url, label, secret):
    got = identity(url)
    assert got.label.startswith(label) and secret not in got.label
    assert secret not in got.key and len(got.key) == 32


def _hold(kind: str, holder: str, left: float, rate: str | None = None) -> Hold:
    return Hold(kind, holder, "tg", "", datetime(2026, 1, 1, tzinfo=UTC), left, kind, rate)


KEYS = channel_keys("tg", [f"tgram://{TOKEN}/111/222"])  # two chats: two targets
RATE = rate_signature([(1, 1.0), (20, 60.0)])
# (case, holds in force, the hold expected (index), None: free)
JUDGED = [
    ("nothing held", [], None),
    ("a server hold of its second chat", [_hold("server", identity(f"tgram://{TOKEN}/222").key, 9)], 0),
    ("a server hold of another chat", [_hold("server", identity(f"tgram://{TOKEN}/333").key, 9)], None),
    ("a 0014 flood wait of its name", [_hold("server", legacy_key("tg"), 9)], 0),
    ("its rate hold under its limits", [_hold("rate", "tg", 9, RATE)], 0),
    ("its rate hold under other limits", [_hold("rate", "tg", 9, rate_signature([(1, 3600.0)]))], None),
    ("another channel's rate hold", [_hold("rate", "tg2", 9, RATE)], None),
    (
        "a long server hold over a short rate hold",
        [_hold("rate", "tg", 5, RATE), _hold("server", legacy_key("tg"), 50)],
        1,
    ),
]


@pytest.mark.parametrize("case,found,expected", JUDGED, ids=[j[0] for j in JUDGED])
def test_which_hold_keeps_a_channel_silent(case, found, expected):
    got = held_by(found, "tg", KEYS, RATE)
    assert got == (found[expected] if expected is not None else None), case


def test_a_rate_signature_is_the_same_in_any_order():
    assert rate_signature([(20, 60.0), (1, 1.0), (1, 1.0)]) == rate_signature([(1, 1.0), (20, 60.0)]) == "1/1s,20/60s"
