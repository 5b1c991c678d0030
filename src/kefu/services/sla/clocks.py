"""SLA on tickets: the facts kept on each ticket, its clocks as the API shows them, and the sweep.

Services call the ``on_*`` hooks when something that moves a clock happens (a ticket opens,
a customer writes, an agent answers, the status or priority changes); they only update facts
on the ticket and set ``sla_check_at`` so the sweep looks at it soon. The sweep
(``sweep_once``; ``kefu worker``, or a task inside ``kefu serve``) takes the tickets whose
``sla_check_at`` has come — ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share
the work — derives every clock from the facts (``domain/sla.evaluate``), writes the deadlines
into their columns, records each warning and breach once (``sla_events`` is unique per
ticket and clock run) and acts on the new ones: a warning notifies the assignee; a breach
notifies the supervisors, raises the priority one step and, if configured, sends the case
back to its group's queue. A clock that stopped after its moment (answered or resolved late,
seen by a sweep only afterwards) is recorded for the reports but wakes nobody. A restart loses nothing: the deadlines are columns, the sweep
finds what came due while it was down, and what has fired is on record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu import fault_points
from kefu.db.models import AuditEvent, Group, SlaEvent, SlaPolicy, Ticket
from kefu.domain import events as ev
from kefu.domain import sla
from kefu.domain.business_calendar import BusinessCalendar, from_json
from kefu.domain.sla import Budgets, Evaluation, Pause, Target
from kefu.domain.tickets import Channel, Priority, TicketStatus
from kefu.services import audit
from kefu.services.actors import SYSTEM
from kefu.services.cases import routing
from kefu.services.events import unit_of_work as events

log = logging.getLogger(__name__)

TARGET_NAMES_ZH = {
    Target.FIRST_RESPONSE: "首次响应",
    Target.NEXT_RESPONSE: "后续响应",
    Target.RESOLUTION: "解决",
}
DUE_COLUMNS = {
    Target.FIRST_RESPONSE: "first_response_due_at",
    Target.NEXT_RESPONSE: "next_response_due_at",
    Target.RESOLUTION: "resolution_due_at",
}


@lru_cache(maxsize=1)
def default_calendar() -> BusinessCalendar:
    """Monday to Friday, 09:00-18:00 Beijing time, official holidays and 调休 days."""
    return from_json({})


@lru_cache(maxsize=256)
def _calendar_of(encoded: str) -> BusinessCalendar:
    return from_json(json.loads(encoded))


def calendar_of(group: Group | None) -> BusinessCalendar:
    if group is None or not group.calendar:
        return default_calendar()
    return _calendar_of(json.dumps(group.calendar, sort_keys=True))


# --- facts on the ticket ----------------------------------------------------------------------


def decode_pauses(stored: Iterable[Iterable[str | None]] | None) -> tuple[Pause, ...]:
    out = []
    for start, end in stored or ():
        assert start is not None
        out.append((datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None))
    return tuple(out)


def encode_pauses(pauses: Iterable[Pause]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in pauses]


def facts_of(ticket: Ticket) -> sla.SlaFacts:
    resolved = (
        ticket.resolved_at
        if ticket.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
        else None
    )
    return sla.SlaFacts(
        created_at=ticket.created_at,
        first_response_at=ticket.first_response_at,
        awaiting_reply_since=ticket.awaiting_reply_since,
        resolved_at=resolved,
        pauses=decode_pauses(ticket.sla_pauses),
    )


def on_replan(ticket: Ticket, at: datetime) -> None:
    """Priority or channel changed: the budgets change, the sweep re-plans."""
    ticket.sla_check_at = at


# --- policies -------------------------------------------------------------------------------


class Policies:
    """The budgets per channel × priority: an admin's rows over the defaults of domain/sla.py."""

    def __init__(self, rows: Iterable[SlaPolicy] = ()) -> None:
        self._rows = {(r.channel, r.priority): r for r in rows}

    @classmethod
    def load(cls, session: Session) -> Policies:
        return cls(session.scalars(select(SlaPolicy)))

    def budgets(self, channel: str, priority: str) -> Budgets:
        row = self._rows.get((channel, priority))
        if row is None:
            return sla.default_budgets(_channel(channel), _priority(priority))

        def seconds(value: int | None) -> timedelta | None:
            return None if value is None else timedelta(seconds=value)

        return Budgets(
            seconds(row.first_response_s), seconds(row.next_response_s), seconds(row.resolution_s)
        )


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        return Channel.API


