"""Classification of failed sends: one row per message apprise (or the server behind it) logs.

The messages are built from the format strings in the installed apprise's source
(plugins/telegram.py, plugins/custom_json.py, plugins/email/base.py and smtp.py;
each string we depend on is checked to still exist there by
``test_apprise_still_has_every_format_we_read``). The server replies inside them
are rebuilt from public reports of each kind:

- Telegram 429 "Too Many Requests: retry after 34" with ``parameters.retry_after``
  (flathunters/flathunter#88), 403 "Forbidden: bot was blocked by the user" and
  400 "Bad Request: chat not found" (botman/driver-telegram#89), apprise's own
  "Bad Request: message is too long, error=400." (ccxt/binance-trade-bot#492);
- SMTP 535 "5.7.8 ... authentication failed" / "5.7.3 Authentication unsuccessful"
  (RainLoop/rainloop-webmail#1629, jstedfast/MailKit#700), all recipients refused
  with 550 "5.1.1 ... User unknown in local recipient table" (ae-utbm/sith#91),
  "Socket Exception: [Errno 111] Connection refused" (caronc/apprise#15).
"""

from __future__ import annotations

import os

import apprise
import pytest

from monitor.delivery.failures import (
    APPRISE_FORMATS,
    ERROR_MAX,
    Failure,
    Rule,
    SendResult,
    Verdict,
    classify,
    classify_http,
    log_records,
    not_accepted,
)

pytestmark = pytest.mark.unit

APPRISE_DIR = os.path.dirname(apprise.__file__)
P, T, M = Verdict.PERMANENT, Verdict.TRANSIENT, Verdict.MESSAGE


def cap(*lines: tuple[str, str]) -> str:
    """Captured log text in notify's format ("<asctime> - <LEVEL> - <message>")."""
    return "\n".join(f"2026-03-01 10:00:0{i % 10},123 - {level} - {msg}" for i, (level, msg) in enumerate(lines))


def tg_failed(chat: str, description: str, code: int, content: bytes) -> str:
    """plugins/telegram.py: the warning and the DEBUG "Response Details" of a refused sendMessage."""
    return cap(
        ("WARNING", f"Failed to send Telegram notification to {chat}: {description}, error={code}."),
        ("DEBUG", f"Response Details:\r\n{content}"),
    )


def tg_json(code: int, description: str, extra: str = "") -> bytes:
    return f'{{"ok":false,"error_code":{code},"description":"{description}"{extra}}}'.encode()


