"""The one writer of an outbox row's state: checked against domain/delivery.py, stamped, mirrored
on the message (``messages.delivery_state``, what the timeline and the API show) and told as a
``DeliveryChanged`` event after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from kefu.db.models import Message, OutboxEntry
from kefu.domain import events as ev
from kefu.domain.delivery import DeliveryState, check_transition
from kefu.services.events import unit_of_work as events

D = DeliveryState

# When the row reached each state. A later state implies the earlier ones (a read message was
# delivered, a delivered one sent), so a receipt that skips a step stamps those too.
STAMPS: tuple[tuple[DeliveryState, str], ...] = (
    (D.SENT, "sent_at"),
    (D.DELIVERED, "delivered_at"),
    (D.READ, "read_at"),
)


def move(session: Session, entry: OutboxEntry, state: DeliveryState, now: datetime) -> bool:
    """Move ``entry`` (locked by the caller) to ``state``; False when it is there already.

    Raises ``DeliveryTransitionNotAllowed`` for a move domain/delivery.py forbids."""
    current = D(entry.state)
    if state == current:
        return False
    check_transition(current, state)
    entry.state = state.value
    if state == D.DEAD:
        entry.dead_at = now
    elif state == D.QUEUED:
        entry.dead_at = None
    reached = [column for step, column in STAMPS if _rank(step) <= _rank(state)]
    for column in reached:
        if getattr(entry, column) is None:
            setattr(entry, column, now)
    if entry.message_id is not None:
        session.execute(
            update(Message)
            .where(Message.id == entry.message_id)
            .values(delivery_state=state.value)
            .execution_options(synchronize_session="fetch")
        )
    told = ev.DeliveryChanged(
        entry.ticket_id, message_id=entry.message_id, outbox_id=entry.id, state=state.value
    )
    events.record(session, told, notify=False)
    return True


def _rank(state: DeliveryState) -> int:
    return {D.SENT: 1, D.DELIVERED: 2, D.READ: 3}.get(state, 0)
