"""Compensations waiting for approval (分级授权): which cases ask someone to approve or reject.

A compensation above its proposer's authority waits until someone whose authority covers it
approves or rejects it — a step of the case's loop (``loop.do_step`` with ``Approve`` or
``Reject``). ``awaiting`` lists the ones the actor may decide on among the tickets the actor
may see: the supervisor board and the approvals list read it. The question is asked of the
stored case file with the database's JSON functions (SQLite ``json_extract``, PostgreSQL
``->>``), among open tickets only (their status index narrows the scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from kefu.db.models import Ticket
from kefu.domain import case_loop as cw
from kefu.domain.case_file import case_of
from kefu.domain.roles import Role
from kefu.domain.tickets import TicketStatus
from kefu.services.actors import Actor
from kefu.services.cases.tickets import visible_tickets

WORKING = (TicketStatus.NEW.value, TicketStatus.OPEN.value, TicketStatus.PENDING.value)
PROPOSERS = (Role.AGENT, Role.SPECIALIST, Role.SUPERVISOR)  # an admin's proposal is settled


@dataclass(frozen=True)
class PendingApproval:
    """One compensation awaiting a decision, as the approval form shows it."""

    ticket_id: int
    subject: str
    customer_name: str
    group_name: str | None
    stage: str
    solution: str
    kind: str
    amount: int  # fen
    proposed_by: Role
    needed_role: Role
    updated_at: datetime


def _awaiting_condition(actor: Actor, limits: cw.AuthorityLimits) -> Any:
    """SQL: the ticket's compensation is above its proposer's authority, undecided, and within
    the actor's own authority."""

    def field(name: str) -> Any:
        return Ticket.case_file[("compensation", name)]

    amount = field("amount").as_integer()
    proposer = field("proposed_by").as_string()
    above_proposer = or_(
        *(
            and_(proposer == role.value, amount > limits.limit(role))
            for role in PROPOSERS
            if limits.limit(role) is not None
        )
    )
    conditions = [
        Ticket.status.in_(WORKING),
        Ticket.merged_into_id.is_(None),
        above_proposer,
        field("approved_by").as_string().is_(None),
        field("rejected_by").as_string().is_(None),
        visible_tickets(actor),
    ]
    own = limits.limit(actor.role)
    if own is not None:
        conditions.append(amount <= own)
    return and_(*conditions)


def awaiting(
    session: Session, actor: Actor, policy: cw.Policy, *, limit: int = 50
) -> list[PendingApproval]:
    """The compensations ``actor`` may approve or reject, the longest waiting first."""
    query = (
        select(Ticket)
        .where(_awaiting_condition(actor, policy.limits))
        .options(joinedload(Ticket.customer), joinedload(Ticket.group))
        .order_by(Ticket.updated_at, Ticket.id)
        .limit(limit)
    )
    return [_pending(t, policy) for t in session.scalars(query)]


def count_awaiting(session: Session, actor: Actor, policy: cw.Policy) -> int:
    query = select(func.count()).select_from(Ticket)
    return session.scalar(query.where(_awaiting_condition(actor, policy.limits))) or 0


def pending_of(ticket: Ticket, policy: cw.Policy) -> PendingApproval | None:
    """The ticket's compensation if it awaits approval, else None."""
    if ticket.merged_into_id is not None:
        return None
    comp = case_of(ticket).compensation
    if comp is None or not comp.awaiting_approval(policy.limits):
        return None
    return _pending(ticket, policy)


def _pending(ticket: Ticket, policy: cw.Policy) -> PendingApproval:
    case = case_of(ticket)
    comp = case.compensation
    assert comp is not None  # the query selected tickets with one
    return PendingApproval(
        ticket_id=ticket.id,
        subject=ticket.subject,
        customer_name=ticket.customer.name,
        group_name=ticket.group.name if ticket.group else None,
        stage=case.stage.value,
        solution=case.solution,
        kind=comp.kind,
        amount=comp.amount,
        proposed_by=comp.proposed_by,
        needed_role=policy.limits.approver_for(comp.amount),
        updated_at=ticket.updated_at,
    )
