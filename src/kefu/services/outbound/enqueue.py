"""Queueing a message for its customer, in the transaction that writes the message.

Which messages leave, and where to (``target``, what the channel's adapter needs):

- web chat: the visitor's sockets, ``{"customer_id", "webchat_channel_id"}``;
- the ``api`` channel: the integration that delivered the case's last customer message, when it
  has registered a callback URL, ``{"integration_id", "in_reply_to", "customer_external_id"}``
  (the integration's own ids, so it can find its conversation);
- e-mail: the customer's address, the mailbox to send from and the thread's headers
  (services/mail/outbound.py ``email_target``);
- any other channel: nothing yet (no row, and the message's ``delivery_state`` stays None).

The idempotency key is the message's id and a random part: a receiver that dedupes on it never
confuses a message with one of another kefu installation (or of this one after a restore).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Identity, InboundPayload, Integration, Message, OutboxEntry, Ticket
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel, Direction
from kefu.services.mail.outbound import email_target
from kefu.services.outbound import wake


def enqueue_message(session: Session, ticket: Ticket, message: Message) -> OutboxEntry | None:
    """Queue a public reply (flushed, so it has an id) for the ticket's customer on the
    message's channel (the case's, or another the agent chose); None when that channel sends
    nothing. The caller's commit wakes the relays."""
    if message.direction != Direction.OUTBOUND:
        return None  # an internal note never reaches a customer channel
    target = target_for(session, ticket, message.channel, message)
    if target is None:
        return None
    entry = OutboxEntry(
        message_id=message.id,
        ticket_id=ticket.id,
        channel=message.channel,
        kind="message",
        target=target,
        idempotency_key=new_key(message.id),
        state=DeliveryState.QUEUED.value,
        attempts=0,
        next_attempt_at=message.created_at or utcnow(),
    )
    session.add(entry)
    session.flush()
    message.delivery_state = DeliveryState.QUEUED.value
    wake.queued(session)
    return entry


def new_key(message_id: int) -> str:
    return f"kefu-{message_id}-{secrets.token_hex(8)}"


def target_for(
    session: Session, ticket: Ticket, channel: str, message: Message | None = None
) -> dict[str, Any] | None:
    if channel == Channel.EMAIL:
        return email_target(session, ticket, message)
    if channel == Channel.WEBCHAT:
        return {"customer_id": ticket.customer_id, "webchat_channel_id": ticket.webchat_channel_id}
    if channel == Channel.API:
        return _integration_target(session, ticket)
    return None


def _integration_target(session: Session, ticket: Ticket) -> dict[str, Any] | None:
    """The integration that delivered the case's last customer message, if it takes callbacks."""
    last = session.execute(
        select(InboundPayload.integration_id, Message.channel, Message.external_id)
        .join(
            InboundPayload,
            and_(
                InboundPayload.channel == Message.channel,
                InboundPayload.external_id == Message.external_id,
            ),
        )
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.INBOUND.value,
            Message.external_id.is_not(None),
            InboundPayload.integration_id.is_not(None),
        )
        .order_by(Message.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    integration = session.get(Integration, last.integration_id)
    if integration is None or integration.revoked_at is not None or not integration.callback_url:
        return None
    customer_external_id = session.scalar(
        select(Identity.external_id)
        .where(Identity.customer_id == ticket.customer_id, Identity.channel == last.channel)
        .order_by(Identity.id.desc())
        .limit(1)
    )
    return {
        "integration_id": integration.id,
        "in_reply_to": last.external_id,
        "customer_external_id": customer_external_id,
    }
