"""The due times of the lifecycle rules, kept beside the ticket (``ticket_automation_state``).

``follow`` is called by the one writer of a ticket's status and wait (``cases.write_state``), in
its transaction, so the sweep finds a due time exactly when the domain would act. A stale row
is harmless: the sweep decides again from the locked ticket before it acts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, object_session

from kefu.db.models import Ticket, TicketAutomationState
from kefu.domain import automations as auto
from kefu.domain.case_file import case_of
from kefu.domain.case_loop import Waiting
from kefu.settings import Settings, get_settings


def policy_of(settings: Settings) -> auto.LifecyclePolicy:
    def hours(value: float) -> timedelta | None:
        return timedelta(hours=value) if value > 0 else None

    return auto.LifecyclePolicy(
        close_resolved_after=hours(settings.auto_close_resolved_hours),
        nudge_after=hours(settings.auto_nudge_hours),
        close_unanswered_after=hours(settings.auto_close_unanswered_hours),
    )


def facts_of(ticket: Ticket, row: TicketAutomationState | None) -> auto.LifecycleFacts:
    case = replace(case_of(ticket), resolved_at=ticket.resolved_at)
    return auto.LifecycleFacts(
        case,
        waiting_since=row.waiting_since if row is not None else None,
        nudged_at=row.nudged_at if row is not None else None,
    )


def follow(
    ticket: Ticket, now: datetime, policy: auto.LifecyclePolicy | None = None
) -> TicketAutomationState | None:
    """Bring the ticket's due times in line with its case (the ticket is in a session)."""
    session = object_session(ticket)
    if session is None or ticket.id is None:
        return None
    return follow_in(session, ticket, now, policy or policy_of(get_settings()))


def follow_in(
    session: Session, ticket: Ticket, now: datetime, policy: auto.LifecyclePolicy
) -> TicketAutomationState:
    row = session.get(TicketAutomationState, ticket.id)
    if row is None:
        row = TicketAutomationState(ticket_id=ticket.id)
        session.add(row)
    if ticket.waiting_on == Waiting.CUSTOMER.value:
        row.waiting_since = row.waiting_since or now
    else:  # a wait that ended (the customer wrote, an agent resumed): its nudge with it
        row.waiting_since, row.nudged_at = None, None
    facts = facts_of(ticket, row)
    row.close_due_at = auto.close_resolved_due(facts, policy) or auto.close_unanswered_due(
        facts, policy
    )
    row.nudge_due_at = auto.nudge_due(facts, policy)
    dues = [d for d in (row.close_due_at, row.nudge_due_at) if d is not None]
    row.due_at = min(dues) if dues else None
    return row
