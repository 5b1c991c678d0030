"""Intake of one customer message from any integration (store first, then process).

The raw payload is written in the same transaction as the rows made from it, before them;
a redelivery of the same (channel, external id) returns the ids of the first delivery and
stores nothing new. If processing fails, the raw payload is stored with its error, so the
delivery can be retried (a redelivery) or replayed.

This is the hottest write path, so it runs prebuilt statements (``intake_queries``) on the
session's connection instead of ORM flushes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import InboundPayload, Message
from kefu.domain import workflow
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.errors import NotFound
from kefu.sanitize import sanitize_html, text_to_html
from kefu.services import intake_queries as q
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


def _already_received(conn: Connection, channel: str, external_id: str) -> InboundResult | None:
    row = conn.execute(q.MESSAGE_BY_EXTERNAL_ID, {"channel": channel, "external_id": external_id}).first()
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
    received_at: datetime | None = None,
) -> InboundResult:
    """Store the raw payload, then turn it into customer, ticket and message rows.

    ``received_at`` is when the message arrived (default: now); importers of history and
    the demo pass the original time.

    If processing fails, the transaction is rolled back and the raw payload is stored with
    its error in a new one (this function commits the caller's session then, before
    re-raising). Callers that batch several messages in one transaction must not catch that.
    """
    conn = session.connection()
    key = {"channel": message.channel, "external_id": message.external_id}
    now = received_at or utcnow()
    payload_id = conn.execute(
        q.insert_payload(conn.dialect.name), {**key, "payload": raw, "received_at": now}
    ).scalar()
    if payload_id is None:
        # Stored before: a redelivery, a concurrent delivery (PostgreSQL waited for it to
        # commit), or an earlier delivery whose processing failed. Lock the row and look.
        payload_id = session.scalars(
            select(InboundPayload.id)
            .where(InboundPayload.channel == message.channel, InboundPayload.external_id == message.external_id)
            .with_for_update()
        ).one()
        seen = _already_received(conn, message.channel, message.external_id)
        if seen is not None:
            return seen
    try:
        result = _process(
            conn, session, actor, message, now=now,
            attachments_root=attachments_root, max_attachment_bytes=max_attachment_bytes,
        )  # fmt: skip
        conn.execute(
            q.MARK_PAYLOAD_PROCESSED,
            {"payload_id": payload_id, "now": now, "new_message_id": result.message_id, "new_ticket_id": result.ticket_id},
        )
    except Exception as e:
        session.rollback()
        _store_failed(session, message, raw=raw, error=f"{type(e).__name__}: {e}"[:2000])
        raise
    return result


def _store_failed(session: Session, message: InboundMessage, *, raw: str, error: str) -> None:
    payload = session.scalar(
        select(InboundPayload).where(
            InboundPayload.channel == message.channel, InboundPayload.external_id == message.external_id
        )
    )
    if payload is None:
        payload = InboundPayload(channel=message.channel, external_id=message.external_id, payload=raw)
        session.add(payload)
    payload.payload, payload.error = raw, error
    session.commit()


def _audit(actor: Actor, action: str, *, object_type: str, object_id: int, ticket_id: int | None, customer_id: int, after: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "actor_type": "system" if actor.is_system else "user",
        "actor_id": actor.user_id,
        "via": actor.via,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "before": None,
        "after": after,
        "created_at": now,
    }


def resolve_customer(conn: Connection, actor: Actor, channel: str, sender: Sender, *, audit: list[dict[str, Any]], now: datetime) -> int:
    """The id of the customer behind a channel identity, created on first contact.

    The customer row is locked (PostgreSQL) so intake is serialised per customer.
    """
    key = {"channel": channel, "external_id": sender.external_id}
    customer_id = conn.execute(q.CUSTOMER_OF_IDENTITY, key).scalar()
    if customer_id is not None:
        conn.execute(q.LOCK_CUSTOMER, {"customer_id": customer_id})
        return int(customer_id)
    name = sender.name or sender.external_id
    customer_id = conn.execute(
        q.INSERT_CUSTOMER,
        {
            "name": name,
            "email": sender.email.lower() if sender.email else None,
            "phone": sender.phone,
            "note": "",
            "language": "zh-CN",
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    identity_id = conn.execute(
        q.insert_identity(conn.dialect.name), {**key, "customer_id": customer_id, "verified": False, "created_at": now}
    ).scalar()
    if identity_id is None:
        # The sender's first messages arrived at once and another request created them.
        conn.execute(q.DELETE_CUSTOMER, {"customer_id": customer_id})
        existing = conn.execute(q.CUSTOMER_OF_IDENTITY, key).scalar_one()
        conn.execute(q.LOCK_CUSTOMER, {"customer_id": existing})
        return int(existing)
    audit.append(
        _audit(actor, "customer.create", object_type="customer", object_id=customer_id, ticket_id=None,
               customer_id=customer_id, after={"name": name, "identities": [f"{channel}:{sender.external_id}"]}, now=now)
    )  # fmt: skip
    return int(customer_id)


def _subject(message: InboundMessage) -> str:
    if message.subject:
        return message.subject[:300]
    first_line = next((line.strip() for line in message.text.splitlines() if line.strip()), "")
    return first_line[:SUBJECT_LENGTH]


def _open_ticket(conn: Connection, customer_id: int, message: InboundMessage) -> tuple[int, str] | None:
    if message.ticket_id is not None:
        ref = conn.execute(q.TICKET_BY_ID, {"ticket_id": message.ticket_id}).first()
        if ref is None or ref.customer_id != customer_id:
            raise NotFound("ticket", details={"field": "ticket_id"})
        return ref.id, ref.status
    row = conn.execute(q.OPEN_TICKET_OF_CUSTOMER, {"customer_id": customer_id, "channel": message.channel}).first()
    return (row.id, row.status) if row else None


def _process(
    conn: Connection,
    session: Session,
    actor: Actor,
    message: InboundMessage,
    *,
    now: datetime,
    attachments_root: Path,
    max_attachment_bytes: int,
) -> InboundResult:
    audit: list[dict[str, Any]] = []
    customer_id = resolve_customer(conn, actor, message.channel, message.sender, audit=audit, now=now)
    found = _open_ticket(conn, customer_id, message)
    if found is None:
        subject = _subject(message)
        ticket_id = conn.execute(
            q.INSERT_TICKET,
            {
                "subject": subject, "status": TicketStatus.NEW.value, "channel": message.channel,
                "customer_id": customer_id, "priority": "P4", "risks": [], "reopen_count": 0,
                "last_message_at": now, "created_at": now, "updated_at": now,
            },
        ).scalar_one()  # fmt: skip
        audit.append(
            _audit(actor, "ticket.create", object_type="ticket", object_id=ticket_id, ticket_id=ticket_id,
                   customer_id=customer_id, now=now,
                   after={"subject": subject, "status": TicketStatus.NEW.value, "channel": message.channel, "customer_id": customer_id})
        )  # fmt: skip
    else:
        ticket_id, status = found
        new_status = workflow.status_after_customer_message(TicketStatus(status)).value
        conn.execute(q.TOUCH_TICKET, {"ticket_id": ticket_id, "new_status": new_status, "now": now})
    message_id = conn.execute(
        q.INSERT_MESSAGE,
        {
            "ticket_id": ticket_id, "channel": message.channel, "direction": Direction.INBOUND.value,
            "author_type": AuthorType.CUSTOMER.value, "author_user_id": None, "author_customer_id": customer_id,
            "body_text": message.text,
            "body_html": sanitize_html(message.html) if message.html else text_to_html(message.text),
            "external_id": message.external_id, "analysis": None, "created_at": now,
        },
    ).scalar_one()  # fmt: skip
    if message.attachments:
        row = session.get(Message, message_id)
        assert row is not None
        store_attachments(session, row, message.attachments, root=attachments_root, max_bytes=max_attachment_bytes)
    audit.append(
        _audit(actor, "ticket.inbound", object_type="message", object_id=message_id, ticket_id=ticket_id,
               customer_id=customer_id, now=now,
               after={"message_id": message_id, "channel": message.channel, "external_id": message.external_id})
    )  # fmt: skip
    conn.execute(q.INSERT_AUDIT, audit)
    return InboundResult(ticket_id=ticket_id, message_id=message_id, customer_id=customer_id, duplicate=False)
