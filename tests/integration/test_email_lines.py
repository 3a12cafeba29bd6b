"""Every line of an email we send fits RFC 5322's 998 octets, whatever the script (issue 12, loss 6).

The sends go through the real apprise to :class:`tests.support.smtp.SmtpServer` with
``max_line=998`` (a strict server, as Exim's "maximum allowed line length is 998
octets" in thp/urlwatch#702, OpenSMTPD's "Line too long" in OpenSMTPD/OpenSMTPD#1134).
Subjects: the F2-09 headline (Arabic, which Python's ``Header`` writes quoted-printable:
6 octets a letter), emoji (4 octets each), ASCII with and without spaces, and mixes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.delivery import notify
from monitor.delivery.render import SUBJECT_MAX
from monitor.models import ChannelKind, RenderedAlert

F2_09 = Path(__file__).resolve().parents[1] / "fixtures/field-cases/feeds/F2-09-email-long-arabic-subject"
HEADLINE = re.findall(r"<title>(.*?)</title>", (F2_09 / "www/rss.xml").read_text(encoding="utf-8"))[1]
TOPIC = "الاتفاق النووي الإيراني"
BODY_AR = re.sub(r"<[^>]+>", "", (F2_09 / "www/a1.html").read_text(encoding="utf-8").split("<article>")[1])

SUBJECTS = {
    "f2-09 arabic topic + 165-character headline": f"[monitor] {TOPIC}: {HEADLINE}"[:SUBJECT_MAX],
    "emoji": "\U0001f514" * SUBJECT_MAX,
    "arabic without spaces": HEADLINE.replace(" ", "")[:SUBJECT_MAX],
    "ascii words": ("alert " * 60)[:SUBJECT_MAX],
    "ascii without spaces": "x" * 300,
    "mixed scripts": (f"{TOPIC} \U0001f514 news " * 20)[:SUBJECT_MAX],
    "short": "[monitor] test",
}


def test_the_field_case_subject_is_the_long_line_apprise_would_write():
    """What F2-09 reported: apprise's Subject line for this subject is 1,027 octets."""
    subject = f"[monitor] {TOPIC}: {HEADLINE}"[:SUBJECT_MAX]
    assert len(notify.subject_line(subject)) == 1027


@pytest.mark.parametrize("subject", list(SUBJECTS.values()), ids=list(SUBJECTS))
def test_every_line_fits_998_octets(smtp_server, subject):
    smtp_server.max_line = 998
    bells = "\U0001f514" * 2000
    body = f'<div dir="rtl"><p>{BODY_AR * 8}</p><p>{bells}</p></div>'
    alert = RenderedAlert(subject, BODY_AR, body)
    result = notify.send_one(smtp_server.apprise_url(), alert, kind=ChannelKind.EMAIL)
    assert result.ok, result.error
    [mail] = smtp_server.messages
    assert max(len(line) for line in mail.raw.split(b"\r\n")) <= 998
    got = str(mail.message["Subject"])
    one = " ".join(subject.split())
    assert got == one or (got.endswith("…") and one.startswith(got[:-1].rstrip()))  # whole, or cut at a word
    assert len(got) >= min(40, len(one))  # cut by encoded octets, not emptied


@pytest.mark.parametrize("subject", list(SUBJECTS.values()), ids=list(SUBJECTS))
def test_email_subject_fits_apprise_and_the_line_limit(subject):
    cut = notify.email_subject(subject, 250)
    assert len(cut) <= 250 and len(notify.subject_line(cut)) <= notify.LINE_MAX


def test_apprise_still_writes_the_subject_on_one_unfolded_line(smtp_server):
    """Pins the apprise behaviour notify.subject_line mirrors: whitespace collapsed, no folding."""
    subject = f"{TOPIC}\n{HEADLINE[:40]}"
    notify.send_one(smtp_server.apprise_url(), RenderedAlert(subject, "x", "<p>x</p>"), kind=ChannelKind.EMAIL)
    [mail] = smtp_server.messages
    [line] = [x for x in mail.raw.split(b"\r\n") if x.startswith(b"Subject:")]
    assert line == notify.subject_line(subject)


def test_a_strict_server_refusing_a_long_line_is_a_message_fault(smtp_server):
    """Sent raw (not through email_subject), the F2-09 subject is refused; the verdict is ours."""
    smtp_server.max_line = 998
    smtp_server.refuse_next(1, code=500, text="5.0.0: Line too long")
    result = notify.send_one(smtp_server.apprise_url(), RenderedAlert("x", "x", "<p>x</p>"), kind=ChannelKind.EMAIL)
    assert not result.ok and result.message_fault and not result.permanent
