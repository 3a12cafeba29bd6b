"""Deliver rendered alerts through apprise (the only module importing apprise).

* :func:`configure` points apprise's Telegram plugin at another Bot API base.
* :func:`channel_kind` tells which renderer a channel's URLs need.
* :func:`send` delivers one alert to every URL of a channel, with one
  ``apprise.Apprise`` object per URL, and classifies failures from apprise's
  log (apprise 2.2 reports HTTP/SMTP codes only in its log lines):

  - Telegram ``error=429`` -> transient, ``retry_after`` from
    "retry after N" / ``"retry_after": N``;
    ``error=400/401/403/404`` -> permanent; anything else (5xx, connection
    errors, timeouts) -> transient.
  - SMTP ``(5xx, b'...')`` -> permanent; ``(4xx, ...)`` and connection
    errors -> transient.
  - a URL apprise does not accept -> permanent.

Secrets: ``SendResult.error`` never holds a channel URL, bot token or
password (they are replaced by ``***``). apprise's logger is detached from
the root logger (``propagate = False``); its WARNING and higher records are
re-logged, with secrets redacted, on the ``monitor.notify`` logger. apprise's
DEBUG lines (which include the Bot API URL with the token) never reach our
handlers.

Sends run concurrently (one sender thread per channel): each call captures
apprise's log records through a context variable (apprise copies the
caller's context into its worker threads), so one slow channel never waits
for another. An email send can be given a stable ``Message-ID`` (apprise
2.2 always makes a random one; we wrap its ``make_msgid``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import apprise
import apprise.plugins.email.base as _apprise_email
from apprise.plugins.telegram import NotifyTelegram

from monitor.models import RenderedAlert
from monitor.redact import RedactingFilter, add_urls, redact

__all__ = [
    "RenderedAlert",
    "SendResult",
    "configure",
    "channel_kind",
    "send",
    "send_one",
    "redact",
    "DEFAULT_TELEGRAM_API",
]

log = logging.getLogger(__name__)

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
_ORIGINAL_TELEGRAM_API: str = NotifyTelegram.__dict__.get("notify_url", DEFAULT_TELEGRAM_API)

ERROR_MAX = 600
PERMANENT_HTTP = frozenset({400, 401, 403, 404})

_lock = threading.RLock()
# every secret seen so far, longest first (redacted in all logs); replaced
# as a whole so readers (apprise worker threads) need no lock
_secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendResult:
    """Outcome of sending one alert to a channel.

    ``ok`` -- every target accepted it. ``error`` -- "" if ok, else a
    redacted description (per target). ``permanent`` -- every failed target
    failed for a reason a retry will not fix (Telegram 400/401/403/404, SMTP
    5xx, invalid URL). ``retry_after`` -- the largest Telegram 429
    ``retry_after`` (seconds), else None. ``failed`` -- indexes (into the
    ``urls`` passed to :func:`send`) of the targets that did not accept it,
    so a retry can skip the ones that did.
    """

    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None
    failed: tuple[int, ...] = field(default_factory=tuple)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def configure(telegram_api_url: str | None) -> None:
    """Set the Telegram Bot API base apprise uses (process-wide).

    apprise 2.2 builds request URLs as ``f"{NotifyTelegram.notify_url}
    {token}/{method}"`` from a class attribute. ``telegram_api_url`` is the
    server base, with or without the trailing ``/bot``:
    ``"http://host:8081"`` and ``"http://host:8081/bot"`` both give
    ``notify_url = "http://host:8081/bot"``. ``None`` or "" restores the
    default ``https://api.telegram.org/bot``.
    """
    NotifyTelegram.notify_url = telegram_bot_base(telegram_api_url)


def telegram_bot_base(telegram_api_url: str | None) -> str:
    """The Bot API prefix a token is appended to (``.../bot``) for `notify.telegram_api_url`."""
    if not telegram_api_url:
        return _ORIGINAL_TELEGRAM_API
    base = telegram_api_url.strip().rstrip("/")
    return base if base.endswith("/bot") else base + "/bot"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].strip().lower() if "://" in url else ""


def channel_kind(urls: list[str]) -> str:
    """ "telegram" if every URL is tgram://, "email" if every URL is
    mailto:// or mailtos://, else "other" (also for an empty list)."""
    schemes = {_scheme(u) for u in urls}
    if not schemes:
        return "other"
    if schemes == {"tgram"}:
        return "telegram"
    if schemes <= {"mailto", "mailtos"}:
        return "email"
    return "other"


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------


