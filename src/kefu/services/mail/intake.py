"""A stored mail (``mail_raw``) becomes a message on a ticket, or is recorded as what it is.

``process_stored`` runs after the raw mail was committed (services/mail/fetch.py), in a
transaction of its own; it is safe to run again on the same row (``kefu mail reprocess``): intake
is idempotent on (channel "email", external id = the Message-ID, or the raw mail's sha256 when
it has none).

- An auto-reply, bounce or out-of-office mail (the parser's ``auto_reply``) is recorded as
  ``auto_reply``: it opens no ticket and is never answered.
- A mail that cannot be parsed, or whose intake refuses it, is ``failed`` with its error, and the
  admins are told (a notification); the other mails go on.
- Threading: the ticket of a Message-ID in In-Reply-To or References (a mail kefu received or
  sent on it), else the ticket named in the subject (``[#123]``). The mail is appended to that
  ticket only when its sender is the ticket's customer by e-mail (the identity (email, address)
  belongs to the ticket's customer). A mail from anyone else carrying the reference opens its
  own case, under its own sender: a reference in a subject is easy to copy, and a stranger's
  mail must not read as the customer's reply.
- The sender's address is an identity of channel "email", never verified: a From header proves
  nothing (kefu never joins customers on it).
- A new case may be acknowledged (the mailbox's setting) through the outbox, at most
  ``settings.mail_acknowledgements_per_hour`` per address.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.channels.email.parse import MailUnparseable, ParsedMail, parse_mail
from kefu.db.models import (
    Identity,
    MailAcknowledgement,
    Mailbox,
    MailRaw,
    MailThreadId,
    Message,
    Ticket,
    User,
)
from kefu.domain.mail_threads import ref_in_subject
from kefu.domain.notices import Notice
from kefu.domain.roles import Role
from kefu.domain.tickets import Channel
from kefu.errors import KefuError, NotFound
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases.loop import intake_rules
from kefu.services.events import notices
from kefu.services.intake.attachments import AttachmentIn
from kefu.services.intake.inbound import InboundMessage, Sender, receive_inbound
from kefu.services.mail import outbound
from kefu.services.staff.directory import require_admin
from kefu.settings import Settings

log = logging.getLogger(__name__)

CHANNEL = Channel.EMAIL.value


class MailState:
    RECEIVED = "received"  # stored, not processed yet (a fetcher stopped in between)
    IMPORTED = "imported"
    AUTO_REPLY = "auto_reply"
    FAILED = "failed"
    REFUSED_TOO_LARGE = "refused_too_large"
    HELD = "held"


@dataclass(frozen=True)
class Processed:
    state: str
    ticket_id: int | None = None
    message_id: int | None = None
    error: str | None = None


def external_id_of(row: MailRaw) -> str:
    """What intake dedupes a mail on: its Message-ID, else its bytes' hash."""
    return row.header_message_id or f"sha256:{row.sha256}"


def process_stored(session: Session, row: MailRaw, *, settings: Settings) -> Processed:
    """Parse and take in one stored mail; the caller commits. Never raises for the mail's own
    faults: they become the row's ``failed`` state and an alert."""
    if row.raw is None:
        return Processed(row.state, error=row.error)
    try:
        parsed = parse_mail(row.raw)
    except MailUnparseable as e:
        return _failed(session, row, f"unparseable: {e}")
    row.header_message_id = row.header_message_id or parsed.message_id or None
    row.from_address = (parsed.from_address or "").lower()[:320] or None
    row.subject = (parsed.subject or "")[:998] or None
    if parsed.auto_reply:
        row.state, row.error = MailState.AUTO_REPLY, parsed.auto_reply_reason or None
        return Processed(row.state)
    if not row.from_address:
        return _failed(session, row, "no sender address (From)")
    if _is_own_address(session, row.from_address):
        # kefu's own mail come back (a copy, a forward loop): never a customer's message.
        row.state, row.error = MailState.AUTO_REPLY, "sent from one of kefu's own mailboxes"
        return Processed(row.state)
    mailbox = session.get(Mailbox, row.mailbox_id)
    ticket_id = _thread_ticket(session, parsed, row.from_address)
    message = _inbound_message(row, parsed, ticket_id, mailbox)
    try:
        # A refusal commits the payload with its error before raising (receive_inbound).
        result = receive_inbound(
            session, SYSTEM, message,
            raw=json.dumps({"mail_raw_id": row.id}),
            attachments_root=settings.attachments_dir,
            max_attachment_bytes=settings.max_attachment_bytes,
            received_at=row.received_at,
            rules=intake_rules(settings),
        )  # fmt: skip
    except KefuError as e:
        return _failed(session, row, f"refused by intake: {e.code}")
    row.state, row.error = MailState.IMPORTED, None
    row.ticket_id, row.message_id = result.ticket_id, result.message_id
    _remember_thread_id(session, row, result.ticket_id, result.message_id)
    if not result.duplicate and mailbox is not None and mailbox.send_acknowledgement:
        _acknowledge(session, mailbox, row, result.ticket_id, settings)
    return Processed(row.state, result.ticket_id, result.message_id)


