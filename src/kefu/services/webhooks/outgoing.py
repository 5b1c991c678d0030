"""kefu's events to the integrations that subscribed to them, through the outbox.

Called by the unit of work (services/events/unit_of_work.py) just before a transaction commits,
with the domain events recorded in it: for each event that is an outbound webhook event
(domain/webhooks.outbound_type) and each enabled subscription to it, one outbox row of channel
``webhook`` is written in that same transaction — the change and its webhooks commit together or
not at all. The row carries the whole event (``target``: subscription, type, timestamp, data), so
what is posted is what was true when the change committed (a ticket's status: as committed),
however late the send.

The rows have no ticket: each subscription's deliveries go on their own, so a receiver that is
down delays nobody else's. The data carries ids for the receiver to look up, and the text of a
public message (never of an internal note).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Message, OutboxEntry, Ticket, WebhookSubscription
from kefu.domain import events as ev
from kefu.domain import webhooks as vocab
from kefu.domain.delivery import DeliveryState
from kefu.services.outbound import wake
from kefu.services.webhooks.subscriptions import key_prefix


def enqueue_for(session: Session, events: Sequence[ev.Event]) -> int:
    """Queue the webhooks of ``events`` for their subscribers; the number of rows written."""
    typed = [(e, t) for e in events if (t := vocab.outbound_type(e)) is not None]
    if not typed:
        return 0
    subscribers = _subscribers(session)
    if not subscribers:
        return 0
    now = utcnow()
    written = 0
    for event, kind in typed:
        targets = [sid for sid, wanted in subscribers if kind in wanted]
        if not targets:
            continue
        data = _data(session, event, kind)
        if data is None:
            continue
        for subscription_id in targets:
            session.add(_row(subscription_id, kind, data, now))
            written += 1
    if written:
        wake.queued(session)
    return written


def _subscribers(session: Session) -> list[tuple[int, frozenset[str]]]:
    rows = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events)
        .where(WebhookSubscription.enabled.is_(True))
        .order_by(WebhookSubscription.id)
    )
    return [(row.id, frozenset(row.events or ())) for row in rows]


def _row(subscription_id: int, kind: str, data: dict[str, Any], now: datetime) -> OutboxEntry:
    return OutboxEntry(
        message_id=None,
        ticket_id=None,
        channel=vocab.CHANNEL,
        kind="event",
        target={
            "subscription_id": subscription_id,
            "type": kind,
            "timestamp": now.isoformat(),
            "data": data,
        },
        idempotency_key=key_prefix(subscription_id) + secrets.token_hex(12),
        state=DeliveryState.QUEUED.value,
        attempts=0,
        next_attempt_at=now,
    )


def _data(session: Session, event: ev.Event, kind: str) -> dict[str, Any] | None:
    """What the receiver is told of the event (None: nothing left to tell of)."""
    if isinstance(event, ev.MessageAdded):
        return _message_data(session, event.message_id)
    ticket = session.get(Ticket, event.ticket_id) if event.ticket_id is not None else None
    if ticket is None:
        return None
    data: dict[str, Any] = {
        "ticket_id": ticket.id,
        "customer_id": ticket.customer_id,
        "channel": ticket.channel,
        "status": ticket.status,
        "priority": ticket.priority,
    }
    if kind == vocab.TICKET_CREATED:
        data["subject"] = ticket.subject
    elif isinstance(event, ev.SlaBreached):
        data["target"] = event.target
        data["due_at"] = event.due_at.isoformat() if event.due_at else None
    elif isinstance(event, ev.SurveyAnswered):
        data["survey"] = {"id": event.survey_id, "csat": event.csat, "nps": event.nps,
                          "ces": event.ces, "solved": event.solved, "flagged": event.flagged}  # fmt: skip
    return data


def _message_data(session: Session, message_id: int) -> dict[str, Any] | None:
    message = session.get(Message, message_id)
    if message is None or message.direction not in ("inbound", "outbound"):
        return None
    return {
        "ticket_id": message.ticket_id,
        "message_id": message.id,
        "direction": message.direction,
        "channel": message.channel,
        "author_type": message.author_type,
        "text": message.body_text,
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }
