"""Deliver rendered alerts through apprise (the only module sending through it; a URL is read
into its plugin by :func:`monitor.config.channelurls.plugin_for`, else by apprise itself).

* :func:`configure` points apprise's Telegram plugin at another Bot API base.
* :func:`send` delivers one alert to every URL of a channel, with one
  ``apprise.Apprise`` object per URL; :func:`send_one` to one URL. What to
  send (html or text, with or without a title) follows the channel's kind
  (:data:`monitor.models.CHANNEL_KINDS`). A failure is classified from
  apprise's captured log by :func:`monitor.delivery.failures.classify`
  (apprise reports HTTP/SMTP codes only in its log lines).

Secrets: ``SendResult.error`` never holds a channel URL, bot token or
password (they are replaced by ``***``). apprise's logger is detached from
the root logger (``propagate = False``); its WARNING and higher records are
re-logged, with secrets redacted, on the ``monitor.delivery.notify`` logger. apprise's
DEBUG lines (which include the Bot API URL with the token) never reach our
handlers.

Sends run concurrently (one sender thread per channel): each call captures
apprise's log records through a context variable (apprise copies the
caller's context into its worker threads), so one slow channel never waits
for another. An email send can be given a stable ``Message-ID`` (apprise
always makes a random one; we wrap its ``make_msgid``).
"""

from __future__ import annotations

import contextvars
import logging
from email.header import Header
from typing import Any

import apprise
import apprise.plugins.email.base as _apprise_email
from apprise.plugins.telegram import NotifyTelegram

from monitor.config.channelurls import plugin_for
from monitor.delivery.failures import SendResult, classify, not_accepted
from monitor.delivery.render import cut_words
from monitor.models import CHANNEL_KINDS, ChannelKind, RenderedAlert, url_scheme
from monitor.redact import RedactingFilter, add_urls, redact, without_urls

__all__ = ["DEFAULT_TELEGRAM_API", "LINE_MAX", "configure", "email_subject", "send", "send_one", "telegram_bot_base"]

log = logging.getLogger(__name__)

DEFAULT_TELEGRAM_API = "https://api.telegram.org/bot"
_ORIGINAL_TELEGRAM_API: str = NotifyTelegram.__dict__.get("notify_url", DEFAULT_TELEGRAM_API)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------


def configure(telegram_api_url: str | None) -> None:
    """Set the Telegram Bot API base apprise uses (process-wide).

    apprise builds request URLs as ``f"{NotifyTelegram.notify_url}
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


# --------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------


class _RedactingForwarder(logging.Handler):
    """Re-log apprise's WARNING+ records on ``monitor.delivery.notify``, redacted."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = redact(without_urls(record.getMessage()))
        except Exception:  # pragma: no cover - never break a notify call
            message = "(unprintable apprise log record)"
        log.log(record.levelno, "apprise said message=%s", message)  # logfmt (quoted by service.logs)


# the capture buffer of the send running in this context (None: not capturing)
_capture: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("monitor_capture", default=None)
_message_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("monitor_message_id", default=None)
# the format monitor.delivery.failures.log_records parses
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


_original_make_msgid = _apprise_email.make_msgid  # type: ignore[attr-defined]  # email.utils.make_msgid, imported there


def _make_msgid(*args: Any, **kwargs: Any) -> str:
    return _message_id.get() or str(_original_make_msgid(*args, **kwargs))


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
    _apprise_email.make_msgid = _make_msgid  # type: ignore[attr-defined]


_guard_apprise_logger()
_APPRISE_LOG = logging.getLogger("apprise")


# --------------------------------------------------------------------------
# sending
# --------------------------------------------------------------------------


LINE_MAX = 998  # octets per line of a message, CRLF not counted (RFC 5322 2.1.1)


def subject_line(subject: str) -> bytes:
    """The ``Subject:`` line apprise writes for ``subject`` (what the SMTP server sees).

    apprise (2.3) collapses the subject's whitespace to one line, sets it as
    ``email.header.Header(subject, "utf-8")`` (``None`` for pure ASCII) and
    writes the message with ``Message.as_string()``, which never folds a
    header: a non-ASCII subject is one base64 RFC 2047 encoded-word on one
    line, 4/3 of its UTF-8 octets long (tests/integration/test_email_lines.py
    pins this against the installed apprise).
    """
    one = " ".join(subject.split())
    charset = None if one.isascii() else "utf-8"
    return b"Subject: " + Header(one, charset).encode(maxlinelen=0).encode("ascii")


