"""The admin page's "测试连接": log in to a mailbox's IMAP and SMTP servers and say how it went.
Nothing is read or sent."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from kefu.channels.email.imap import ImapFailed, ImapSettings, check_login


@dataclass(frozen=True)
class LoginResult:
    protocol: str  # IMAP | SMTP
    ok: bool
    detail: str


def check_imap(settings: ImapSettings) -> LoginResult:
    try:
        state = check_login(settings)
    except ImapFailed as e:
        return LoginResult("IMAP", False, str(e))
    idle = "IDLE" if state.supports_idle else "polling"
    return LoginResult("IMAP", True, f"UIDVALIDITY {state.uidvalidity}, {idle}")


def check_smtp(
    host: str, port: int, security: str, username: str, password: str, timeout: float = 15.0
) -> LoginResult:
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            client.ehlo()
            if security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if username:
                client.login(username, password)
    except (smtplib.SMTPException, OSError) as e:
        return LoginResult("SMTP", False, (str(e) or type(e).__name__)[:300])
    return LoginResult("SMTP", True, "login accepted" if username else "connected (no login)")