class _RedactingForwarder(logging.Handler):
    """Re-log apprise's WARNING+ records on ``monitor.notify``, redacted."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = redact(record.getMessage())
        except Exception:  # pragma: no cover - never break a notify call
            message = "(unprintable apprise log record)"
        log.log(record.levelno, "apprise: %s", message)


# the capture buffer of the send running in this context (None: not capturing)
_capture: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("monitor_capture", default=None)
_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("monitor_message_id", default=None)
_FORMAT = logging.Formatter("%(asctime)s - %(levelname)s - %(message)s")


class _ContextCapture(logging.Handler):
    """Collect apprise's records for the send running in the current context."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)

    def emit(self, record: logging.LogRecord) -> None:
        buffer = _capture.get()
        if buffer is not None:
            try:
                buffer.append(_FORMAT.format(record))
            except Exception:  # pragma: no cover - never break a notify call
                pass


# apprise's email plugin imports make_msgid from email.utils (not re-exported: mypy's attr-defined);
# the module global is what we read and patch.
_original_make_msgid: Callable[[str | None, str | None], str] = _apprise_email.make_msgid  # type: ignore[attr-defined]


def _make_msgid(idstring: str | None = None, domain: str | None = None) -> str:
    return _message_id.get() or _original_make_msgid(idstring, domain)


def _guard_apprise_logger() -> None:
    for name in ("urllib3.connectionpool", "urllib3"):
        other = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in other.filters):
            other.addFilter(RedactingFilter())
    logger = logging.getLogger("apprise")
    if not any(isinstance(h, _RedactingForwarder) for h in logger.handlers):
        logger.addHandler(_RedactingForwarder())
    if not any(isinstance(h, _ContextCapture) for h in logger.handlers):
        logger.addHandler(_ContextCapture())
    logger.propagate = False
    # DEBUG records feed the capture (failure details); the forwarder only
    # re-logs WARNING and higher
    logger.setLevel(logging.DEBUG)
    _apprise_email.make_msgid = _make_msgid  # type: ignore[attr-defined]  # see _original_make_msgid


_guard_apprise_logger()
_APPRISE_LOG = logging.getLogger("apprise")


# --------------------------------------------------------------------------
# sending
# --------------------------------------------------------------------------

_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - (?P<level>[A-Z ]+?) - (?P<msg>.*)$")
_HTTP_CODE_RE = re.compile(r"error=(\d{3})\b")
_RETRY_AFTER_RE = re.compile(r"retry after (\d+(?:\.\d+)?)|[\"']retry_after[\"']\s*:\s*(\d+(?:\.\d+)?)", re.I)
_SMTP_CODE_RE = re.compile(r"\((\d{3}), b['\"]")
_DETAIL_RE = re.compile(r"^(Socket Exception|I/O Exception|Connection error)", re.I)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


def _log_records(captured: str) -> list[tuple[str, str]]:
    """(level, message) pairs; continuation lines are appended to the
    previous message."""
    records: list[tuple[str, str]] = []
    for line in captured.splitlines():
        m = _LINE_RE.match(line)
        if m:
            records.append((m.group("level").strip(), m.group("msg")))
        elif records and line.strip():
            level, msg = records[-1]
            records[-1] = (level, msg + " " + line.strip())
    return records