def do_reprocess(
    session: Session, actor: Actor, mailbox_id: int, raw_id: int, *, settings: Settings
) -> Processed:
    """An admin takes a failed (or unprocessed) mail of a mailbox again, in their transaction."""
    require_admin(actor)
    row = session.get(MailRaw, raw_id, with_for_update=True)
    if row is None or row.mailbox_id != mailbox_id:
        raise NotFound("mail_raw")
    if row.state not in (MailState.FAILED, MailState.RECEIVED):
        return Processed(row.state, row.ticket_id, row.message_id, row.error)
    return process_stored(session, row, settings=settings)


def _is_own_address(session: Session, address: str) -> bool:
    return (
        session.scalar(
            select(Mailbox.id).where(func.lower(Mailbox.address) == address.lower()).limit(1)
        )
        is not None
    )


def _inbound_message(
    row: MailRaw, parsed: ParsedMail, ticket_id: int | None, mailbox: Mailbox | None
) -> InboundMessage:
    address = row.from_address or ""
    text = parsed.text.strip() or parsed.full_text.strip() or (parsed.subject or "")
    return InboundMessage(
        channel=CHANNEL,
        external_id=external_id_of(row),
        sender=Sender(external_id=address, name=parsed.from_name or "", email=address),
        text=text,
        html=parsed.html or None,
        subject=parsed.subject or None,
        ticket_id=ticket_id,
        attachments=[
            AttachmentIn(
                a.filename or "attachment",
                a.content_type or "application/octet-stream",
                base64.b64encode(a.data).decode("ascii"),
            )
            for a in parsed.attachments
        ],
        group_id=mailbox.group_id if mailbox is not None else None,
    )


def _thread_ticket(session: Session, parsed: ParsedMail, address: str) -> int | None:
    """The ticket this mail answers, if its sender is that ticket's customer by e-mail."""
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references or [])] if i]
    ticket_id = None
    if ids:
        rows = session.execute(
            select(MailThreadId.header_message_id, MailThreadId.ticket_id).where(
                MailThreadId.header_message_id.in_(ids)
            )
        ).all()
        found = dict(rows)
        ticket_id = next((found[i] for i in ids if i in found), None)
    if ticket_id is None:
        ticket_id = ref_in_subject(parsed.subject or "")
    if ticket_id is None:
        return None
    ticket = session.get(Ticket, ticket_id)
    while ticket is not None and ticket.merged_into_id is not None:
        ticket = session.get(Ticket, ticket.merged_into_id)
    if ticket is None:
        return None
    sender_customer = session.scalar(
        select(Identity.customer_id).where(
            Identity.channel == CHANNEL, Identity.external_id == address
        )
    )
    if sender_customer != ticket.customer_id:
        log.info("mail names ticket %s but its sender is not on it: a case of its own", ticket.id)
        return None
    return ticket.id


def _remember_thread_id(
    session: Session, row: MailRaw, ticket_id: int, message_id: int | None
) -> None:
    if not row.header_message_id:
        return
    known = session.scalar(
        select(MailThreadId.id).where(MailThreadId.header_message_id == row.header_message_id)
    )
    if known is None:
        session.add(
            MailThreadId(
                header_message_id=row.header_message_id,
                ticket_id=ticket_id,
                message_id=message_id,
                mailbox_id=row.mailbox_id,
                direction="inbound",
            )
        )
        session.flush()


def _acknowledge(
    session: Session, mailbox: Mailbox, row: MailRaw, ticket_id: int, settings: Settings
) -> None:
    """Acknowledge a case this mail opened, within the per-address hourly allowance."""
    messages = session.scalar(select(func.count(Message.id)).where(Message.ticket_id == ticket_id))
    if messages != 1 or not row.from_address:
        return  # the mail joined a case: no acknowledgement
    since = row.received_at - timedelta(hours=1)
    sent = session.scalar(
        select(func.count(MailAcknowledgement.id)).where(
            MailAcknowledgement.address == row.from_address,
            MailAcknowledgement.sent_at >= since,
        )
    )
    if (sent or 0) >= settings.mail_acknowledgements_per_hour:
        log.info("acknowledgement skipped: the hourly allowance of the address is used")
        return
    session.add(MailAcknowledgement(address=row.from_address, ticket_id=ticket_id))
    outbound.enqueue_acknowledgement(session, mailbox, row, ticket_id)


def _failed(session: Session, row: MailRaw, error: str) -> Processed:
    row.state, row.error = MailState.FAILED, error[:2000]
    alert_admins(session, "mail.failed", f"邮件 #{row.id} 无法导入：{error[:200]}")
    return Processed(row.state, error=row.error)


def alert_admins(session: Session, kind: str, body: str) -> None:
    admins = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
        .order_by(User.id)
    )
    notices.write(session, [Notice(user_id, None, kind, body[:500]) for user_id in admins])
