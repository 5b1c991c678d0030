"""Raw mails shaped like real Chinese mail, for the mail tests (built here, byte by byte, the
way common mailers write them)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime

from sqlalchemy.orm import Session

from kefu.db.models import Mailbox, MailRaw
from kefu.services.mail.intake import process_stored
from kefu.settings import Settings

_uids = itertools.count(1)


def take(db: Session, settings: Settings, box: Mailbox, raw: bytes) -> MailRaw:
    """A mail stored as the fetcher stores it, then processed and committed."""
    row = MailRaw(
        mailbox_id=box.id, uidvalidity=1, uid=next(_uids), raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), state="received",
    )  # fmt: skip
    db.add(row)
    db.commit()
    process_stored(db, row, settings=settings)
    db.commit()
    return row


def new_id(domain: str = "customer.test") -> str:
    return f"{secrets.token_hex(8)}@{domain}"


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def headers(
    *,
    sender: str,
    to: str,
    subject: str,
    message_id: str,
    charset: str = "utf-8",
    extra: dict[str, str] | None = None,
) -> str:
    lines = [
        f"From: {Header('顾客', charset).encode()} <{sender}>",
        f"To: <{to}>",
        f"Subject: {Header(subject, charset).encode()}",
        f"Date: {format_datetime(datetime.now(UTC))}",
        f"Message-ID: <{message_id}>",
        "MIME-Version: 1.0",
    ]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return "\r\n".join(lines) + "\r\n"


def plain(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    charset: str = "utf-8",
    body_charset: str | None = None,
    label: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A text/plain mail: the subject in ``charset`` (RFC 2047), the body in ``body_charset``
    (default the same) labelled ``label`` (default the same: a different label mislabels it)."""
    body_charset = body_charset or charset
    head = headers(
        sender=sender, to=to, subject=subject, message_id=message_id, charset=charset, extra=extra
    )
    head += f"Content-Type: text/plain; charset={label or body_charset}\r\n"
    head += "Content-Transfer-Encoding: base64\r\n\r\n"
    return (head + _b64(body.encode(body_charset))).encode("ascii")


def with_attachments(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    message_id: str,
    files: list[tuple[str, str, bytes]],
    broken: bool = False,
) -> bytes:
    """A multipart/mixed mail in GBK: text, then files (name, type, data); ``broken`` adds a
    part whose base64 is cut in the middle and whose header is garbage."""
    boundary = "----=_Part_" + secrets.token_hex(6)
    out = headers(sender=sender, to=to, subject=subject, message_id=message_id, charset="gbk")
    out += f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    out += "This is a multi-part message in MIME format.\r\n"
    out += f"--{boundary}\r\nContent-Type: text/plain; charset=gbk\r\n"
    out += f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(body.encode('gbk'))}"
    if broken:
        out += f'--{boundary}\r\nContent-Type: application/pdf; name="=?gbk?B?broken\r\n'
        out += "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJ%%%***\r\n"
    for name, content_type, data in files:
        encoded = Header(name, "gbk").encode()
        out += f'--{boundary}\r\nContent-Type: {content_type}; name="{encoded}"\r\n'
        out += f'Content-Disposition: attachment; filename="{encoded}"\r\n'
        out += f"Content-Transfer-Encoding: base64\r\n\r\n{_b64(data)}"
    out += f"--{boundary}--\r\n"
    return out.encode("ascii")