def _priority(value: str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        return Priority.P4


def evaluate_ticket(
    ticket: Ticket,
    policies: Policies,
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> Evaluation:
    calendar = calendar or calendar_of(ticket.group)
    return sla.evaluate(
        facts_of(ticket), policies.budgets(ticket.channel, ticket.priority), calendar, now
    )


def public_clocks(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The clocks as the API shows them: state and working time left, per target."""
    return [
        {
            "target": c.target.value,
            "state": c.state.value,
            "due_at": c.due_at,
            "warn_at": c.warn_at,
            "left_seconds": int(c.left.total_seconds()),
        }
        for c in evaluation.clocks
    ]


# --- the sweep ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSettings:
    batch: int = 500
    reassign_on_breach: bool = False  # a breached case goes back to its group's queue


@dataclass
class SweepReport:
    checked: int = 0
    warnings: int = 0
    breaches: int = 0  # escalated
    late: int = 0  # warnings and breaches of clocks that had already stopped: recorded only
    routed: int = 0  # cases of the shared queue given a group (services/cases/routing.py)
    failed: int = 0  # tickets whose check raised: recorded, rolled back and rescheduled

    def add(self, other: SweepReport) -> None:
        self.checked += other.checked
        self.warnings += other.warnings
        self.breaches += other.breaches
        self.late += other.late
        self.routed += other.routed
        self.failed += other.failed


# A ticket whose check raised is tried again after this, doubling with each failure of the
# last day, up to the cap: retried, but never every round.
FAILED_CHECK_RETRY = timedelta(minutes=1)
FAILED_CHECK_RETRY_CAP = timedelta(hours=6)


def due_tickets(session: Session, now: datetime, limit: int) -> list[Ticket]:
    """Tickets whose check time has come, locked; rows another worker holds are skipped, and
    so are the cases the answering bot holds (routed and timed once it hands them off)."""
    query = (
        select(Ticket)
        .where(Ticket.sla_check_at <= now, Ticket.bot_holds.is_(False))
        .order_by(Ticket.sla_check_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Ticket)
    return list(session.scalars(query))


def sweep_once(
    session: Session, now: datetime, settings: SweepSettings = SweepSettings()
) -> SweepReport:
    """One batch of due tickets, in the caller's transaction (commit after)."""
    report = SweepReport()
    tickets = due_tickets(session, now, settings.batch)
    if not tickets:
        return report
    policies = Policies.load(session)
    rules: list[tuple[Any, Any]] | None = None  # the routing rules, read once per batch when needed
    ids = [t.id for t in tickets]
    done = SweepReport()
    try:
        # The whole batch in one savepoint, flushed once: the usual case, and the fast one.
        with events.savepoint(session):
            for ticket in tickets:
                rules = _check_ticket(session, ticket, now, settings, policies, rules, done)
    except Exception:
        # A ticket the rules cannot read (bad data, a bug) failed the batch: check them again,
        # each in its own savepoint, so that only that one is rolled back and recorded.
        log.warning("sla sweep batch of %d failed; checking its tickets one by one", len(ids))
        done = _sweep_one_by_one(session, ids, now, settings, policies)
    done.checked = len(ids)
    report.add(done)
    session.flush()
    return report


def _sweep_one_by_one(
    session: Session, ids: list[int], now: datetime, settings: SweepSettings, policies: Policies
) -> SweepReport:
    report = SweepReport()
    rules: list[tuple[Any, Any]] | None = None
    for ticket_id in ids:
        ticket = session.get(Ticket, ticket_id)  # still locked by this transaction
        if ticket is None:
            continue
        checked = SweepReport()
        try:
            with events.savepoint(session):  # its events and notices go with it
                rules = _check_ticket(session, ticket, now, settings, policies, rules, checked)
                session.flush()  # its errors surface inside its own savepoint
        except Exception as error:
            report.failed += 1
            _record_failure(session, ticket_id, now, error)
            continue
        report.add(checked)
    return report


def _check_ticket(
    session: Session,
    ticket: Ticket,
    now: datetime,
    settings: SweepSettings,
    policies: Policies,
    rules: list[tuple[Any, Any]] | None,
    report: SweepReport,
) -> list[tuple[Any, Any]] | None:
    """Route, evaluate and act on one locked ticket; returns the routing rules once read."""
    unrouted = ticket.group_id is None or ticket.route_again
    if unrouted:
        rules = routing.configured_rules(session) if rules is None else rules
    if unrouted and routing.route(session, ticket, now, default_calendar(), rules):
        report.routed += 1
        session.flush()
        session.refresh(ticket, ["group"])  # its calendar now sets the deadlines
    evaluation = evaluate_ticket(ticket, policies, now)
    for event in evaluation.due:
        if not _record_once(session, ticket, event, now):
            continue
        if event.after_stop:  # met late: for the record and the reports, nobody to wake
            report.late += 1
            continue
        if event.kind == "warn":
            report.warnings += 1
            _warn(session, ticket, event)
        else:
            report.breaches += 1
            _escalate(session, ticket, event, settings)
            evaluation = evaluate_ticket(ticket, policies, now)  # the new priority's budgets
    _record_met(session, ticket, evaluation, now)
    _write_deadlines(ticket, evaluation)
    return rules


def _record_met(session: Session, ticket: Ticket, evaluation: Evaluation, now: datetime) -> None:
    """A clock that stopped in time, on record as ``met`` with its due time (or, when a pause
    froze the deadline, the moment it stopped): once its column is cleared, the reports still
    know the case had that clock (SLA compliance counts it)."""
    for clock in evaluation.clocks:
        if clock.state != sla.SlaState.MET or clock.stopped_at is None:
            continue
        at = clock.due_at or clock.stopped_at
        met = sla.Event(clock.target, "met", at, clock.started_at, after_stop=True)
        _record_once(session, ticket, met, now)


def _record_failure(session: Session, ticket_id: int, now: datetime, error: Exception) -> None:
    """After the ticket's savepoint was rolled back: log and audit the failure and move the
    ticket's next check out, so the sweep goes on and tries it again later."""
    log.error("sla sweep of ticket %d failed", ticket_id, exc_info=error)
    earlier = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.ticket_id == ticket_id,
            AuditEvent.action == "ticket.sla_sweep_failed",
            AuditEvent.created_at >= now - timedelta(days=1),
        )
    )
    wait = min(FAILED_CHECK_RETRY * 2 ** min(earlier or 0, 20), FAILED_CHECK_RETRY_CAP)
    retry_at = now + wait
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(sla_check_at=retry_at)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        SYSTEM,
        "ticket.sla_sweep_failed",
        object_type="ticket",
        object_id=ticket_id,
        ticket_id=ticket_id,
        after={"error": f"{type(error).__name__}: {error}"[:500], "retry_at": retry_at.isoformat()},
    )