# (name, captured, verdict, rule, retry_after, must appear in the reason)
ROWS = [
    # ---- Telegram (plugins/telegram.py) -----------------------------------------------
    (
        "tg 400 chat not found",
        tg_failed("111", "Bad Request: chat not found", 400, tg_json(400, "Bad Request: chat not found")),
        P,
        Rule.HTTP_STATUS,
        None,
        "chat not found",
    ),
    (
        "tg 403 bot blocked",
        tg_failed(
            "111", "Forbidden: bot was blocked by the user", 403, tg_json(403, "Forbidden: bot was blocked by the user")
        ),
        P,
        Rule.HTTP_STATUS,
        None,
        "blocked by the user",
    ),
    (
        "tg 401 bad token",
        tg_failed("111", "Unauthorized", 401, tg_json(401, "Unauthorized")),
        P,
        Rule.HTTP_STATUS,
        None,
        "error=401",
    ),
    (
        "tg 404 unknown bot",
        tg_failed("111", "Not Found", 404, tg_json(404, "Not Found")),
        P,
        Rule.HTTP_STATUS,
        None,
        "error=404",
    ),
    (
        "tg 400 message too long",
        tg_failed("-100222", "Bad Request: message is too long", 400, tg_json(400, "Bad Request: message is too long")),
        M,  # our message, not the channel (issue 12, loss 6)
        Rule.MESSAGE_REFUSED,
        None,
        "message is too long",
    ),
    (
        "tg 400 unparsable html",
        tg_failed(
            "111",
            "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0",
            400,
            tg_json(400, "Bad Request: can't parse entities"),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "can't parse entities",
    ),
    (
        "tg 429 retry after (description)",
        tg_failed(
            "111",
            "Too Many Requests: retry after 34",
            429,
            tg_json(429, "Too Many Requests: retry after 34", ',"parameters":{"retry_after":34}'),
        ),
        T,
        Rule.HTTP_STATUS,
        34.0,
        "retry after 34",
    ),
    (
        "tg 429 retry_after only in the JSON reply (no description: apprise logs the status text)",
        tg_failed("111", "Too Many Requests", 429, b'{"ok":false,"error_code":429,"parameters":{"retry_after":7}}'),
        T,
        Rule.HTTP_STATUS,
        7.0,
        "error=429",
    ),
    (
        "tg 502 bad gateway",
        tg_failed("111", "Bad Gateway", 502, b"<html>502 Bad Gateway</html>"),
        T,
        Rule.HTTP_STATUS,
        None,
        "error=502",
    ),
    (
        "tg connection error",
        cap(
            ("WARNING", "A connection error occurred sending Telegram:111 notification."),
            ("DEBUG", "Socket Exception: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded"),
        ),
        T,
        Rule.CONNECTION,
        None,
        "Socket Exception",
    ),
    (
        "tg timeout",
        cap(
            ("WARNING", "A connection error occurred sending Telegram:111 notification."),
            ("DEBUG", "Socket Exception: HTTPSConnectionPool(host='api.telegram.org', port=443): Read timed out."),
        ),
        T,
        Rule.CONNECTION,
        None,
        "Read timed out",
    ),
    (
        "tg no chat ids",
        cap(("WARNING", "There were not Telegram chat_ids to notify.")),
        P,
        Rule.NO_TARGETS,
        None,
        "chat_ids",
    ),
    (
        "an alert text saying error=503 in the DEBUG payload does not decide",
        cap(
            ("DEBUG", "Telegram Payload: {'chat_id': '111', 'text': 'server error=503 reported'}"),
            ("WARNING", "A connection error occurred sending Telegram:111 notification."),
            ("DEBUG", "Socket Exception: [Errno 111] Connection refused"),
        ),
        T,
        Rule.CONNECTION,
        None,
        "Connection refused",
    ),
    # ---- JSON (plugins/custom_json.py): the shape most other plugins share ---------------
    (
        "json 404",
        cap(
            ("WARNING", "Failed to send JSON POST notification: Not Found, error=404."),
            ("DEBUG", "Response Details:\r\nb'no such hook'"),
        ),
        P,
        Rule.HTTP_STATUS,
        None,
        "error=404",
    ),
    (
        "json 500",
        cap(("WARNING", "Failed to send JSON POST notification: Internal Server Error, error=500.")),
        T,
        Rule.HTTP_STATUS,
        None,
        "error=500",
    ),
    (
        "json unknown status (no status text)",
        cap(("WARNING", "Failed to send JSON POST notification: error=599.")),
        T,
        Rule.HTTP_STATUS,
        None,
        "error=599",
    ),
    (
        "json connection error",
        cap(
            ("WARNING", "A Connection error occurred sending JSON notification to localhost."),
            ("DEBUG", "Socket Exception: [Errno 111] Connection refused"),
        ),
        T,
        Rule.CONNECTION,
        None,
        "Connection refused",
    ),
    # ---- email (plugins/email/base.py, smtp.py) ------------------------------------------
    # refusals of the message itself (issue 12, loss 6), rebuilt from public reports: Exim's
    # 998-octet check on a long encoded Subject (thp/urlwatch#702), OpenSMTPD's "Line too long"
    # (OpenSMTPD/OpenSMTPD#1134), web.de's 501 (Kitura/Swift-SMTP#106), Postfix's size limit at
    # MAIL (fedora-infra/fmn#128), aiosmtpd's own DATA check
    (
        "smtp 550 line length 998 (exim)",
        cap(
            ("DEBUG", "Socket Exception: (550, b'maximum allowed line length is 998 octets, got 1027')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "998 octets",
    ),
    (
        "smtp 500 line too long (opensmtpd)",
        cap(
            ("DEBUG", "Socket Exception: (500, b'5.0.0: Line too long')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "Line too long",
    ),
    (
        "smtp 501 syntax line too long",
        cap(
            ("DEBUG", "Socket Exception: (501, b'Syntax error - line too long')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "SMTP 501",
    ),
    (
        "smtp 552 size at MAIL",
        cap(
            ("DEBUG", "Socket Exception: (552, b'5.3.4 Message size exceeds fixed limit', 'a@example.com')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "size exceeds",
    ),
    (
        "smtp 554 5.6.0 content",
        cap(
            ("DEBUG", "Socket Exception: (554, b'5.6.0 Message contains invalid header')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        M,
        Rule.MESSAGE_REFUSED,
        None,
        "invalid header",
    ),
    (
        "smtp 550 not about the message stays permanent",
        cap(
            ("DEBUG", "Socket Exception: (550, b'5.7.1 Relaying denied')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        P,
        Rule.SMTP_REPLY,
        None,
        "Relaying denied",
    ),
    (
        "smtp 535 login refused",
        cap(
            ("WARNING", 'Connection error while submitting email to "smtp.example.com"'),
            ("DEBUG", "Socket Exception: (535, b'5.7.8 Error: authentication failed: authentication failure')"),
        ),
        P,
        Rule.SMTP_REPLY,
        None,
        "SMTP 535",
    ),
    (
        "smtp 535 office365",
        cap(
            ("WARNING", 'Connection error while submitting email to "smtp.office365.com"'),
            ("DEBUG", "Socket Exception: (535, b'5.7.3 Authentication unsuccessful')"),
        ),
        P,
        Rule.SMTP_REPLY,
        None,
        "Authentication unsuccessful",
    ),
    (
        "smtp all recipients refused 550",
        cap(
            (
                "DEBUG",
                "Socket Exception: {'x@example.com': (550, b'5.1.1 <x@example.com>: Recipient address rejected: "
                "User unknown in local recipient table')}",
            ),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        P,
        Rule.SMTP_REPLY,
        None,
        "User unknown",
    ),
    (
        "smtp sender refused 553",
        cap(
            ("DEBUG", "Socket Exception: (553, b'5.7.1 Sender address rejected: not owned by user', 'a@example.com')"),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        P,
        Rule.SMTP_REPLY,
        None,
        "SMTP 553",
    ),
    (
        "smtp all recipients greylisted 450",
        cap(
            (
                "DEBUG",
                "Socket Exception: {'x@example.com': (450, b'4.2.0 <x@example.com>: Recipient address rejected: Greylisted')}",
            ),
            ("WARNING", 'Sending email to "x@example.com" failed.'),
        ),
        T,
        Rule.SMTP_REPLY,
        None,
        "Greylisted",
    ),
    (
        "smtp 421 service closing",
        cap(
            ("WARNING", 'Connection error while submitting email to "smtp.example.com"'),
            ("DEBUG", "Socket Exception: (421, b'4.7.0 Try again later, closing connection.')"),
        ),
        T,
        Rule.SMTP_REPLY,
        None,
        "SMTP 421",
    ),
    (
        "smtp some recipients refused 550",
        cap(
            ("WARNING", "SMTP recipient y@example.com was refused: 550 b'5.1.1 unknown user'"),
            ("WARNING", 'Sending email to "x@example.com, y@example.com" failed.'),
        ),
        P,
        Rule.SMTP_REFUSED,
        None,
        "was refused: 550",
    ),
    (
        "smtp some recipients refused 452",
        cap(("WARNING", "SMTP recipient y@example.com was refused: 452 b'4.5.3 Too many recipients'")),
        T,
        Rule.SMTP_REFUSED,
        None,
        "452",
    ),
    (
        "smtp connection refused",
        cap(
            ("WARNING", 'Connection error while submitting email to "127.0.0.1"'),
            ("DEBUG", "Socket Exception: [Errno 111] Connection refused"),
        ),
        T,
        Rule.CONNECTION,
        None,
        "Connection refused",
    ),
    (
        "smtp server hung up",
        cap(
            ("WARNING", 'Connection error while submitting email to "127.0.0.1"'),
            ("DEBUG", "Socket Exception: Connection unexpectedly closed"),
        ),
        T,
        Rule.CONNECTION,
        None,
        "unexpectedly closed",
    ),
    (
        "email without recipients",
        cap(("WARNING", "There are no Email recipients to notify")),
        P,
        Rule.NO_TARGETS,
        None,
        "no Email recipients",
    ),
    # ---- nothing recognised -------------------------------------------------------------
    (
        "unrecognised warning",
        cap(("WARNING", "Something went sideways.")),
        T,
        Rule.UNKNOWN,
        None,
        "sideways",
    ),
    ("no log at all", "", T, Rule.UNKNOWN, None, "delivery failed (no details)"),
]


@pytest.mark.parametrize(
    ("name", "captured", "verdict", "rule", "retry_after", "reason"), ROWS, ids=[r[0] for r in ROWS]
)
def test_classify_known_message(name, captured, verdict, rule, retry_after, reason):
    failure = classify(captured)
    assert (failure.verdict, failure.rule, failure.retry_after) == (verdict, rule, retry_after)
    assert failure.permanent is (verdict is Verdict.PERMANENT)
    assert reason in failure.reason
    assert "\n" not in failure.reason and len(failure.reason) <= ERROR_MAX


def test_every_rule_we_read_from_apprise_has_a_row():
    rules = {r[3] for r in ROWS}
    assert {f.rule for f in APPRISE_FORMATS} <= rules


@pytest.mark.parametrize("fmt", APPRISE_FORMATS, ids=lambda f: f"{f.module}:{f.fragment[:40]}")
def test_apprise_still_has_every_format_we_read(fmt):
    """An apprise upgrade that rewords one of these fails here, not in production."""
    path = os.path.join(APPRISE_DIR, *fmt.module.split("/"))
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    assert fmt.fragment in source, f"apprise {apprise.__version__} {fmt.module} no longer has {fmt.fragment!r}"


def test_percent_formats_render_to_what_we_classify():
    """The %-style formats, rendered as apprise's logger would, classify as their rows say."""
    refused = next(f.fragment for f in APPRISE_FORMATS if f.rule is Rule.SMTP_REFUSED).strip('"')
    line = refused % ("y@example.com", 550, b"5.1.1 unknown user")
    assert classify(cap(("WARNING", line))).rule is Rule.SMTP_REFUSED
    json_fmt = next(f.fragment for f in APPRISE_FORMATS if "JSON %s" in f.fragment).strip('"')
    for status, ret in (("Not Found", 404), ("", 599)):
        line = json_fmt % ("POST", status, ", " if status else "", ret)
        failure = classify(cap(("WARNING", line)))
        assert failure.rule is Rule.HTTP_STATUS and failure.permanent is (ret == 404)


def test_long_reasons_are_cut_and_one_line():
    captured = cap(("WARNING", "Failed to send JSON POST notification: Bad Gateway, error=502."), ("ERROR", "x " * 900))
    failure = classify(captured)
    assert len(failure.reason) == ERROR_MAX and failure.reason.endswith("…")


def test_an_exception_is_transient():
    failure = classify("", RuntimeError("boom"))
    assert failure == Failure(Verdict.TRANSIENT, "RuntimeError: boom", None, Rule.EXCEPTION)


@pytest.mark.parametrize(
    ("captured", "reason"),
    [
        ("", "URL not accepted by apprise"),
        (cap(("ERROR", "Unparseable URL nosuchscheme://***")), "URL not accepted by apprise (Unparseable URL"),
        (cap(("DEBUG", "Loaded URL: x"), ("WARNING", "bad port")), "(bad port)"),
    ],
)
def test_a_url_apprise_refuses_is_permanent(captured, reason):
    failure = not_accepted(captured)
    assert failure.permanent and failure.rule is Rule.NOT_ACCEPTED and reason in failure.reason


@pytest.mark.parametrize(
    ("status", "retry_after", "verdict", "kept"),
    [
        (400, None, P, None),
        (401, None, P, None),
        (403, None, P, None),
        (404, None, P, None),
        (429, 12.0, T, 12.0),
        (429, None, T, None),
        (500, None, T, None),
        (502, 3.0, T, None),  # retry_after only counts on a 429
    ],
)
def test_classify_http(status, retry_after, verdict, kept):
    failure = classify_http(status, "Some description", retry_after)
    assert (failure.verdict, failure.retry_after, failure.rule) == (verdict, kept, Rule.HTTP_STATUS)
    assert failure.reason == f"error={status} Some description"


@pytest.mark.parametrize(
    ("description", "verdict"),
    [
        ("Bad Request: message is too long", M),
        ("Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0", M),
        ("Bad Request: message text is empty", M),
        ("Bad Request: chat not found", P),  # the channel's fault
        ("Bad Request: group chat was upgraded to a supergroup chat", P),
    ],
)
def test_classify_http_message_refusals(description, verdict):
    failure = classify_http(400, description)
    assert failure.verdict is verdict
    assert SendResult.from_failure(failure).message_fault is (verdict is M)
    assert SendResult.from_failure(failure).permanent is (verdict is P)


def test_log_records_join_continuation_lines():
    captured = tg_failed("1", "Too Many Requests", 429, b'{"parameters":{"retry_after":5}}')
    records = log_records(captured)
    assert [lvl for lvl, _ in records] == ["WARNING", "DEBUG"]
    assert records[1][1].endswith("""b'{"parameters":{"retry_after":5}}'""")


def test_send_result_from_failure():
    result = SendResult.from_failure(classify_http(429, "slow down", 5.0), prefix="tgram: ")
    assert result == SendResult(False, "tgram: error=429 slow down", False, 5.0, (0,), None, False)
    assert SendResult(True, message_id=7).message_id == 7


# issue 12, loss 7: a group upgraded to a supergroup; the Bot API's reply rebuilt from public
# reports: TwiN/gatus#179 and atipugin/telegram-bot-ruby#239 ("group chat was upgraded to a
# supergroup chat" + parameters.migrate_to_chat_id), FruitieX/teleirc#52 (the older wording
# "group chat is migrated to supergroup chat"): the id is read from the parameters, not the words
MIGRATED = tg_json(
    400,
    "Bad Request: group chat was upgraded to a supergroup chat",
    ',"parameters":{"migrate_to_chat_id":-1004012345678}',
)


@pytest.mark.parametrize(
    ("captured", "to", "moved"),
    [
        (
            tg_failed("-4012345678", "Bad Request: group chat was upgraded to a supergroup chat", 400, MIGRATED),
            "-1004012345678",
            "-4012345678",
        ),
        (  # two chats failed: which one moved is unknown
            tg_failed("-1", "Bad Request: group chat was upgraded to a supergroup chat", 400, MIGRATED)
            + "\n"
            + tg_failed("-2", "Bad Request: chat not found", 400, tg_json(400, "Bad Request: chat not found")),
            "-1004012345678",
            None,
        ),
        (tg_failed("-1", "Bad Request: chat not found", 400, tg_json(400, "Bad Request: chat not found")), None, None),
        (
            tg_failed(
                "-77",
                "Bad Request: group chat is migrated to supergroup chat",
                400,
                tg_json(
                    400,
                    "[Error]: Bad Request: group chat is migrated to supergroup chat",
                    ',"parameters":{"migrate_to_chat_id":-1001557912345}',
                ),
            ),
            "-1001557912345",
            "-77",
        ),
    ],
)
def test_classify_reads_the_new_chat_of_a_migrated_group(captured, to, moved):
    failure = classify(captured)
    assert (failure.migrate_to, failure.migrate_from) == (to, moved)
    assert SendResult.from_failure(failure).migrate_to == to


def test_classify_http_keeps_migrate_to_of_a_400_only():
    assert classify_http(400, "Bad Request: group chat was upgraded", None, "-100").migrate_to == "-100"
    assert classify_http(429, "slow", 3.0, "-100").migrate_to is None
