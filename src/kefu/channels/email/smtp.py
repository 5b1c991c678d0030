"""The ``email`` channel's adapter: answers and staff notices sent by SMTP (smtplib).

The relay hands over an ``OutboundDelivery``; ``smtp_for(target)`` (given by the mailbox
code) says which server and sender to use. Two kinds:

- ``"message"``, an answer on a ticket: target ``mailbox_id``, ``to``, ``cc``, ``subject``,
  ``message_id`` (optional: else derived from the idempotency key), ``in_reply_to`` and
  ``references`` (the customer's mail it answers, so it threads in their client);
- ``"notice"``, an alert to staff: target ``to`` (a list) and ``subject``; ``mailbox_id`` may be
  missing (the default mailbox), and the mail says ``Auto-Submitted: auto-generated``.

The Message-ID holds the idempotency key, so every attempt at one delivery carries the same id
and a receiver (or a person) sees a resend as the same mail. What a failure means: an SMTP 5xx
answer, all recipients refused, a header with a line break, a TLS certificate that does not
verify, a mailbox that no longer exists — permanent (dead letters); a 4xx answer, a timeout, a
refused or dropped connection — temporary, tried again with back-off.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, Literal

from kefu.channels.base import AttachmentRef, DeliveryFailed, OutboundDelivery, SendResult
from kefu.channels.email.compose import (
    AUTO_GENERATED,
    AUTO_REPLIED,
    HeaderInjection,
    OutgoingAttachment,
    check_header_value,
    compose_mail,
)
from kefu.domain.delivery import DeliveryState
from kefu.domain.mail_threads import new_message_id, references_for, subject_with_ref
from kefu.domain.masking import mask_personal_data

log = logging.getLogger(__name__)

Security = Literal["ssl", "starttls", "none"]


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str
    from_name: str = ""
    timeout: float = 30.0

    @property
    def domain(self) -> str:
        return self.from_address.rpartition("@")[2] or "kefu.invalid"


def message_id_for(idempotency_key: str, from_address: str) -> str:
    """The Message-ID (without <>) of the mail sent for one delivery: the same on every attempt.
    The mailbox code may write it into the target (``message_id``) at enqueue to thread on it."""
    return new_message_id(from_address.rpartition("@")[2], unique=idempotency_key)


class EmailAdapter:
    """Sends one delivery per SMTP connection (the relay sends few mails a second; a pooled
    connection would have to survive the server's idle timeouts for no gain)."""

    channel = "email"

    def __init__(
        self,
        smtp_for: Callable[[Mapping[str, Any]], SmtpSettings],
        *,
        load_attachment: Callable[[AttachmentRef], bytes] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.smtp_for = smtp_for
        self.load_attachment = load_attachment
        self.clock = clock
        self.tls_context = tls_context

    def send(self, delivery: OutboundDelivery) -> SendResult:
        try:
            settings = self.smtp_for(delivery.target)
        except LookupError as error:
            raise DeliveryFailed(f"no mailbox to send from: {error}", permanent=True) from error
        try:
            mail = self.compose(delivery, settings)
        except (HeaderInjection, ValueError) as error:
            raise DeliveryFailed(f"mail refused before sending: {error}", permanent=True) from error
        recipients = _all_recipients(mail)
        self._transmit(settings, mail, recipients)
        return SendResult(
            state=DeliveryState.SENT, external_ref=str(mail["Message-ID"]).strip("<>")
        )

    def compose(self, delivery: OutboundDelivery, settings: SmtpSettings) -> EmailMessage:
        target = delivery.target
        if delivery.kind == "message":
            subject = str(target.get("subject") or "")
            check_header_value("subject", subject)  # before the subject is tidied
            if delivery.ticket_id is not None:
                subject = subject_with_ref(subject, delivery.ticket_id)
            in_reply_to = target.get("in_reply_to") or None
            automatic = delivery.author_type in ("bot", "system")
            return compose_mail(
                from_address=settings.from_address,
                from_name=settings.from_name,
                to=_as_list(target.get("to")),
                cc=_as_list(target.get("cc")),
                subject=subject,
                text=delivery.text,
                html=delivery.html,
                message_id=str(target.get("message_id") or "")
                or message_id_for(delivery.idempotency_key, settings.from_address),
                date=delivery.created_at or self.clock(),
                in_reply_to=in_reply_to,
                references=references_for(in_reply_to, _as_list(target.get("references"))),
                auto_submitted=AUTO_REPLIED if automatic else None,
                attachments=self._attachments(delivery),
            )
        if delivery.kind == "notice":
            return compose_mail(
                from_address=settings.from_address,
                from_name=settings.from_name,
                to=_as_list(target.get("to")),
                subject=str(target.get("subject") or ""),
                text=delivery.text,
                html=delivery.html,
                message_id=message_id_for(delivery.idempotency_key, settings.from_address),
                date=delivery.created_at or self.clock(),
                auto_submitted=AUTO_GENERATED,
            )
        raise ValueError(f"the email channel sends no {delivery.kind!r}")

    def _attachments(self, delivery: OutboundDelivery) -> list[OutgoingAttachment]:
        if not delivery.attachments:
            return []
        if self.load_attachment is None:
            raise ValueError("attachments given but no way to read them")
        return [
            OutgoingAttachment(ref.filename, ref.content_type, self.load_attachment(ref))
            for ref in delivery.attachments
        ]

    def _transmit(self, settings: SmtpSettings, mail: EmailMessage, recipients: list[str]) -> None:
        try:
            with self._connect(settings) as client:
                refused = client.send_message(mail, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            permanent = all(code >= 500 for code in codes)
            raise DeliveryFailed(
                f"all recipients refused ({codes})", permanent=permanent
            ) from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"SMTP {error.smtp_code}: {_text(error.smtp_error)}",
                permanent=error.smtp_code >= 500,
            ) from error
        except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as error:
            raise DeliveryFailed(f"SMTP set-up refused: {error}", permanent=True) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP connection failed: {error}") from error
        if refused:  # the others have it: sending again would duplicate it for them
            log.warning(
                "mail %s: %d recipient(s) refused: %s",
                mail["Message-ID"],
                len(refused),
                mask_personal_data(", ".join(refused)),
            )

    def _connect(self, settings: SmtpSettings) -> smtplib.SMTP:
        context = self.tls_context or ssl.create_default_context()
        client: smtplib.SMTP
        if settings.security == "ssl":
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        try:
            client.ehlo()
            if settings.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if settings.username:
                client.login(settings.username, settings.password)
        except BaseException:
            client.close()
            raise
        return client


def _as_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, Sequence):
        return [str(item).strip() for item in value if str(item).strip()]
    return [str(value)]


def _all_recipients(mail: EmailMessage) -> list[str]:
    found: list[str] = []
    for name in ("To", "Cc"):
        header = mail[name]
        if header is not None:
            found.extend(address.addr_spec for address in header.addresses)
    return list(dict.fromkeys(found))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
