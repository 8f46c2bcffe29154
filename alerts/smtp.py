"""SMTP submission: plain, STARTTLS or implicit TLS, optional login, timeout, from Settings.

``send_message`` calls ``before_data`` after the recipients were accepted and just before DATA:
the outbox records there that the outcome may become uncertain (see ``alerts.outbox``).
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from typing import Callable

from monitor.settings import Settings

SECURITY = ("none", "starttls", "ssl")


class SmtpError(Exception):
    """A message was not accepted; ``permanent`` for 5xx replies (RFC 5321 §4.2.1)."""

    def __init__(self, message: str, *, permanent: bool = False, after_data: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.after_data = after_data


def connect(settings: Settings, context: ssl.SSLContext | None = None) -> smtplib.SMTP:
    security = settings.smtp_security.lower()
    if security not in SECURITY:
        raise SmtpError(f"smtp: BHXH_SMTP_SECURITY must be one of {', '.join(SECURITY)}, not {security!r}")
    context = context or ssl.create_default_context()
    if security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                                timeout=settings.smtp_timeout_s, context=context)
    else:
        client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s)
    try:
        client.ehlo()
        if security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if settings.smtp_username:
            _login(client, settings.smtp_username, settings.smtp_password or "")
    except BaseException:
        client.close()
        raise
    return client


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    if (username + password).isascii():
        client.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN is defined over UTF-8 (RFC 4616 §2), so a
    # Vietnamese password is sent that way.
    token = base64.b64encode(f"\0{username}\0{password}".encode("utf-8")).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def send_message(
    settings: Settings,
    sender: str,
    recipients: list[str],
    data: bytes,
    *,
    before_data: Callable[[], None] = lambda: None,
    context: ssl.SSLContext | None = None,
) -> dict[str, tuple[int, bytes]]:
    """Submit one message; returns the recipients the server refused (others were accepted)."""
    try:
        client = connect(settings, context)
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"smtp: cannot connect to {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
    data_started = False
    try:
        code, reply = client.mail(sender)
        if code != 250:
            raise SmtpError(f"smtp: MAIL FROM refused: {code} {reply!r}", permanent=code >= 500)
        refused: dict[str, tuple[int, bytes]] = {}
        for rcpt in recipients:
            code, reply = client.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
        if len(refused) == len(recipients):
            client.rset()
            permanent = all(code >= 500 for code, _ in refused.values())
            raise SmtpError(f"smtp: every recipient refused: {refused}", permanent=permanent)
        before_data()
        data_started = True
        code, reply = client.data(data)
        if code != 250:
            raise SmtpError(f"smtp: DATA refused: {code} {reply!r}", permanent=code >= 500)
    except smtplib.SMTPResponseException as exc:
        # A reply code means the server answered: not accepted, even after DATA started.
        raise SmtpError(f"smtp: {exc.smtp_code} {exc.smtp_error!r}", permanent=exc.smtp_code >= 500) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise SmtpError(f"smtp: {type(exc).__name__}: {exc}", after_data=data_started) from exc
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return refused
