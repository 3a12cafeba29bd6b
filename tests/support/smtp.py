"""A real local SMTP server for tests (:class:`SmtpServer`, aiosmtpd).

It binds to 127.0.0.1 on a free (kernel-chosen) port, runs in a background
thread, is a context manager (``with SmtpServer() as smtp: ...``) and is also
the pytest fixture ``smtp_server`` in ``tests/conftest.py``.

SmtpServer
----------
An aiosmtpd ``Controller`` on 127.0.0.1. Every accepted message lands in
``smtp.messages`` as :class:`ReceivedMail` (``message`` is an
``email.message.EmailMessage`` parsed with ``policy=default``, plus
``mail_from``, ``rcpt_tos`` and ``raw`` bytes). ``smtp.refuse_next(n,
code=451)`` makes the next *n* messages fail with that SMTP code (at DATA by
default, or ``stage="rcpt"``/``"mail"``); refused attempts are recorded in
``smtp.refused``. AUTH LOGIN/PLAIN is advertised over plain text and
accepts any credentials (recorded in ``smtp.auth_attempts``) unless
``smtp.reject_auth = True``. ``SmtpServer(max_line=998)`` refuses at DATA, with
``500 5.5.2 Line too long``, any message holding a line longer than that many
octets (CRLF not counted: RFC 5322 2.1.1), as strict servers do; such refusals
are recorded in ``smtp.refused`` with code 500.

Apprise URL for this server (checked against apprise 2.2.0,
``apprise/plugins/email/base.py`` + ``email/smtp.py``)::

    mailto://127.0.0.1:PORT?from=monitor@example.com&to=user@example.com

``mailto://`` (not ``mailtos://``) defaults to ``secure_mode="insecure"``:
plain ``smtplib.SMTP``, no STARTTLS, no SSL; ``login()`` is only called when
both user and password are in the URL, so no credentials are needed. The
credential form ``mailto://user:pass@127.0.0.1:PORT?from=...&to=...`` also
works (AUTH over plain text). ``mode=insecure`` may be given explicitly; it
is required if you use ``mailtos://``. Always pass ``from=`` (without it the
sender would be ``user@127.0.0.1``/invalid). Extra headers: ``+Name=value``
query args (``%2BName=value`` also works). ``smtp.apprise_url(...)``
"""

from __future__ import annotations

import asyncio
import collections
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from tests.support.web import LOCALHOST

__all__ = ["ReceivedMail", "SmtpServer"]


# --------------------------------------------------------------------------
# SmtpServer
# --------------------------------------------------------------------------


