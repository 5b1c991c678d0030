"""Receipts: the channel says a message was sent, delivered or read.

Web chat acks (the widget showed it: delivered; the visitor saw it: read) and integrations'
receipt posts (``POST /api/v1/receipts``) come here. A receipt only ever moves a row forward
(domain/delivery.after_receipt): a late ``delivered`` never undoes ``read``, and a receipt for
a row the relay has not marked yet counts (the channel has it after all).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import OutboxEntry
from kefu.domain.delivery import DeliveryState, after_receipt
from kefu.domain.tickets import Channel
from kefu.errors import NotFound
from kefu.services.actors import Actor
from kefu.services.outbound import states


def record_receipt(
    session: Session,
    *,
    state: DeliveryState,
    now: datetime | None = None,
    **names: int | str | None,
) -> OutboxEntry:
    """Apply a receipt to the row ``names`` names (as ``find_entry``: exactly one of
    ``outbox_id``, ``idempotency_key``, ``external_ref`` with ``channel``, or the ``message_id``
    it sends); 404 if there is none.

    Takes the row's lock: call it in a transaction of its own (or the caller's, committed soon)."""
    entry = find_entry(session, **names)  # type: ignore[arg-type]
    if entry is None:
        raise NotFound("outbox_entry")
    return apply_receipt(session, entry, state, now or utcnow())


def apply_receipt(
    session: Session, entry: OutboxEntry, state: DeliveryState, now: datetime
) -> OutboxEntry:
    new = after_receipt(DeliveryState(entry.state), state)
    if states.move(session, entry, new, now):
        entry.next_attempt_at = None  # nothing left to send; a relay holding it marks nothing
    return entry


def find_entry(
    session: Session,
    *,
    outbox_id: int | None = None,
    idempotency_key: str | None = None,
    external_ref: str | None = None,
    message_id: int | None = None,
    channel: str | None = None,
) -> OutboxEntry | None:
    """The row named by exactly one of the keys, locked on PostgreSQL."""
    named = [k for k in (outbox_id, idempotency_key, external_ref, message_id) if k is not None]
    if len(named) != 1:
        raise ValueError("name the outbox row by exactly one of its keys")
    o = OutboxEntry
    query = select(o)
    if outbox_id is not None:
        query = query.where(o.id == outbox_id)
    elif idempotency_key is not None:
        query = query.where(o.idempotency_key == idempotency_key)
    elif external_ref is not None:
        if channel is None:
            raise ValueError("an external_ref is the channel's: name the channel")
        query = query.where(o.channel == channel, o.external_ref == external_ref)
    else:
        query = query.where(o.message_id == message_id, o.kind == "message")
    if channel is not None:
        query = query.where(o.channel == channel)
    query = query.order_by(o.id.desc()).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalar(query)


def locked_entries(session: Session, outbox_ids: list[int]) -> dict[int, OutboxEntry]:
    """These rows by id, locked on PostgreSQL (in id order: pass them sorted)."""
    query = select(OutboxEntry).where(OutboxEntry.id.in_(outbox_ids)).order_by(OutboxEntry.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return {entry.id: entry for entry in session.scalars(query)}


def do_integration_receipt(
    session: Session,
    actor: Actor,
    *,
    idempotency_key: str | None = None,
    external_ref: str | None = None,
    state: DeliveryState,
) -> OutboxEntry:
    """A receipt posted by an integration, for a callback kefu sent it (anything else: 404)."""
    entry = find_entry(
        session,
        idempotency_key=idempotency_key,
        external_ref=external_ref,
        channel=Channel.API.value,
    )
    if entry is None or (entry.target or {}).get("integration_id") != actor.integration_id:
        raise NotFound("outbox_entry")
    return apply_receipt(session, entry, state, utcnow())
