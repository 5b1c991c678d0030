"""The automation sweep: lifecycle steps whose time has come, and time triggers.

Tickets whose ``auto_due_at`` has come are taken locked (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the work); the domain decides again from the
locked ticket (``lifecycle_step``), so a stale due time does nothing. A close goes through the
status machine and the case loop (``do_update_ticket``), a nudge through the normal reply path
and the outbox; both are audited as the system acting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AutomationEvent, Customer, Ticket
from kefu.domain import automations as auto
from kefu.domain.tickets import TicketStatus
from kefu.errors import KefuError
from kefu.services import audit
from kefu.services.actors import SYSTEM
from kefu.services.automations import queue, state, triggers

NUDGE_ZH = "您好，您的问题我们一直在跟进。请问还需要我们提供什么帮助吗？如有任何问题，回复此消息即可，我们随时为您服务。"  # noqa: E501
NUDGE_EN = (
    "Hello, we are still here for your request. Is there anything else we can help you with? "
    "Just reply to this message and we will pick it up."
)
TIME_BATCH = 200


@dataclass
class SweepReport:
    closed: int = 0
    nudged: int = 0
    triggers_fired: int = 0
    failed: int = 0


def nudge_text(customer: Customer | None) -> str:
    language = (getattr(customer, "language", None) or "").lower()
    return NUDGE_EN if language.startswith("en") else NUDGE_ZH


def due_tickets(session: Session, now: datetime, limit: int) -> list[Ticket]:
    query = (
        select(Ticket).where(Ticket.auto_due_at <= now).order_by(Ticket.auto_due_at).limit(limit)
    )
    if _lock(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def step_ticket(
    session: Session, ticket: Ticket, now: datetime, policy: auto.LifecyclePolicy
) -> str | None:
    """Take the lifecycle step due on a locked ticket, if any; returns its name."""
    step = auto.lifecycle_step(state.facts_of(ticket), policy, now)
    if step is None or ticket.merged_into_id is not None:
        state.follow(ticket, now, policy)
        if ticket.merged_into_id is not None:
            ticket.auto_due_at = None
        return None
    kind, _actions = step
    if kind == auto.LifecycleStep.NUDGE:
        from kefu.services.cases.tickets import do_add_message

        text = nudge_text(session.get(Customer, ticket.customer_id))
        do_add_message(session, SYSTEM, ticket, text=text, internal=False)
        ticket.auto_nudged_at = now
    else:
        from kefu.services.cases.tickets import do_update_ticket

        do_update_ticket(session, SYSTEM, ticket, {"status": TicketStatus.CLOSED.value})
    audit.record(session, SYSTEM, "automation.lifecycle", object_type="ticket",
                 object_id=ticket.id, ticket_id=ticket.id, customer_id=ticket.customer_id,
                 after={"step": kind.value})  # fmt: skip
    state.follow(ticket, now, policy)
    return kind.value


def sweep_once(
    session: Session, now: datetime, policy: auto.LifecyclePolicy, *, batch: int = 100
) -> SweepReport:
    """One batch of due lifecycle steps, in the caller's transaction (commit after)."""
    report = SweepReport()
    for ticket in due_tickets(session, now, batch):
        try:
            with session.begin_nested():
                done = step_ticket(session, ticket, now, policy)
        except KefuError as e:  # refused by the loop or the norms: not tried again this wait
            report.failed += 1
            ticket.auto_due_at = None
            audit.record(session, SYSTEM, "automation.refused", object_type="ticket",
                         object_id=ticket.id, ticket_id=ticket.id, after={"code": e.code})  # fmt: skip
            continue
        if done == auto.LifecycleStep.NUDGE:
            report.nudged += 1
        elif done is not None:
            report.closed += 1
    session.flush()
    return report


def _lock(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def run_time_triggers(session: Session, now: datetime, *, batch: int = TIME_BATCH) -> int:
    """Time triggers over the open tickets they may concern (once per ticket and trigger). The
    tickets are walked by id in batches, so tickets whose conditions do not hold (yet) never
    starve the ones after them."""
    fired = 0
    for trigger in triggers.active_triggers(session, auto.Event.TIME):
        assert trigger.after is not None
        since = getattr(Ticket, trigger.after.since)
        last_id = 0
        while True:
            query = (
                select(Ticket)
                .where(
                    Ticket.id > last_id,
                    Ticket.status != TicketStatus.CLOSED.value,
                    Ticket.merged_into_id.is_(None),
                    since <= now - trigger.after.delay,
                    ~Ticket.id.in_(_fired_ids(trigger.name)),
                )
                .order_by(Ticket.id)
                .limit(batch)
            )
            if _lock(session):
                query = query.with_for_update(skip_locked=True, of=Ticket)
            tickets = list(session.scalars(query))
            for ticket in tickets:
                fired += len(triggers.fire(session, ticket, auto.Event.TIME, now, [trigger]))
            if len(tickets) < batch:
                break
            last_id = tickets[-1].id
    return fired


def run_event_triggers(session: Session, now: datetime, *, batch: int = TIME_BATCH) -> int:
    """Fire the event triggers on one batch of queued ticket events; returns the rows taken."""
    query = select(AutomationEvent).order_by(AutomationEvent.id).limit(batch)
    if _lock(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    if not rows:
        return 0
    by_event = {e: triggers.active_triggers(session, e) for e in auto.Event}
    for row in rows:
        ticket = session.get(Ticket, row.ticket_id, with_for_update=_lock(session))
        event = auto.Event(row.event)
        if ticket is not None and by_event[event]:
            triggers.fire(session, ticket, event, now, by_event[event])
        session.delete(row)
    session.flush()
    return len(rows)


def _fired_ids(name: str):  # type: ignore[no-untyped-def]
    from kefu.db.models import AutomationFiring

    return select(AutomationFiring.ticket_id).where(AutomationFiring.trigger_name == name)


def sweep_until_done(
    sessions: Callable[[], Session], now: Callable[[], datetime], policy: auto.LifecyclePolicy
) -> SweepReport:
    total = SweepReport()
    while True:
        with sessions() as session:
            report = sweep_once(session, now(), policy)
            session.commit()
        total.closed += report.closed
        total.nudged += report.nudged
        total.failed += report.failed
        if report.closed + report.nudged + report.failed == 0:
            break
    while True:
        with sessions() as session:
            session.info[queue.FIRING] = True
            taken = run_event_triggers(session, now())
            total.triggers_fired += _count_firings(session)
            session.commit()
        if not taken:
            break
    with sessions() as session:
        session.info[queue.FIRING] = True
        run_time_triggers(session, now())
        total.triggers_fired += _count_firings(session)
        session.commit()
    return total


def _count_firings(session: Session) -> int:
    return int(session.info.pop(triggers.FIRED_COUNT, 0))
