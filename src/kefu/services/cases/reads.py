"""What each staff member has seen of each case, for the inbox's unread markers.

The ticket view calls ``mark_seen`` when a person opens a case; the inbox asks ``unread_among``
for the cases of the page it shows. A case is unread for someone when a customer message came
after they last opened it, or when they never opened it. Replies and internal notes never make
a case unread: only what the customer wrote.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.db.models import Message, TicketRead
from kefu.domain.tickets import Direction


def mark_seen(session: Session, user_id: int, ticket_id: int, now: datetime) -> None:
    """Record that ``user_id`` has seen ``ticket_id`` at ``now`` (the caller checked access).

    One statement, safe when two tabs open the case at once; an earlier ``now`` than the one on
    record (a slow request finishing late) never moves the mark back."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(TicketRead).values(user_id=user_id, ticket_id=ticket_id, seen_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[TicketRead.user_id, TicketRead.ticket_id],
        set_={"seen_at": statement.excluded.seen_at},
        where=TicketRead.seen_at < statement.excluded.seen_at,
    )
    session.execute(statement)


def unread_among(session: Session, user_id: int, ticket_ids: Collection[int]) -> set[int]:
    """Which of these cases have a customer message ``user_id`` has not seen: two queries,
    whatever the number of cases (a page of the inbox)."""
    if not ticket_ids:
        return set()
    last_inbound: dict[int, datetime] = {
        ticket_id: last
        for ticket_id, last in session.execute(
            select(Message.ticket_id, func.max(Message.created_at))
            .where(Message.ticket_id.in_(ticket_ids), Message.direction == Direction.INBOUND)
            .group_by(Message.ticket_id)
        )
    }
    seen: dict[int, datetime] = {
        ticket_id: at
        for ticket_id, at in session.execute(
            select(TicketRead.ticket_id, TicketRead.seen_at).where(
                TicketRead.user_id == user_id, TicketRead.ticket_id.in_(list(last_inbound))
            )
        )
    }
    return {
        ticket_id
        for ticket_id, last in last_inbound.items()
        if ticket_id not in seen or last > seen[ticket_id]
    }