def email_subject(subject: str, limit: int = 0) -> str:
    """``subject`` cut (at a word boundary, with "…") so that apprise sends it whole and its
    ``Subject:`` line fits :data:`LINE_MAX` octets, whatever the script.

    The cap counts encoded octets, not characters: Python's ``Header``
    picks quoted-printable for the field case's 200-character Arabic subject,
    a 1,027-octet line (each Arabic letter 6 octets), which strict servers
    refuse (issue 12, loss 6). ``limit`` (characters, 0: none) is the apprise
    plugin's ``title_maxlen`` (250 for email): apprise cuts a longer title
    without an ellipsis.
    """
    one = " ".join(subject.split())
    top = min(len(one), limit) if limit > 0 else len(one)
    if len(subject_line(cut_words(one, top))) <= LINE_MAX:
        return cut_words(one, top)
    low, high = 0, top  # the longest cut that fits: fits(low), not fits(high)
    while high - low > 1:
        mid = (low + high) // 2
        if len(subject_line(cut_words(one, mid))) <= LINE_MAX:
            low = mid
        else:
            high = mid
    return cut_words(one, low)


def _notify_args(alert: RenderedAlert, kind: ChannelKind, title_maxlen: int = 0) -> dict[str, Any]:
    """apprise's ``notify()`` arguments (``title_maxlen``: the plugin's, see :func:`email_subject`)."""
    spec = CHANNEL_KINDS[kind]
    if spec.sends_html:
        body, body_format = alert.html, apprise.NotifyFormat.HTML
    else:
        body, body_format = alert.text, apprise.NotifyFormat.TEXT
    title = alert.subject if spec.sends_title else ""
    if kind is ChannelKind.EMAIL:
        title = email_subject(title, title_maxlen)
    return {"body": body, "title": title, "body_format": body_format}


def send_one(url: str, alert: RenderedAlert, *, kind: ChannelKind, message_id: str | None = None) -> SendResult:
    """Send ``alert`` to a single apprise URL (``message_id``: email Message-ID).

    Returns a :class:`SendResult` (``failed`` is ``(0,)`` on failure); never raises.
    """
    add_urls([url])
    prefix = f"{url_scheme(url) or '?'}: "
    if _APPRISE_LOG.level != logging.DEBUG:  # logs.setup quiets it; the capture needs DEBUG
        _APPRISE_LOG.setLevel(logging.DEBUG)
    buffer: list[str] = []
    token = _capture.set(buffer)
    mid = _message_id.set(message_id)
    try:
        obj = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        plugin = plugin_for(url, obj.asset)  # only this scheme's plugin module (else apprise loads all)
        added = obj.add(url if plugin is None else plugin)
        maxlen = min((int(getattr(p, "title_maxlen", 0) or 0) for p in obj), default=0) if added else 0
        result = obj.notify(**_notify_args(alert, kind, maxlen)) if added else None
    except Exception as exc:  # apprise should not raise; never leak a URL
        return SendResult.from_failure(classify("", exc), prefix=redact(prefix))
    finally:
        _capture.reset(token)
        _message_id.reset(mid)
    captured = redact("\n".join(buffer))
    if not added:
        return SendResult.from_failure(not_accepted(captured), prefix=prefix)
    if result:
        return SendResult(True)
    return SendResult.from_failure(classify(captured), prefix=prefix)


def send(channel: str, urls: list[str], alert: RenderedAlert, *, kind: ChannelKind) -> SendResult:
    """Send ``alert`` to every URL of ``channel`` (one apprise object per URL).

    ``kind`` is :func:`monitor.models.channel_kind` of the channel; its
    :data:`~monitor.models.CHANNEL_KINDS` row says what apprise gets
    (telegram: ``alert.html`` as HTML without a title; email: ``alert.html``
    as HTML with ``alert.subject``; other: ``alert.text`` as text with
    ``alert.subject`` as the title).
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
