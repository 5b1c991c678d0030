"""The due time of the lifecycle rules, kept on the ticket (``tickets.auto_due_at``).

``follow`` is called by the one writer of a ticket's status and wait (``cases.write_state``), in
its transaction, so the sweep finds a due time exactly when the domain would act. It only sets
columns of the ticket being written: a status write locks no row but the ticket's own (a second
row, written in whatever order the flush chose, deadlocked bursts of writers on PostgreSQL). A
stale due time is harmless: the sweep decides again from the locked ticket before it acts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.orm import Session, object_session

from kefu.db.models import Ticket
from kefu.domain import automations as auto
from kefu.domain.case_file import case_of
from kefu.domain.case_loop import Waiting
from kefu.services.automations import timing


def policy_in(session: Session | None) -> auto.LifecyclePolicy:
    """The lifecycle rules in force: the team's timing as admins set it (services/automations/
    timing.py), or the server's settings without a session to read it from."""
    if session is None:
        return timing.defaults().lifecycle()
    return timing.current(session).lifecycle()


def facts_of(ticket: Ticket) -> auto.LifecycleFacts:
    case = replace(case_of(ticket), resolved_at=ticket.resolved_at)
    return auto.LifecycleFacts(
        case, waiting_since=ticket.auto_waiting_since, nudged_at=ticket.auto_nudged_at
    )


def close_due(ticket: Ticket, policy: auto.LifecyclePolicy) -> datetime | None:
    """When the case closes by itself if nothing changes (resolved, or unanswered after a nudge)."""
    facts = facts_of(ticket)
    return auto.close_resolved_due(facts, policy) or auto.close_unanswered_due(facts, policy)


def follow(ticket: Ticket, now: datetime, policy: auto.LifecyclePolicy | None = None) -> None:
    """Bring the ticket's due time in line with its case."""
    policy = policy or policy_in(object_session(ticket))
    if ticket.waiting_on == Waiting.CUSTOMER.value:
        ticket.auto_waiting_since = ticket.auto_waiting_since or now
    else:  # a wait that ended (the customer wrote, an agent resumed): its nudge with it
        ticket.auto_waiting_since, ticket.auto_nudged_at = None, None
    dues = [d for d in (close_due(ticket, policy), auto.nudge_due(facts_of(ticket), policy)) if d]
    ticket.auto_due_at = min(dues) if dues else None
