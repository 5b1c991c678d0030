"""Where tickets stand now (group and assignee), many at once: what the live event stream needs
to decide who may hear of each ticket (domain/event_audience.py), looked up once per batch of
events instead of once per event and recipient."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain.event_audience import TicketPlace

CHUNK = 1000  # ids per query: well under every database's limit on bound parameters


def places_of(session: Session, ticket_ids: Collection[int]) -> dict[int, TicketPlace]:
    """The place of each ticket that exists; a missing id is simply absent."""
    ids = sorted(set(ticket_ids))
    found: dict[int, TicketPlace] = {}
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(Ticket.id, Ticket.group_id, Ticket.assignee_id).where(
                Ticket.id.in_(ids[start : start + CHUNK])
            )
        )
        found.update((row.id, TicketPlace(row.group_id, row.assignee_id)) for row in rows)
    return found
