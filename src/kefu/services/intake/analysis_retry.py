"""Analyzing again the customer messages whose analysis failed.

Intake stores a message whose analysis raised all the same (store first) and flags it:
``analysis_error``, ``analysis_attempts`` and ``analysis_retry_at`` on the message. This job
(run by the periodic loops of services/sla_sweeper.py) takes the flagged messages whose retry
time has come, analyzes them again, stores the analysis on the message, clears the flag and
applies the triage to the ticket as intake would have (services/intake/message_triage.py: priority
never falls, a crisis on a routed case routes it again, the same ``ticket.triage`` event).
A message that fails again waits longer each time, so a message the analyzer can never read
costs one try every few hours, not a tight loop. Rows are taken with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Ticket
from kefu.domain import analysis_retry as retry_rules
from kefu.domain import case_planner as planner
from kefu.domain import repeat_complaints
from kefu.domain.ticket_triage import TicketTriage
from kefu.domain.tickets import AuthorType
from kefu.nlp.analysis import Analysis, Analyzer
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases import loop as cases
from kefu.services.intake import message_triage

log = logging.getLogger(__name__)


@dataclass
class RetryReport:
    analyzed: int = 0
    failed: int = 0


def due_messages(session: Session, now: datetime, limit: int) -> list[Message]:
    """Flagged messages whose retry time has come, locked; rows another worker holds are skipped."""
    query = (
        select(Message)
        .where(Message.analysis_retry_at <= now)
        .order_by(Message.analysis_retry_at, Message.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Message)
    return list(session.scalars(query))


def retry_failed_analyses(
    session: Session,
    analysis: Callable[[], Analyzer],
    now: datetime,
    *,
    limit: int = 100,
    repeat_window: timedelta = repeat_complaints.WINDOW,
) -> RetryReport:
    """One batch of due messages, in the caller's transaction (commit after). ``analysis``
    gives the analyzer, called only when there is something to analyze."""
    report = RetryReport()
    messages = due_messages(session, now, limit)
    if not messages:
        return report
    # The tickets in id order, so two workers locking some of the same tickets cannot deadlock.
    ticket_query = (
        select(Ticket).where(Ticket.id.in_({m.ticket_id for m in messages})).order_by(Ticket.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        ticket_query = ticket_query.with_for_update(of=Ticket)
    tickets = {t.id: t for t in session.scalars(ticket_query)}
    for message in messages:
        try:
            result = analysis().analyze(message.body_text)
        except Exception as e:
            report.failed += 1
            message.analysis_attempts += 1
            message.analysis_error = f"{type(e).__name__}: {e}"[:2000]
            message.analysis_retry_at = now + retry_rules.delay_after(message.analysis_attempts)
            log.warning(
                "analysis of message %d failed again (attempt %d); next try at %s",
                message.id,
                message.analysis_attempts,
                message.analysis_retry_at.isoformat(),
                exc_info=True,
            )
            continue
        message.analysis = result.to_json()
        message.analysis_error, message.analysis_retry_at = None, None
        ticket = tickets[message.ticket_id]
        if apply_late_analysis(
            session, SYSTEM, ticket, result, now, latest=_latest(session, message)
        ):
            cases.flag_repeat_complaint(session, SYSTEM, ticket, repeat_window, now)
        report.analyzed += 1
    session.flush()
    return report


def apply_late_analysis(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    analysis: Analysis,
    now: datetime,
    *,
    latest: bool,
) -> bool:
    """Merge the analysis of one of its messages, analyzed after intake, into a ticket the
    caller has locked, as intake would have. ``latest``: no later customer message was
    analyzed, so this one's mood is the customer's mood now. True if the ticket changed."""
    message = message_triage.triage_of(analysis)
    if not latest:  # keep the mood of the later message the ticket already shows
        message = replace(message, emotion=None, sentiment=None)
    before = TicketTriage.of(ticket)
    result = planner.apply_analysis(
        cases.state_of(ticket), message, message_triage.explanations(analysis)
    )
    after, reasons = result.state.triage, result.reasons
    if after == before:
        return False
    cases.write_state(ticket, result.state, now)  # triage, route_again, the case's path
    ticket.updated_at = now
    if message_triage.case_changed(before, after):
        audit.record(
            session,
            actor,
            "ticket.triage",
            object_type="ticket",
            object_id=ticket.id,
            ticket_id=ticket.id,
            customer_id=ticket.customer_id,
            before=before.to_json(),
            after={**after.to_json(), "reasons": reasons},
        )
    return True


def _latest(session: Session, message: Message) -> bool:
    """No later customer message of its ticket was analyzed (its mood is the newer one)."""
    later = exists().where(
        Message.ticket_id == message.ticket_id,
        Message.id > message.id,
        Message.author_type == AuthorType.CUSTOMER.value,
        Message.analysis_error.is_(None),
    )
    return not session.scalar(select(later))


def retry_until_done(
    session_factory: Callable[[], Session],
    analysis: Callable[[], Analyzer],
    now: Callable[[], datetime],
    *,
    limit: int = 100,
    max_batches: int = 100,
    repeat_window: timedelta = repeat_complaints.WINDOW,
) -> RetryReport:
    """Retry batch after batch, each in its own transaction, until no flagged message is due."""
    total = RetryReport()
    for _ in range(max_batches):
        with session_factory() as session:
            report = retry_failed_analyses(
                session, analysis, now(), limit=limit, repeat_window=repeat_window
            )
            session.commit()
        total.analyzed += report.analyzed
        total.failed += report.failed
        if report.analyzed + report.failed < limit:
            break
    if total.analyzed or total.failed:
        log.info("analysis retry: %d analyzed, %d failed again", total.analyzed, total.failed)
    return total
