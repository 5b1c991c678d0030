"""The widget's acknowledgements of agents' messages: shown (delivered) and seen (read).

A visitor may only acknowledge a message of their own conversation; anything else is ignored
(an ack carries a seq the visitor could have made up). The receipt moves the message's outbox
row forward through services/outbound/receipts.py, forward only, so a late "shown" never undoes
"seen" and a second ack changes nothing.

Acks come by the hundred a second when many visitors chat at once, and none of them is urgent:
the sockets of a process hand them to one ``ReceiptBatch`` (realtime/chat_runtime.py), which
records all that arrived within a moment in one transaction (``acknowledge_many``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Message, OutboxEntry, Ticket
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel, Direction


@dataclass(frozen=True)
class Ack:
    customer_id: int  # the visitor's customer: only their own messages count
    seq: int  # the message id
    state: DeliveryState  # DELIVERED (shown) or READ (seen)


def acknowledge_many(session: Session, acks: Sequence[Ack]) -> int:
    """Record the visitors' receipts; returns how many named a message they may acknowledge
    (an agent's message of their own conversation that was queued for delivery)."""
    if not acks:
        return 0
    rows = session.execute(
        select(OutboxEntry.id, OutboxEntry.message_id, Ticket.customer_id)
        .join(Message, Message.id == OutboxEntry.message_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            OutboxEntry.message_id.in_({a.seq for a in acks}),
            OutboxEntry.channel == Channel.WEBCHAT.value,
            Message.direction == Direction.OUTBOUND.value,
            Ticket.channel == Channel.WEBCHAT.value,
        )
    )
    newest: dict[tuple[int, int | None], int] = {}  # (customer, message) -> newest outbox row
    for outbox_id, message_id, customer_id in rows:
        key = (customer_id, message_id)
        newest[key] = max(outbox_id, newest.get(key, 0))
    mine = [
        (newest[(a.customer_id, a.seq)], a.state) for a in acks if (a.customer_id, a.seq) in newest
    ]
    if not mine:
        return 0
    _record_receipts(session, mine)
    return len(mine)


def _record_receipts(session: Session, receipts: list[tuple[int, DeliveryState]]) -> None:
    """The one call into the outbox's receipts (services/outbound/receipts.py): the rows locked
    in id order, so that two batches never wait on each other's locks."""
    from kefu.services.outbound.receipts import apply_receipt, locked_entries

    entries = locked_entries(session, sorted({outbox_id for outbox_id, _ in receipts}))
    now = utcnow()
    for outbox_id, state in receipts:
        entry = entries.get(outbox_id)
        if entry is not None:
            apply_receipt(session, entry, state, now)