def _classify(captured: str, scheme: str) -> _Outcome:
    """Failure outcome from apprise's captured (already redacted) log."""
    records = _log_records(captured)
    problems = [m for lvl, m in records if lvl not in ("DEBUG", "INFO", "TRACE")]
    details = [m for lvl, m in records if lvl in ("DEBUG", "TRACE") and _DETAIL_RE.match(m)]

    permanent = False
    retry_after: float | None = None
    http = [int(c) for c in _HTTP_CODE_RE.findall(captured)]
    smtp = [int(c) for c in _SMTP_CODE_RE.findall(captured)]
    if http:
        code = http[-1]
        if code == 429:
            for a, b in _RETRY_AFTER_RE.findall(captured):
                retry_after = float(a or b)
                break
        permanent = code in PERMANENT_HTTP
    elif smtp:
        permanent = 500 <= smtp[-1] < 600
    elif any("There were not Telegram chat_ids" in m for m in problems):
        permanent = True

    text = " | ".join(dict.fromkeys(problems + details)) or "delivery failed (no details)"
    if smtp and not any(str(smtp[-1]) in p for p in problems):
        text = f"SMTP {smtp[-1]}: {text}"
    return _Outcome(False, _short(text), permanent, retry_after)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1] + "…"


def _notify_args(alert: RenderedAlert, kind: str, scheme: str) -> dict[str, Any]:
    if kind == "telegram":
        # our html already holds the header: no title (apprise would add
        # "<b>title</b>\r\n")
        return {"body": alert.html, "title": "", "body_format": apprise.NotifyFormat.HTML}
    if kind == "email":
        # apprise sends multipart/alternative: our html + a text part it
        # derives from it (our html writes the URL out as visible text)
        return {"body": alert.html, "title": alert.subject, "body_format": apprise.NotifyFormat.HTML}
    return {"body": alert.text, "title": alert.subject, "body_format": apprise.NotifyFormat.TEXT}


def send_one(url: str, alert: RenderedAlert, *, kind: str, message_id: str | None = None) -> SendResult:
    """Send ``alert`` to a single apprise URL (``message_id``: email Message-ID)."""
    add_urls([url])
    scheme = _scheme(url) or "?"
    if _APPRISE_LOG.level != logging.DEBUG:  # logs.setup quiets it; the capture needs DEBUG
        _APPRISE_LOG.setLevel(logging.DEBUG)
    buffer: list[str] = []
    token = _capture.set(buffer)
    mid = _message_id.set(message_id)
    try:
        obj = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        added = obj.add(url)
        result = obj.notify(**_notify_args(alert, kind, scheme)) if added else None
    except Exception as exc:  # apprise should not raise; never leak a URL
        return SendResult(False, _short(redact(f"{scheme}: {type(exc).__name__}: {exc}")), False, None, (0,))
    finally:
        _capture.reset(token)
        _message_id.reset(mid)
    captured = "\n".join(buffer)
    if not added:
        reason = redact(" | ".join(m for lvl, m in _log_records(captured) if lvl != "DEBUG"))
        return SendResult(
            False,
            _short(f"{scheme}: URL not accepted by apprise" + (f" ({reason})" if reason else "")),
            True,
            None,
            (0,),
        )
    if result:
        return SendResult(True)
    outcome = _classify(redact(captured), scheme)
    return SendResult(False, _short(f"{scheme}: {outcome.error}"), outcome.permanent, outcome.retry_after, (0,))


def send(channel: str, urls: list[str], alert: RenderedAlert, *, kind: str) -> SendResult:
    """Send ``alert`` to every URL of ``channel`` (one apprise object per URL).

    ``kind`` is :func:`channel_kind` of the channel: "telegram" sends
    ``alert.html`` as HTML without a title, "email" sends ``alert.html`` as
    HTML with ``alert.subject`` as the subject, "other" sends ``alert.text``
    as text with ``alert.subject`` as the title.
    """
    if not urls:
        return SendResult(False, f"{channel}: no target URLs", True, None, ())
    add_urls(list(urls))
    errors: list[str] = []
    failed: list[int] = []
    permanent = True
    retry_after: float | None = None
    for index, url in enumerate(urls):
        result = send_one(url, alert, kind=kind)
        if result.ok:
            continue
        failed.append(index)
        label = f"{channel}[{index}]" if len(urls) > 1 else channel
        errors.append(f"{label} {result.error}")
        permanent = permanent and result.permanent
        if result.retry_after is not None:
            retry_after = max(retry_after or 0.0, result.retry_after)
    if not failed:
        return SendResult(True)
    return SendResult(False, redact("; ".join(errors)), permanent, retry_after, tuple(failed))
