"""Intake of one customer message from any integration (store first, then process).

The raw payload is written before anything is parsed into rows; a redelivery of the same
(channel, external id) returns the ids of the first delivery and stores nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Customer, Identity, InboundPayload, Message, Ticket
from kefu.domain import workflow
from kefu.domain.tickets import OPEN_STATUSES, AuthorType, Direction, TicketStatus
from kefu.errors import NotFound
from kefu.sanitize import sanitize_html, text_to_html
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.attachments import AttachmentIn
from kefu.services.tickets import store_attachments

SUBJECT_LENGTH = 60


@dataclass(frozen=True)
class Sender:
    external_id: str
    name: str = ""
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    """The common model every channel adapter produces for one customer message."""

    channel: str
    external_id: str
    sender: Sender
    text: str
    html: str | None = None
    subject: str | None = None
    ticket_id: int | None = None
    attachments: list[AttachmentIn] = field(default_factory=list)


@dataclass(frozen=True)
class InboundResult:
    ticket_id: int
    message_id: int
    customer_id: int
    duplicate: bool


def _already_received(session: Session, channel: str, external_id: str) -> InboundResult | None:
    row = session.execute(
        select(Message.id, Message.ticket_id, Message.author_customer_id).where(
            Message.channel == channel, Message.external_id == external_id
        )
    ).first()
    if row is None:
        return None
    return InboundResult(ticket_id=row.ticket_id, message_id=row.id, customer_id=row.author_customer_id, duplicate=True)


def receive_inbound(
    session: Session,
    actor: Actor,
    message: InboundMessage,
    *,
    raw: str,
    attachments_root: Path,
    max_attachment_bytes: int,
) -> InboundResult:
    """Store the raw payload, then turn it into customer, ticket and message rows.

    If processing fails, the raw payload stays stored with its error (this function then
    commits the caller's session before re-raising), so the delivery can be retried or
    replayed. Callers that batch several messages in one transaction must not catch that.
    """
    seen = _already_received(session, message.channel, message.external_id)
    if seen is not None:
        return seen
    payload = InboundPayload(channel=message.channel, external_id=message.external_id, payload=raw)
    try:
        with session.begin_nested():
            session.add(payload)
    except IntegrityError:
        # Stored before: by a concurrent delivery (PostgreSQL waited for it to commit) or by
        # an earlier delivery whose processing failed. Take the row lock, then look again.
        payload = session.scalars(
            select(InboundPayload)
            .where(InboundPayload.channel == message.channel, InboundPayload.external_id == message.external_id)
            .with_for_update()
        ).one()
        seen = _already_received(session, message.channel, message.external_id)
        if seen is not None:
            return seen
        payload.payload = raw  # a retry of a delivery whose processing failed
    try:
        with session.begin_nested():
            result = _process(
                session, actor, message, attachments_root=attachments_root, max_attachment_bytes=max_attachment_bytes
            )
    except Exception as e:
        payload.error = f"{type(e).__name__}: {e}"[:2000]
        session.commit()
        raise
    payload.processed_at = utcnow()
    payload.error = None
    payload.message_id = result.message_id
    payload.ticket_id = result.ticket_id
    return result


def resolve_customer(session: Session, actor: Actor, channel: str, sender: Sender) -> Customer:
    """The customer behind a channel identity, created on first contact."""
    identity = _identity(session, channel, sender.external_id)
    if identity is not None:
        # The row lock serialises intake per customer, so two messages at once cannot both
        # open a ticket. A merged-away customer's identities moved with the merge.
        customer = session.get(Customer, identity.customer_id, with_for_update=True)
        assert customer is not None
        return customer
    customer = Customer(
        name=sender.name or sender.external_id,
        email=sender.email.lower() if sender.email else None,
        phone=sender.phone,
    )
    try:
        with session.begin_nested():
            session.add(customer)
            session.flush()
            session.add(Identity(customer_id=customer.id, channel=channel, external_id=sender.external_id))
    except IntegrityError:
        # The sender's first messages arrived at once and another request created them.
        identity = _identity(session, channel, sender.external_id)
        if identity is None:
            raise
        existing = session.get(Customer, identity.customer_id, with_for_update=True)
        assert existing is not None
        return existing
    audit.record(
        session, actor, "customer.create", object_type="customer", object_id=customer.id,
        customer_id=customer.id,
        after={"name": customer.name, "identities": [f"{channel}:{sender.external_id}"]},
    )  # fmt: skip
    return customer


def _identity(session: Session, channel: str, external_id: str) -> Identity | None:
    return session.scalar(
        select(Identity).where(Identity.channel == channel, Identity.external_id == external_id)
    )


def _find_ticket(session: Session, customer: Customer, message: InboundMessage) -> Ticket | None:
    if message.ticket_id is not None:
        ticket = session.get(Ticket, message.ticket_id)
        if ticket is None or ticket.customer_id != customer.id:
            raise NotFound("ticket", details={"field": "ticket_id"})
        return ticket
    return session.scalar(
        select(Ticket)
        .where(
            Ticket.customer_id == customer.id,
            Ticket.channel == message.channel,
            Ticket.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .order_by(Ticket.id.desc())
        .limit(1)
    )


def _subject(message: InboundMessage) -> str:
    if message.subject:
        return message.subject[:300]
    first_line = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    return first_line[:SUBJECT_LENGTH]


def _process(
    session: Session,
    actor: Actor,
    message: InboundMessage,
    *,
    attachments_root: Path,
    max_attachment_bytes: int,
) -> InboundResult:
    now = utcnow()
    customer = resolve_customer(session, actor, message.channel, message.sender)
    ticket = _find_ticket(session, customer, message)
    opened = ticket is None
    if ticket is None:
        ticket = Ticket(
            subject=_subject(message),
            status=TicketStatus.NEW.value,
            channel=message.channel,
            customer_id=customer.id,
            priority="P4",
            risks=[],
            created_at=now,
        )
        session.add(ticket)
        session.flush()
    else:
        ticket.status = workflow.status_after_customer_message(TicketStatus(ticket.status)).value
    ticket.last_message_at = now
    ticket.updated_at = now
    row = Message(
        ticket_id=ticket.id,
        channel=message.channel,
        direction=Direction.INBOUND.value,
        author_type=AuthorType.CUSTOMER.value,
        author_customer_id=customer.id,
        body_text=message.text,
        body_html=sanitize_html(message.html) if message.html else text_to_html(message.text),
        external_id=message.external_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if message.attachments:
        store_attachments(
            session, row, message.attachments, root=attachments_root, max_bytes=max_attachment_bytes
        )
    if opened:
        audit.record(
            session, actor, "ticket.create", object_type="ticket", object_id=ticket.id,
            ticket_id=ticket.id, customer_id=customer.id,
            after={"subject": ticket.subject, "status": ticket.status, "channel": ticket.channel, "customer_id": customer.id},
        )  # fmt: skip
    audit.record(
        session, actor, "ticket.inbound", object_type="message", object_id=row.id,
        ticket_id=ticket.id, customer_id=customer.id,
        after={"message_id": row.id, "channel": message.channel, "external_id": message.external_id},
    )  # fmt: skip
    return InboundResult(ticket_id=ticket.id, message_id=row.id, customer_id=customer.id, duplicate=False)
