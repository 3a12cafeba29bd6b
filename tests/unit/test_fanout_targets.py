"""An apprise URL that fans out to several chats or mailboxes is one delivery target per
chat/mailbox (delivery/targets.py), so a retry resends only to the one that lacks the
alert (red team, issue 12 items 13 and 14). Each split URL is checked by apprise itself:
it names exactly one recipient, the one expected, with the URL's other options kept.
"""

from __future__ import annotations

import apprise
import pytest

from monitor.delivery.targets import expand, mail_recipients

pytestmark = pytest.mark.unit

TOKEN = "123456:ABCdef_ghijklmnopqrstu"


def recipients(url: str) -> list[str]:
    """What apprise sends `url` to: chat ids, or mail addresses."""
    plugin = apprise.Apprise.instantiate(url)
    assert plugin is not None, url
    out = []
    for t in plugin.targets:
        out.append(str(t[1]) if isinstance(t, tuple) and isinstance(t[1], str) and "@" in t[1] else str(t[0]))
    return out


# (variant, url, recipients of each expanded URL, in order) -- public reports per row
CASES = [
    # BitBotFactory/MikaLendingBot#318: two Telegram chat ids in one notifier
    ("telegram two chats", f"tgram://{TOKEN}/1111/2222", [["1111"], ["2222"]]),
    (
        "telegram group and user, options kept",
        f"tgram://{TOKEN}/-1001/2222?format=html&silent=yes",
        [["-1001"], ["2222"]],
    ),
    ("telegram one chat named twice", f"tgram://{TOKEN}/1111/1111", [["1111"]]),
    ("telegram one chat", f"tgram://{TOKEN}/1111", [["1111"]]),
    # Particular/NServiceBus#1052: one address of 20 fails, every retry mails all 20 again
    (
        "mail recipients in to=",
        "mailto://127.0.0.1:2525?from=m%40example.com&to=first%40example.com%2Csecond%40example.com",
        [["first@example.com"], ["second@example.com"]],
    ),
    (
        "mail recipients in the path",
        "mailtos://user:pw@smtp.example.com/a@example.org/b@example.org?name=Monitor",
        [["a@example.org"], ["b@example.org"]],
    ),
    (
        "mail path and to= together",
        "mailto://user:pw@smtp.example.com/a@example.org?to=b@example.org;c@example.org",
        [["a@example.org"], ["b@example.org"], ["c@example.org"]],
    ),
    ("mail one recipient", "mailto://user:pw@smtp.example.com?to=a@example.org", [["a@example.org"]]),
]


@pytest.mark.parametrize(("variant", "url", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_fanout_url_is_one_target_per_recipient(variant, url, expected):
    split = expand(url)
    assert [recipients(u) for u in split] == expected, variant
    whole = apprise.Apprise.instantiate(url)
    for u in split:  # options other than the recipients are the URL's own
        one = apprise.Apprise.instantiate(u)
        assert type(one) is type(whole)
        for attr in ("host", "port", "user", "password", "from_addr", "secure", "silent", "notify_format"):
            assert getattr(one, attr, None) == getattr(whole, attr, None), f"{variant}: {attr} changed"


# (variant, url) -- kept whole: splitting would change who gets what
KEPT = [
    ("mail with cc: the copy belongs to one message", "mailto://u:p@smtp.example.com/a@x.org/b@x.org?cc=c@x.org"),
    ("mail with bcc", "mailto://u:p@smtp.example.com?to=a@x.org,b@x.org&bcc=c@x.org"),
    ("another service", "json://127.0.0.1:8080/hook"),
    ("mail to the sender (no recipient)", "mailto://user:pw@smtp.example.com"),
]


@pytest.mark.parametrize(("variant", "url"), KEPT, ids=[c[0] for c in KEPT])
def test_urls_that_must_stay_whole(variant, url):
    assert expand(url) == [url], variant


def test_mail_recipients_reads_path_and_to():
    assert mail_recipients("mailto://u:p@h/a@x.org?to=b@x.org, a@x.org") == ["a@x.org", "b@x.org"]
    assert mail_recipients(f"tgram://{TOKEN}/1111") == []
