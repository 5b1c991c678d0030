"""The widget's acknowledgements of agents' messages: shown (delivered) and seen (read).

A visitor may only acknowledge a message of their own conversation; anything else is ignored
(an ack carries a seq the visitor could have made up). The receipt moves the message's outbox
row forward through services/outbound/receipts.py, forward only, so a late "shown" never undoes
"seen" and a second ack changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import OutboxEntry
from kefu.domain.delivery import DeliveryState
from kefu.domain.tickets import Channel, Direction
from kefu.services.webchat import conversation


def acknowledge(session: Session, customer_id: int | None, seq: int, state: DeliveryState) -> bool:
    """Record the visitor's receipt of message ``seq``; False when there is nothing to record
    (not their message, not an agent's, or never queued for delivery)."""
    message = conversation.message_of(session, customer_id, seq)
    if message is None or message.direction != Direction.OUTBOUND.value:
        return False
    outbox_id = session.scalar(
        select(OutboxEntry.id)
        .where(OutboxEntry.message_id == seq, OutboxEntry.channel == Channel.WEBCHAT.value)
        .order_by(OutboxEntry.id.desc())
        .limit(1)
    )
    if outbox_id is None:
        return False
    _record_receipt(session, outbox_id, state)
    return True


def _record_receipt(session: Session, outbox_id: int, state: DeliveryState) -> None:
    """The one call into the outbox's receipts (services/outbound/receipts.py)."""
    from kefu.services.outbound.receipts import record_receipt

    record_receipt(session, outbox_id=outbox_id, state=state)
