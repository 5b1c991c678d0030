"""Cases that belong together: links between tickets and merging duplicates.

A link points from a later case to an earlier one (``ticket_links``): ``follow_up`` (the
customer wrote after the reopen window), ``repeat_complaint`` (重复投诉, domain/repeat_complaints.py),
``merged`` (a duplicate merged into the case it points at) or ``related`` (a person linked them).
Intake makes the first two itself (services/intake/inbound.py); ``loop.flag_repeat_complaint`` makes
repeat-complaint links for the services (a staff-opened case, a person's change of intent or
category, a confirmed category, a retried analysis), inside those services. Merging moves the duplicate's messages
into the kept case, folds its triage and tags in, and closes it; both tickets' trails say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import Message, Ticket, TicketLink
from kefu.domain import events as ev
from kefu.domain.ticket_triage import TicketTriage, merge
from kefu.domain.tickets import TicketStatus
from kefu.errors import Conflict, KefuError
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.cases.loop import add_link, move_status
from kefu.services.cases.tickets import access_ticket, snapshot, tags_by_name
from kefu.services.events import unit_of_work as events
from kefu.services.search import index as search_index
from kefu.services.sla import clocks as sla


@dataclass(frozen=True)
class LinkView:
    ticket_id: int  # the other case
    kind: str
    direction: str  # "earlier": this case points at it; "later": it points at this case
    created_at: datetime


def links_of(session: Session, actor: Actor, ticket: Ticket) -> list[LinkView]:
    """The ticket's links both ways, to cases the actor may see."""
    rows = session.scalars(
        select(TicketLink)
        .where(or_(TicketLink.ticket_id == ticket.id, TicketLink.linked_ticket_id == ticket.id))
        .order_by(TicketLink.id)
    )
    out = []
    for row in rows:
        earlier = row.ticket_id == ticket.id
        other = row.linked_ticket_id if earlier else row.ticket_id
        try:
            access_ticket(session, actor, other)
        except KefuError:
            continue
        out.append(LinkView(other, row.kind, "earlier" if earlier else "later", row.created_at))
    return out


def do_link(session: Session, actor: Actor, ticket: Ticket, other_id: int) -> LinkView:
    """A person links two cases of the same customer as related (the later one points at the earlier)."""
    other = access_ticket(session, actor, other_id)
    if other.id == ticket.id:
        raise KefuError("self_link", status_code=422)
    later, earlier = (ticket, other) if ticket.id > other.id else (other, ticket)
    if add_link(session, later.id, earlier.id, "related", actor.user_id):
        for t, o in ((ticket, other), (other, ticket)):
            audit.record(
                session,
                actor,
                "ticket.link",
                object_type="ticket",
                object_id=t.id,
                ticket_id=t.id,
                customer_id=t.customer_id,
                after={"kind": "related", "linked_ticket_id": o.id},
            )
    return LinkView(other.id, "related", "earlier" if later is ticket else "later", utcnow())


def do_merge(session: Session, actor: Actor, duplicate_id: int, kept_id: int) -> Ticket:
    """Merge the duplicate into the kept case (both of one customer); returns the kept case."""
    if duplicate_id == kept_id:
        raise KefuError("merge_same_ticket", status_code=422)
    first, second = sorted((duplicate_id, kept_id))  # lock in id order: two merges cannot deadlock
    locked = {
        t.id: t
        for t in (
            access_ticket(session, actor, first, for_update=True),
            access_ticket(session, actor, second, for_update=True),
        )
    }
    duplicate, kept = locked[duplicate_id], locked[kept_id]
    for t in (duplicate, kept):
        if t.merged_into_id is not None:
            raise Conflict("ticket_merged", into=t.merged_into_id)
    if duplicate.customer_id != kept.customer_id:
        raise Conflict("merge_other_customer")
    now = utcnow()
    before = snapshot(kept)
    moved = session.execute(
        update(Message)
        .where(Message.ticket_id == duplicate.id)
        .values(ticket_id=kept.id)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    folded = merge(TicketTriage.of(kept), TicketTriage.of(duplicate))
    kept.priority, kept.risks, kept.priority_reason = (
        folded.priority,
        list(folded.risks),
        folded.priority_reason,
    )
    kept.intent, kept.category = folded.intent, folded.category
    kept.tags = tags_by_name(
        session, [t.name for t in kept.tags] + [t.name for t in duplicate.tags]
    )
    kept.repeat_complaint = kept.repeat_complaint or duplicate.repeat_complaint
    waiting = [
        t for t in (kept.awaiting_reply_since, duplicate.awaiting_reply_since) if t is not None
    ]
    kept.awaiting_reply_since = (
        min(waiting) if waiting and kept.status not in ("resolved", "closed") else None
    )
    kept.last_message_at = max(
        t for t in (kept.last_message_at, duplicate.last_message_at, now) if t is not None
    )
    kept.updated_at = now
    sla.on_replan(kept, now)
    if duplicate.status != TicketStatus.CLOSED.value:
        move_status(duplicate, TicketStatus.CLOSED, now=now, reopen=False)
    duplicate.merged_into_id = kept.id
    duplicate.waiting_on = None
    duplicate.updated_at = now
    session.flush()
    search_index.move_messages(session, from_ticket=duplicate.id, to_ticket=kept.id)
    search_index.indexed_ticket(session, kept)  # with the duplicate's tags
    add_link(session, duplicate.id, kept.id, "merged", actor.user_id)
    old, new = audit.changed_fields(before, snapshot(kept))
    audit.record(
        session,
        actor,
        "ticket.merge",
        object_type="ticket",
        object_id=kept.id,
        ticket_id=kept.id,
        customer_id=kept.customer_id,
        before=old or None,
        after={**new, "merged_ticket_id": duplicate.id, "messages_moved": moved},
    )
    audit.record(
        session,
        actor,
        "ticket.merged_into",
        object_type="ticket",
        object_id=duplicate.id,
        ticket_id=duplicate.id,
        customer_id=duplicate.customer_id,
        after={"merged_into_id": kept.id, "messages_moved": moved, "status": duplicate.status},
    )
    events.record(
        session,
        ev.TicketChanged(kept.id, fields=tuple(sorted({*new, "messages"}))),
        ev.TicketChanged(duplicate.id, fields=("merged_into_id", "status")),
    )
    return kept
