"""Changing many cases at once from the inbox: assign, add a tag, close.

Each case goes through the same service as a change of one case (``do_assign``,
``do_update_ticket``; closing through the case loop, so a complaint that has not gone through its
steps refuses to close) in a savepoint of its own: a case that refuses is reported with the
reason and changes nothing, the others are changed all the same. Cases are locked one after
another in id order, so two bulk changes at once never wait on each other in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from kefu.db.models import Ticket, User
from kefu.domain.case_loop import Policy
from kefu.domain.tickets import TicketStatus
from kefu.errors import KefuError, NotFound
from kefu.services.actors import Actor
from kefu.services.cases import tickets
from kefu.services.events import unit_of_work as events

MAX_TICKETS = 200  # one request changes at most this many cases


@dataclass(frozen=True)
class Refusal:
    ticket_id: int
    subject: str  # empty when the case is not visible (it is then "not found")
    error: KefuError


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _each(
    session: Session, actor: Actor, ticket_ids: Collection[int], change: Callable[[Ticket], object]
) -> BulkResult:
    if len(ticket_ids) > MAX_TICKETS:
        raise KefuError("validation_error", status_code=422, details={"max_tickets": MAX_TICKETS})
    result = BulkResult()
    for ticket_id in sorted(set(ticket_ids)):
        subject = ""
        try:
            with events.savepoint(session):
                ticket = tickets.access_ticket(session, actor, ticket_id, for_update=True)
                subject = ticket.subject
                change(ticket)
                session.flush()
        except KefuError as e:
            result.refused.append(Refusal(ticket_id, subject, e))
        else:
            result.done.append(ticket_id)
    return result


def do_bulk_assign(
    session: Session, actor: Actor, ticket_ids: Collection[int], *, assignee_id: int
) -> BulkResult:
    """Assign the cases to one person (an active staff member, else 404 for the whole request)."""
    assignee = session.get(User, assignee_id)
    if assignee is None or not assignee.is_active:
        raise NotFound("user", details={"field": "assignee_id"})
    return _each(
        session,
        actor,
        ticket_ids,
        lambda t: tickets.do_assign(session, actor, t, assignee_id=assignee_id),
    )


def do_bulk_tag(
    session: Session, actor: Actor, ticket_ids: Collection[int], *, tag: str
) -> BulkResult:
    """Add one tag to the cases (a new name makes a new tag); their other tags stay."""
    name = tag.strip()
    if not name or len(name) > 50:
        raise KefuError("validation_error", status_code=422, details={"field": "tag"})
    return _each(
        session,
        actor,
        ticket_ids,
        lambda t: tickets.do_update_ticket(
            session, actor, t, {"tags": [*(x.name for x in t.tags), name]}
        ),
    )


def do_bulk_close(
    session: Session,
    actor: Actor,
    ticket_ids: Collection[int],
    *,
    policy: Policy,
) -> BulkResult:
    """Close the cases through the case loop; a complaint not through its steps is refused."""
    return _each(
        session,
        actor,
        ticket_ids,
        lambda t: tickets.do_update_ticket(
            session, actor, t, {"status": TicketStatus.CLOSED.value}, policy
        ),
    )