def _record_once(session: Session, ticket: Ticket, event: sla.Event, now: datetime) -> bool:
    """Insert the event unless it is on record; True if this call recorded it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SlaEvent)
        .values(
            ticket_id=ticket.id,
            key=event.key,
            target=event.target.value,
            kind=event.kind,
            due_at=event.at,
            fired_at=now,
        )
        .on_conflict_do_nothing(index_elements=["ticket_id", "key"])
        .returning(SlaEvent.id)
    )
    return session.connection().execute(statement).scalar() is not None


def plan_now(session: Session, ticket: Ticket, now: datetime) -> None:
    """Write the ticket's deadlines at once (as the sweep would on its next round), for a case
    whose promise the person who opened it must see straight away (a mention made a case)."""
    _write_deadlines(ticket, evaluate_ticket(ticket, Policies.load(session), now))


def _write_deadlines(ticket: Ticket, evaluation: Evaluation) -> None:
    for target, column in DUE_COLUMNS.items():
        clock = next(
            (c for c in evaluation.clocks if c.target == target and c.stopped_at is None), None
        )
        setattr(ticket, column, clock.due_at if clock else None)
    ticket.sla_warn_at = first_warning(evaluation)
    ticket.sla_check_at = evaluation.next_check_at


def first_warning(evaluation: Evaluation) -> datetime | None:
    """The earliest warning moment of a clock still running (not stopped, not paused): once it
    has come the case is at risk (the inbox's "SLA at risk" view reads it from its column)."""
    running = (
        c.warn_at
        for c in evaluation.clocks
        if c.stopped_at is None and c.due_at is not None and c.warn_at is not None
    )
    return min(running, default=None)


def _warn(session: Session, ticket: Ticket, event: sla.Event) -> None:
    told = ev.SlaWarned(ticket.id, target=event.target.value, due_at=event.at,
                        assignee_id=ticket.assignee_id, group_id=ticket.group_id)  # fmt: skip
    events.record(session, told)
    audit.record(
        session,
        SYSTEM,
        "ticket.sla_warning",
        object_type="ticket",
        object_id=ticket.id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        after={"target": event.target.value, "due_at": event.at.isoformat()},
    )


def _escalate(session: Session, ticket: Ticket, event: sla.Event, settings: SweepSettings) -> None:
    before = {"priority": ticket.priority, "assignee_id": ticket.assignee_id}
    name = TARGET_NAMES_ZH[event.target]
    new_priority = sla.raised(_priority(ticket.priority))
    if new_priority.value != ticket.priority:
        ticket.priority = new_priority.value
        ticket.priority_reason = f"{new_priority.value}：{name}超时，系统自动升级"
    assignee = ticket.assignee_id
    if settings.reassign_on_breach and assignee is not None:
        ticket.assignee_id = None
    ticket.escalations += 1
    breach = ev.SlaBreached(ticket.id, target=event.target.value, due_at=event.at, priority=ticket.priority,
                            assignee_id=assignee, group_id=ticket.group_id)  # fmt: skip
    changed = ("priority", "assignee_id") if ticket.assignee_id != assignee else ("priority",)
    events.record(session, breach, ev.TicketChanged(ticket.id, fields=changed))
    audit.record(
        session,
        SYSTEM,
        "ticket.sla_breach",
        object_type="ticket",
        object_id=ticket.id,
        ticket_id=ticket.id,
        customer_id=ticket.customer_id,
        before=before,
        after={
            "priority": ticket.priority,
            "assignee_id": ticket.assignee_id,
            "target": event.target.value,
            "due_at": event.at.isoformat(),
        },
    )


def sweep_until_done(
    session_factory: Callable[[], Session],
    now: Callable[[], datetime],
    settings: SweepSettings = SweepSettings(),
    max_batches: int = 1000,
) -> SweepReport:
    """Sweep batch after batch, each in its own transaction, until nothing is due."""
    total = SweepReport()
    for _ in range(max_batches):
        with session_factory() as session:
            report = sweep_once(session, now(), settings)
            if report.checked:
                fault_points.reached("sla.before_commit")
            session.commit()
        if report.checked:
            fault_points.reached("sla.after_commit")
        total.add(report)
        if report.checked < settings.batch:
            break
    return total
