"""Mail out through the outbox: where a reply on a ticket goes (``email_target``), the automatic
acknowledgement of a new case, and the SMTP settings the adapter sends with (``smtp_for``).

A reply carries the thread's headers: In-Reply-To the customer's last mail, References the
ticket's known Message-IDs, the subject with the ticket's reference (``[#123]``), and a
Message-ID kefu makes and keeps (``mail_thread_ids``), so the customer's answer threads back.
It goes out from the mailbox the case came in on, else the default mailbox.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.channels.base import AttachmentRef
from kefu.channels.email.smtp import SmtpSettings
from kefu.db.base import utcnow
from kefu.db.models import (
    Attachment,
    Customer,
    Identity,
    Mailbox,
    MailRaw,
    MailThreadId,
    Message,
    OutboxEntry,
    Ticket,
)
from kefu.domain.delivery import DeliveryState
from kefu.domain.mail_threads import new_message_id, reply_subject
from kefu.domain.tickets import Channel
from kefu.services.intake.attachments import blob_path
from kefu.services.mail.mailboxes import default_mailbox, smtp_login_of
from kefu.services.outbound import wake

REFERENCES_KEPT = 20  # the newest Message-IDs of the thread a reply names in References
ACKNOWLEDGEMENT = (
    "您好，我们已收到您的邮件，工单编号 #{ticket}。客服会尽快回复您；"
    "如需补充信息，请直接回复本邮件（请保留主题中的编号）。"
)


def email_target(
    session: Session, ticket: Ticket, message: Message | None = None
) -> dict[str, Any] | None:
    """Where a reply on this ticket goes by e-mail, with its thread headers; None when the
    customer has no e-mail address or no mailbox can send."""
    last = session.execute(
        select(MailRaw.mailbox_id, MailRaw.from_address, MailRaw.header_message_id)
        .where(MailRaw.ticket_id == ticket.id)
        .order_by(MailRaw.id.desc())
        .limit(1)
    ).first()
    to = (last.from_address if last else None) or _address_of(session, ticket.customer_id)
    mailbox = session.get(Mailbox, last.mailbox_id) if last else None
    if mailbox is None or not mailbox.enabled:
        mailbox = default_mailbox(session)
    if not to or mailbox is None:
        return None
    known = list(
        session.scalars(
            select(MailThreadId.header_message_id)
            .where(MailThreadId.ticket_id == ticket.id)
            .order_by(MailThreadId.id.desc())
            .limit(REFERENCES_KEPT)
        )
    )
    own_id = new_message_id(_domain(mailbox.address))
    session.add(
        MailThreadId(
            header_message_id=own_id,
            ticket_id=ticket.id,
            message_id=message.id if message is not None else None,
            mailbox_id=mailbox.id,
            direction="outbound",
            references=" ".join(reversed(known)),
        )
    )
    return {
        "mailbox_id": mailbox.id,
        "to": to,
        "cc": [],
        "subject": reply_subject(ticket.subject or "", ticket.id),
        "message_id": own_id,
        "in_reply_to": (last.header_message_id if last else None) or (known[0] if known else None),
        "references": list(reversed(known)),
    }


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _address_of(session: Session, customer_id: int) -> str | None:
    address = session.scalar(
        select(Identity.external_id)
        .where(Identity.customer_id == customer_id, Identity.channel == Channel.EMAIL.value)
        .order_by(Identity.id.desc())
        .limit(1)
    )
    if address:
        return address
    customer = session.get(Customer, customer_id)
    return customer.email if customer is not None and customer.email else None


def enqueue_acknowledgement(
    session: Session, mailbox: Mailbox, row: MailRaw, ticket_id: int
) -> None:
    """The acknowledgement of a new case, as a notice through the outbox (no message on the
    ticket: it is not an agent's answer and stops no SLA clock). The notice carries its text in
    its target, and goes out marked Auto-Submitted (channels/email/smtp.py)."""
    ticket = session.get(Ticket, ticket_id)
    now = utcnow()
    session.add(
        OutboxEntry(
            ticket_id=ticket_id,
            channel=Channel.EMAIL.value,
            kind="notice",
            target={
                "mailbox_id": mailbox.id,
                "to": [row.from_address],
                "subject": reply_subject((ticket.subject if ticket else "") or "", ticket_id),
                "text": ACKNOWLEDGEMENT.format(ticket=ticket_id),
            },
            idempotency_key=f"kefu-ack-{row.id}-{ticket_id}",
            state=DeliveryState.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
        )
    )
    session.flush()
    wake.queued(session)


def smtp_lookup(
    sessions: Callable[[], Session], secret_key: str
) -> Callable[[Mapping[str, Any]], SmtpSettings]:
    """The EmailAdapter's ``smtp_for``: the SMTP settings of a delivery's mailbox (its target's
    ``mailbox_id``, else the default mailbox), read when it is sent."""

    def smtp_for(target: Mapping[str, Any]) -> SmtpSettings:
        with sessions() as session:
            mailbox_id = target.get("mailbox_id")
            mailbox = session.get(Mailbox, mailbox_id) if isinstance(mailbox_id, int) else None
            mailbox = mailbox or default_mailbox(session)
            if mailbox is None:
                raise LookupError("no mailbox to send from")
            login = smtp_login_of(mailbox, secret_key)
        return SmtpSettings(
            host=login.host,
            port=login.port,
            security=login.security,  # type: ignore[arg-type]  # checked when saved
            username=login.username,
            password=login.password,
            from_address=login.address,
            from_name=login.name,
        )

    return smtp_for


def attachment_loader(
    sessions: Callable[[], Session], root: Path
) -> Callable[[AttachmentRef], bytes]:
    """The EmailAdapter's ``load_attachment``: a reply's file, read from the attachment store."""

    def load(ref: AttachmentRef) -> bytes:
        with sessions() as session:
            sha256 = session.scalar(select(Attachment.sha256).where(Attachment.id == ref.id))
        if sha256 is None:
            raise ValueError(f"attachment {ref.id} is gone")
        return blob_path(root, sha256).read_bytes()

    return load
