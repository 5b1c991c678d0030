"""What the workspace's ticket page (工单详情) shows of one case, for one reader.

``load`` reads it in a fixed number of queries however long the case is: its messages with
their attachments, the names of their authors, the events of its trail (the Chinese lines of
services/cases/timeline.py), the SLA clocks, where routing sent it and why, the people and groups
it may be handed to, the channels a reply may take and its links. ``neighbours`` says which
tickets come before and after it in the reader's queue (the j / k keys). Reading only: every
change goes through the services that own it (tickets, links, loop, outbound).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from kefu.db.base import utcnow
from kefu.db.models import (
    Attachment,
    AuditEvent,
    Customer,
    Group,
    Message,
    OutboxEntry,
    Survey,
    Ticket,
    User,
    group_members,
)
from kefu.domain.delivery import DeliveryState
from kefu.domain.speaking_rate import CallSummary
from kefu.domain.tickets import OPEN_STATUSES, Channel
from kefu.errors import NotFound
from kefu.services.actors import Actor
from kefu.services.cases import links as case_links
from kefu.services.cases import timeline
from kefu.services.cases.calls import call_summary
from kefu.services.cases.routing import HANDLER_ROLES
from kefu.services.cases.tickets import access_ticket, reply_channels, visible_tickets
from kefu.services.sla import clocks as sla

RETRYABLE = (DeliveryState.DEAD.value, DeliveryState.FAILED.value)
MAX_ASSIGNEES = 200  # people offered in the assign list of a case without a group
MAX_QUEUE = 500  # tickets of a queue looked at for the previous / next one


@dataclass(frozen=True)
class TimelineItem:
    """One line of the timeline: a message, or an event of the trail (timeline.event_entries)."""

    at: datetime
    message: Message | None = None
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    staff_names: dict[int, str]  # authors of replies and notes
    customer_names: dict[int, str]  # authors of customer messages (a merged customer's too)
    retry_ids: dict[int, int]  # message id → outbox id of a reply that may be sent again


@dataclass(frozen=True)
class TicketSummary:
    """The case without its timeline: what its header and its actions show."""

    ticket: Ticket
    customer: Customer
    clocks: list[dict[str, Any]]
    routing_reason: str | None
    assignees: list[User]
    groups: list[Group]
    reply_channels: list[str]
    links: list[case_links.LinkView]
    # A phone case's calls: the speaking rate of its agent turns (None: no call transcript).
    call: CallSummary | None = None
    survey: Survey | None = None  # the case's satisfaction survey or follow-up, if it has one


@dataclass(frozen=True)
class TicketPage:
    summary: TicketSummary
    timeline: Timeline

    @property
    def ticket(self) -> Ticket:
        return self.summary.ticket


def load(session: Session, actor: Actor, ticket_id: int) -> TicketPage:
    """The page of a ticket the actor may see (404 otherwise, as ``access_ticket``)."""
    summary = summarize(session, actor, ticket_id)
    return TicketPage(summary, load_timeline(session, actor, summary.ticket))


def summarize(session: Session, actor: Actor, ticket_id: int) -> TicketSummary:
    """The header and actions of a ticket the actor may see (404 otherwise)."""
    ticket = access_ticket(session, actor, ticket_id)
    routed = session.scalar(
        select(AuditEvent.after)
        .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "ticket.route")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    evaluation = sla.evaluate_ticket(ticket, sla.Policies.load(session), utcnow())
    return TicketSummary(
        ticket=ticket,
        customer=ticket.customer,
        clocks=sla.public_clocks(evaluation),
        routing_reason=(routed or {}).get("reason"),
        assignees=assignees_for(session, ticket),
        groups=list(session.scalars(select(Group).order_by(Group.name))),
        reply_channels=reply_channels(session, ticket),
        links=case_links.links_of(session, actor, ticket),
        call=call_summary(session, ticket) if ticket.channel == Channel.PHONE.value else None,
        survey=session.scalar(select(Survey).where(Survey.ticket_id == ticket.id)),
    )


def load_timeline(session: Session, actor: Actor, ticket: Ticket) -> Timeline:
    """Messages and events in the order they happened (a message before an event of the same
    instant); attachments, authors and retryable deliveries read in bulk."""
    messages = list(
        session.scalars(select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id))
    )
    files: dict[int, list[Attachment]] = {m.id: [] for m in messages}
    for attachment in session.scalars(  # one query by the ticket, not by 200 message ids
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.ticket_id == ticket.id)
        .order_by(Attachment.id)
    ):
        files.setdefault(attachment.message_id, []).append(attachment)
    for message in messages:
        set_committed_value(message, "attachments", files[message.id])
    events = timeline.event_entries(session, ticket)
    items = [TimelineItem(m.created_at, message=m) for m in messages]
    items += [TimelineItem(e["at"], event=e) for e in events]
    items.sort(key=lambda item: (item.at, item.message is None))
    user_ids = {m.author_user_id for m in messages if m.author_user_id is not None}
    customer_ids = {m.author_customer_id for m in messages if m.author_customer_id is not None}
    staff_names = _names(session, User, user_ids)
    customer_names = _names(session, Customer, customer_ids)
    return Timeline(items, staff_names, customer_names, _retry_ids(session, actor, messages))


def _names(session: Session, model: type[User] | type[Customer], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(ids)))
    return {row_id: name for row_id, name in rows}


def _retry_ids(session: Session, actor: Actor, messages: list[Message]) -> dict[int, int]:
    """The outbox rows of replies that failed or died, for those who may send them again: the
    outbox's replay is an admin's (services/outbound/replay.py), as in the API."""
    stuck = [m.id for m in messages if m.delivery_state in RETRYABLE]
    if not stuck or not actor.is_admin:
        return {}
    rows = session.execute(
        select(OutboxEntry.message_id, OutboxEntry.id)
        .where(OutboxEntry.message_id.in_(stuck), OutboxEntry.state.in_(RETRYABLE))
        .order_by(OutboxEntry.id)
    )
    return {message_id: outbox_id for message_id, outbox_id in rows if message_id is not None}


def delivery_of(
    session: Session, actor: Actor, ticket: Ticket, message_id: int
) -> tuple[Message, int | None]:
    """One reply of the ticket and the outbox row to send it again with, if any (404 for a
    message of another ticket)."""
    message = session.scalar(
        select(Message).where(Message.id == message_id, Message.ticket_id == ticket.id)
    )
    if message is None:
        raise NotFound("message")
    return message, _retry_ids(session, actor, [message]).get(message.id)


def assignees_for(session: Session, ticket: Ticket) -> list[User]:
    """Whom the case may be handed to: the active members of its group; for a case without a
    group, the active agents and specialists."""
    query = select(User).where(User.is_active.is_(True)).order_by(User.name, User.id)
    if ticket.group_id is not None:
        query = query.join(group_members, group_members.c.user_id == User.id).where(
            group_members.c.group_id == ticket.group_id
        )
    else:
        query = query.where(User.role.in_(HANDLER_ROLES)).limit(MAX_ASSIGNEES)
    return list(session.scalars(query))


QUEUES = ("mine", "unassigned", "groups")


def neighbours(
    session: Session, actor: Actor, ticket: Ticket, queue: str
) -> tuple[int | None, int | None]:
    """The tickets before and after this one in one of the reader's open queues — ``mine``
    (default), ``unassigned`` or ``groups`` (my groups') — in the inbox's default order, the
    soonest SLA deadline first. A ticket outside the queue leads to its first and last."""
    query = select(
        Ticket.id,
        Ticket.first_response_due_at,
        Ticket.next_response_due_at,
        Ticket.resolution_due_at,
    ).where(visible_tickets(actor), Ticket.status.in_([s.value for s in OPEN_STATUSES]))
    if queue == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None))
    elif queue == "groups":
        query = query.where(Ticket.group_id.in_(actor.group_ids))
    else:
        query = query.where(Ticket.assignee_id == actor.user_id)
    rows = session.execute(query.order_by(Ticket.id.desc()).limit(MAX_QUEUE)).all()
    ordered = [row.id for row in sorted(rows, key=_soonest_first)]
    if ticket.id not in ordered:
        return (ordered[-1], ordered[0]) if ordered else (None, None)
    at = ordered.index(ticket.id)
    before = ordered[at - 1] if at > 0 else None
    after = ordered[at + 1] if at + 1 < len(ordered) else None
    return before, after


def _soonest_first(row: Any) -> tuple[bool, datetime | None, int]:
    due = [d for d in row[1:] if d is not None]
    soonest = min(due) if due else None
    return (soonest is None, soonest, row.id)