@dataclass
class ReceivedMail:
    """One message accepted (or refused) by :class:`SmtpServer`."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


_SMTP_DEFAULT_TEXT = {
    421: "4.3.2 Service not available, closing transmission channel",
    450: "4.2.1 Mailbox busy, try again later",
    451: "4.3.0 Temporary local problem, try again later",
    452: "4.3.1 Insufficient system storage",
    550: "5.1.1 Mailbox unavailable",
    552: "5.3.4 Message too big",
    553: "5.1.3 Mailbox name not allowed",
    554: "5.7.1 Transaction failed",
}


class _SmtpHandler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server, session, envelope, address, options):
        refusal = self.owner._take_refusal("mail", address, [])
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        refusal = self.owner._take_refusal("rcpt", envelope.mail_from, [address])
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        refusal = self.owner._take_refusal("data", envelope.mail_from, list(envelope.rcpt_tos), raw)
        if refusal:
            return refusal
        refusal = self.owner._check_lines(envelope.mail_from, list(envelope.rcpt_tos), raw)
        if refusal:
            return refusal
        self.owner._record(envelope.mail_from, list(envelope.rcpt_tos), raw)
        return "250 2.0.0 Message accepted for delivery"


def _make_controller_class():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, Session

    class _QuietSession(Session):
        # aiosmtpd itself sets the deprecated ``login_data`` after a
        # successful AUTH, which would emit a DeprecationWarning per login.
        @property
        def login_data(self):
            return self._login_data

        @login_data.setter
        def login_data(self, value):
            self._login_data = value

    class _SMTP(SMTP):
        def _create_session(self):
            return _QuietSession(self.loop)

    class _PortZeroController(Controller):
        """Controller that can bind port 0 (learns the real port before the
        readiness probe)."""

        def factory(self):
            return _SMTP(self.handler, **self.SMTP_kwargs)

        def _trigger_server(self):
            if not self.port and self.server is not None:
                self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    return _PortZeroController


class SmtpServer:
    """A local SMTP server collecting messages (see the module docstring).

    >>> with SmtpServer() as smtp:
    ...     apprise_obj.add(smtp.apprise_url(to="user@example.com"))
    ...     smtp.refuse_next(1, code=451)
    """

    def __init__(self, max_line: int | None = None) -> None:
        self.max_line = max_line  # octets per line (CRLF not counted); None: aiosmtpd's own limit
        self.host = LOCALHOST
        self.port = 0
        self.messages: list[ReceivedMail] = []
        self.refused: list[tuple[str, int, ReceivedMail]] = []
        self.auth_attempts: list[tuple[str, str, str]] = []
        self.reject_auth = False
        self._refusals: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._controller = None

    # ---- scripting --------------------------------------------------------

    def refuse_next(
        self,
        count: int = 1,
        code: int = 451,
        text: str | None = None,
        stage: str = "data",
    ) -> None:
        """Refuse the next ``count`` messages with ``code`` at ``stage``
        (``"data"``: after the content, ``"rcpt"``: the recipient,
        ``"mail"``: the sender). Calls accumulate in order."""
        if stage not in ("mail", "rcpt", "data"):
            raise ValueError(f"unknown stage {stage!r}")
        reply = f"{code} {text or _SMTP_DEFAULT_TEXT.get(code, 'Refused')}"
        with self._lock:
            for _ in range(count):
                self._refusals.append((stage, code, reply))

    def _take_refusal(self, stage, mail_from, rcpt_tos, raw=b""):
        with self._lock:
            if not self._refusals or self._refusals[0][0] != stage:
                return None
            _, code, reply = self._refusals.popleft()
            self.refused.append((stage, code, ReceivedMail(mail_from, rcpt_tos, raw, _parse(raw))))
        return reply

    def _check_lines(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str | None:
        if self.max_line is None:
            return None
        if max((len(line) for line in raw.split(b"\r\n")), default=0) <= self.max_line:
            return None
        with self._lock:
            self.refused.append(("data", 500, ReceivedMail(mail_from, rcpt_tos, raw, _parse(raw))))
        return "500 5.5.2 Line too long (see RFC 5322 2.1.1)"

    def _record(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        with self._lock:
            self.messages.append(ReceivedMail(mail_from, rcpt_tos, raw, _parse(raw)))

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            password = auth_data.password.decode("utf-8", "replace")
        else:  # pragma: no cover - other mechanisms
            login, password = repr(auth_data), ""
        with self._lock:
            self.auth_attempts.append((mechanism, login, password))
        # handled=False: aiosmtpd then answers 535 itself (its default, True, answers nothing)
        return AuthResult(success=not self.reject_auth, handled=False)

    # ---- helpers ----------------------------------------------------------

    def apprise_url(
        self,
        to: str | Iterable[str] = "user@example.com",
        sender: str = "monitor@example.com",
        user: str | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
        **params: str,
    ) -> str:
        """The apprise ``mailto://`` URL delivering to this server.

        ``headers`` become ``+Name=value`` args; ``params`` are extra query
        args (e.g. ``name="Monitor"``)."""
        auth = ""
        if user:
            auth = urllib.parse.quote(user, safe="")
            if password:
                auth += ":" + urllib.parse.quote(password, safe="")
            auth += "@"
        if not isinstance(to, str):
            to = ",".join(to)
        query: dict[str, str] = {"from": sender, "to": to}
        query.update(params)
        for key, value in (headers or {}).items():
            query["+" + key] = value
        return f"mailto://{auth}{self.host}:{self.port}?{urllib.parse.urlencode(query)}"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refused.clear()
            self.auth_attempts.clear()
            self._refusals.clear()

    # ---- lifecycle --------------------------------------------------------

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        controller_cls = _make_controller_class()
        self._controller = controller_cls(
            _SmtpHandler(self),
            hostname=LOCALHOST,
            port=0,
            loop=asyncio.new_event_loop(),
            server_hostname="smtp.test",
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=False,
            enable_SMTPUTF8=True,
            ready_timeout=10,
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is None:
            return
        self._controller.stop()
        self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _parse(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)
