"""What a failed send means: the one place that reads apprise's log wording.

apprise's ``notify()`` returns only True/False; the HTTP status, Telegram's
description and the SMTP reply code appear only in its log lines. The sender
(:mod:`monitor.delivery.notify`) captures those lines per send and hands them
here; :func:`classify` turns them into a typed :class:`Failure`:

- an HTTP ``error=NNN`` (Telegram, JSON and most other plugins): 429 transient
  with ``retry_after`` from Telegram's "retry after N" / ``"retry_after": N``;
  400/401/403/404 permanent; anything else transient;
- an SMTP reply ``(NNN, b'...')`` (a refused login, sender or all recipients)
  or "SMTP recipient ... was refused: NNN ..." (some recipients): 5xx
  permanent, 4xx transient;
- "There were not Telegram chat_ids" / "There are no Email recipients":
  permanent (the URL names no one to send to);
- connection errors, timeouts, anything unrecognised: transient;
- a refusal of the message itself, not of the channel (SMTP "line too long",
  "message too big", 5.6.x/5.3.4; Telegram 400 "message is too long", "can't
  parse entities", "message text is empty"): :attr:`Verdict.MESSAGE` -- the
  fault is ours, so the channel is never blamed (issue 12, loss 6): the sender
  resends the alert in its plain fallback form.

:data:`APPRISE_FORMATS` lists the pieces of apprise's source this depends on;
a unit test checks that the installed apprise still has each of them, and
one table-driven test per known message checks the verdict, so an apprise
upgrade that rewords a message fails a test instead of flipping alerts
between dead and retried.

Everything here is pure: text in, values out (callers redact secrets first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from monitor.redact import without_urls

__all__ = [
    "APPRISE_FORMATS",
    "ERROR_MAX",
    "PERMANENT_HTTP",
    "AppriseFormat",
    "Failure",
    "Rule",
    "SendResult",
    "Verdict",
    "classify",
    "classify_http",
    "log_records",
    "not_accepted",
    "short",
]

ERROR_MAX = 600  # characters of an error text kept
PERMANENT_HTTP = frozenset({400, 401, 403, 404})


class Verdict(StrEnum):
    """Whether a retry can help."""

    PERMANENT = "permanent"  # a retry will not fix it: the alert goes dead, the operator is told
    TRANSIENT = "transient"  # retried with backoff (at least ``retry_after`` seconds later)
    MESSAGE = "message"  # the server refused our message (its form or size): resend it plainer, never blame the channel


class Rule(StrEnum):
    """Which known message decided the verdict (tests pin each one)."""

    HTTP_STATUS = "http-status"  # "..., error=NNN."
    SMTP_REPLY = "smtp-reply"  # "(NNN, b'...')" from smtplib's exception text
    SMTP_REFUSED = "smtp-refused"  # "SMTP recipient X was refused: NNN b'...'"
    NO_TARGETS = "no-targets"  # no chat ids / no email recipients in the URL
    CONNECTION = "connection"  # a connection/socket/I/O error line
    UNKNOWN = "unknown"  # nothing recognised (transient, the lines kept as the reason)
    EXCEPTION = "exception"  # apprise raised instead of returning False
    NOT_ACCEPTED = "not-accepted"  # apprise did not accept the URL
    MESSAGE_REFUSED = "message-refused"  # the reply names the message (too long, bad markup), not the channel


@dataclass(frozen=True)
class Failure:
    """The meaning of one failed send to one target.

    ``reason`` -- the problem lines (already redacted by the caller), at most
    :data:`ERROR_MAX` characters. ``retry_after`` -- seconds the server asked
    to wait (Telegram 429), else None. ``rule`` -- which known message decided.
    """

    verdict: Verdict
    reason: str
    retry_after: float | None = None
    rule: Rule = Rule.UNKNOWN
    migrate_to: str | None = None  # Telegram's parameters.migrate_to_chat_id: the chat's new id
    migrate_from: str | None = None  # the chat that moved, when apprise's lines name it as the only failed one

    @property
    def permanent(self) -> bool:
        return self.verdict is Verdict.PERMANENT

    @property
    def message_fault(self) -> bool:
        return self.verdict is Verdict.MESSAGE


@dataclass(frozen=True)
class SendResult:
    """Outcome of sending one alert (or one part of it) to a channel or a target.

    ``ok`` -- every target accepted it. ``error`` -- "" if ok, else a redacted
    description (per target). ``permanent`` -- every failed target failed for a
    reason a retry will not fix. ``retry_after`` -- the largest Telegram 429
    ``retry_after`` (seconds), else None. ``failed`` -- indexes (into the URLs
    sent to) of the targets that did not accept it, so a retry can skip the
    others. ``message_id`` -- the id the service gave the message (the direct
    Bot API call only), else None. ``message_fault`` -- the server refused the
    message itself (:attr:`Verdict.MESSAGE`): not the channel's fault.
    ``migrate_to`` / ``migrate_from`` -- see :class:`Failure`.
    """

    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None
    failed: tuple[int, ...] = field(default_factory=tuple)
    message_id: int | None = None
    message_fault: bool = False
    migrate_to: str | None = None
    migrate_from: str | None = None

    @classmethod
    def from_failure(cls, failure: Failure, *, prefix: str = "", failed: tuple[int, ...] = (0,)) -> SendResult:
        """A failed result carrying ``failure`` (``prefix``: e.g. the URL scheme, "tgram: ")."""
        return cls(
            False,
            short(prefix + failure.reason),
            failure.permanent,
            failure.retry_after,
            failed,
            message_fault=failure.message_fault,
            migrate_to=failure.migrate_to,
            migrate_from=failure.migrate_from,
        )


@dataclass(frozen=True)
class AppriseFormat:
    """A piece of apprise's source whose log output :func:`classify` reads.

    ``module`` -- path inside the installed ``apprise`` package; ``fragment`` --
    text that must appear in it verbatim; ``rule`` -- the rule that reads it.
    """

    module: str
    fragment: str
    rule: Rule


# What we read from apprise (checked against the installed apprise by tests/unit/test_failures.py).
APPRISE_FORMATS: tuple[AppriseFormat, ...] = (
    # Telegram: "Failed to send Telegram notification to {chat}: {description}, error={code}."
    AppriseFormat("plugins/telegram.py", '"Failed to send Telegram notification to "', Rule.HTTP_STATUS),
    AppriseFormat("plugins/telegram.py", 'f"error={r.status_code}."', Rule.HTTP_STATUS),
    # the Bot API's JSON reply (holds "parameters": {"retry_after": N}) at DEBUG
    AppriseFormat("plugins/telegram.py", 'self.logger.debug(f"Response Details:\\r\\n{r.content}")', Rule.HTTP_STATUS),
    AppriseFormat("plugins/telegram.py", '"There were not Telegram chat_ids to notify."', Rule.NO_TARGETS),
    AppriseFormat("plugins/telegram.py", '"A connection error occurred sending "', Rule.CONNECTION),
    AppriseFormat("plugins/telegram.py", 'self.logger.debug(f"Socket Exception: {e!s}")', Rule.CONNECTION),
    # JSON (json://, jsons://): "Failed to send JSON POST notification: Not Found, error=404."
    AppriseFormat("plugins/custom_json.py", '"Failed to send JSON %s notification: %s%serror=%s."', Rule.HTTP_STATUS),
    AppriseFormat("plugins/custom_json.py", '"A Connection error occurred sending JSON "', Rule.CONNECTION),
    # email: smtplib's exception text, e.g. "(535, b'5.7.8 ...')", at DEBUG
    AppriseFormat("plugins/email/base.py", 'self.logger.debug(f"Socket Exception: {e}")', Rule.SMTP_REPLY),
    AppriseFormat("plugins/email/base.py", "'Connection error while submitting email to \"%s\"'", Rule.CONNECTION),
    AppriseFormat("plugins/email/base.py", '"There are no Email recipients to notify"', Rule.NO_TARGETS),
    AppriseFormat("plugins/email/smtp.py", 'logger.debug("Socket Exception: %s", str(e))', Rule.SMTP_REPLY),
    AppriseFormat("plugins/email/smtp.py", '"SMTP recipient %s was refused: %s %s"', Rule.SMTP_REFUSED),
)

# one captured line: "2026-01-02 03:04:05,678 - WARNING - message" (notify's capture format)
_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - (?P<level>[A-Z ]+?) - (?P<msg>.*)$")
_HTTP_CODE_RE = re.compile(r"error=(\d{3})\b")
_MIGRATE_RE = re.compile(r"[\"']migrate_to_chat_id[\"']\s*:\s*(-?\d+)")
_TG_CHAT_RE = re.compile(r"Failed to send Telegram notification to (\S+?):")
_RETRY_AFTER_RE = re.compile(r"retry after (\d+(?:\.\d+)?)|[\"']retry_after[\"']\s*:\s*(\d+(?:\.\d+)?)", re.I)
_SMTP_CODE_RE = re.compile(r"\((\d{3}), b['\"]")
_SMTP_REFUSED_RE = re.compile(r"SMTP recipient .* was refused: (\d{3}) ")
_NO_TARGETS_RE = re.compile(r"There were not Telegram chat_ids|There are no Email recipients")
_CONNECTION_RE = re.compile(r"connection error|Socket Exception|I/O Exception|I/O error", re.I)
_DETAIL_RE = re.compile(r"^(Socket Exception|I/O Exception|Connection error)", re.I)
_QUIET = ("DEBUG", "INFO", "TRACE")
# replies that refuse the message, not the channel: SMTP (RFC 5321 4.5.3.1.6 line length, RFC 3463
# 5.3.4 too big / 5.6.x media) and the Bot API's descriptions of a malformed or oversized text
_MESSAGE_SMTP_RE = re.compile(
    r"line too long|line length|too long|message size|too big|too large|exceeds .*size|\b5\.3\.4\b|\b5\.6\.\d+\b", re.I
)
_MESSAGE_HTTP_RE = re.compile(
    r"message is too long|can't parse entities|message text is empty|text must be non-empty|"
    r"MESSAGE_TOO_LONG|entities too long|caption is too long",
    re.I,
)
MESSAGE_SMTP_CODES = frozenset({500, 501, 550, 552, 554})


def short(text: str) -> str:
    """``text`` on one line, cut to :data:`ERROR_MAX` characters (with "…")."""
    text = " ".join(text.split())
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


def log_records(captured: str) -> list[tuple[str, str]]:
    """(level, message) pairs of captured log text; a line that does not start
    a record (a multi-line message) is appended to the previous message."""
    records: list[tuple[str, str]] = []
    for line in captured.splitlines():
        m = _LINE_RE.match(line)
        if m:
            records.append((m.group("level").strip(), m.group("msg")))
        elif records and line.strip():
            level, msg = records[-1]
            records[-1] = (level, msg + " " + line.strip())
    return records


def classify(captured: str, exc: BaseException | None = None) -> Failure:
    """The verdict on a send that failed, from apprise's captured log text.

    ``captured``: the send's log lines in notify's capture format
    (``"<asctime> - <LEVEL> - <message>"``), secrets already redacted.
    ``exc``: the exception apprise raised instead of returning False, if any
    (always transient: apprise is not meant to raise). Never raises.
    """
    if exc is not None:
        return Failure(Verdict.TRANSIENT, short(f"{type(exc).__name__}: {exc}"), None, Rule.EXCEPTION)
    records = log_records(captured)
    problems = [m for lvl, m in records if lvl not in _QUIET]
    details = [m for lvl, m in records if lvl in ("DEBUG", "TRACE") and _DETAIL_RE.match(m)]
    http = [int(c) for m in problems for c in _HTTP_CODE_RE.findall(m)]
    smtp = [int(c) for m in problems + details for c in _SMTP_CODE_RE.findall(m)]
    refused = [int(c) for m in problems for c in _SMTP_REFUSED_RE.findall(m)]

    verdict, retry_after, rule = Verdict.TRANSIENT, None, Rule.UNKNOWN
    smtp_code: int | None = None
    if http:
        code, rule = http[-1], Rule.HTTP_STATUS
        if code == 429:
            for a, b in _RETRY_AFTER_RE.findall(captured):
                retry_after = float(a or b)
                break
        verdict = Verdict.PERMANENT if code in PERMANENT_HTTP else Verdict.TRANSIENT
        if code == 400 and any(_MESSAGE_HTTP_RE.search(m) for m in problems):
            verdict, rule = Verdict.MESSAGE, Rule.MESSAGE_REFUSED
    elif smtp or refused:
        smtp_code, rule = (smtp[-1], Rule.SMTP_REPLY) if smtp else (max(refused), Rule.SMTP_REFUSED)
        verdict = Verdict.PERMANENT if 500 <= smtp_code < 600 else Verdict.TRANSIENT
        if smtp and smtp_code in MESSAGE_SMTP_CODES and _message_reply(smtp_code, problems + details):
            verdict, rule = Verdict.MESSAGE, Rule.MESSAGE_REFUSED
    elif any(_NO_TARGETS_RE.search(m) for m in problems):
        verdict, rule = Verdict.PERMANENT, Rule.NO_TARGETS
    elif any(_CONNECTION_RE.search(m) for m in problems + details):
        rule = Rule.CONNECTION

    text = " | ".join(dict.fromkeys(problems + details)) or "delivery failed (no details)"
    if smtp_code is not None and not any(str(smtp_code) in p for p in problems):
        text = f"SMTP {smtp_code}: {text}"
    migrate = _MIGRATE_RE.search(captured) if http and http[-1] == 400 else None
    if migrate:
        chats = {m.group(1) for p in problems for m in [_TG_CHAT_RE.search(p)] if m}
        moved = chats.pop() if len(chats) == 1 else None  # the one chat that failed (the others got it)
        return Failure(verdict, short(text), retry_after, rule, migrate.group(1), moved)
    return Failure(verdict, short(text), retry_after, rule)


def _message_reply(code: int, lines: list[str]) -> bool:
    """Whether an SMTP reply with ``code`` refuses the message itself (see _MESSAGE_SMTP_RE)."""
    reply = re.compile(rf"\({code}, b['\"](?P<text>[^'\"]*)")
    return any(_MESSAGE_SMTP_RE.search(m.group("text")) for line in lines for m in reply.finditer(line))


def not_accepted(captured: str) -> Failure:
    """apprise refused the URL itself (unknown scheme, missing parts): permanent.

    ``captured``: apprise's log lines while adding the URL (redacted).
    """
    # dict.fromkeys: a line said twice (a URL read by monitor.config.channelurls, then by apprise) once
    reason = " | ".join(dict.fromkeys(without_urls(m) for lvl, m in log_records(captured) if lvl != "DEBUG"))
    text = "URL not accepted by apprise" + (f" ({reason})" if reason else "") + "; run `monitor check`"
    return Failure(Verdict.PERMANENT, short(text), None, Rule.NOT_ACCEPTED)


def classify_http(
    status: int, description: str, retry_after: float | None = None, migrate_to: str | None = None
) -> Failure:
    """The verdict on an HTTP error reply of the Bot API (our direct call).

    ``status``: the HTTP status; ``description``: Telegram's ``description``
    (or the reason phrase); ``retry_after``: ``parameters.retry_after`` of a
    429 (seconds); ``migrate_to``: ``parameters.migrate_to_chat_id`` of a 400.
    Same rules as apprise's ``error=NNN`` lines.
    """
    verdict = Verdict.PERMANENT if status in PERMANENT_HTTP else Verdict.TRANSIENT
    rule = Rule.HTTP_STATUS
    if status == 400 and _MESSAGE_HTTP_RE.search(description):
        verdict, rule = Verdict.MESSAGE, Rule.MESSAGE_REFUSED
    return Failure(
        verdict,
        short(f"error={status} {description}"),
        retry_after if status == 429 else None,
        rule,
        migrate_to if status == 400 else None,
    )
