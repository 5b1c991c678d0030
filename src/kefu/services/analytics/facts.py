"""The KPI facts of a period, built from rows with set-based queries (no query per ticket).

A case belongs to the period it was opened in (``start <= created_at < end``), narrowed by
``Filters``; a ticket merged into another is left out (its
messages live on in the case it was merged into). What each field of ``CaseFacts`` is read from:

- created_at, first_response_at, closed_at, channel, category, priority, group, assignee,
  path (``case_path``), repeat_complaint: the ticket's columns.
- resolved_at: the ``resolved_at`` column while the case is resolved or closed now (a case
  reopened and still open has None); reopened: ``reopen_count``.
- loop_completed: a complaint whose stage is 总结归档 (``archived``).
- escalated: the case was escalated after an SLA breach (``escalations`` > 0).
- transfers: assignment audit events (``ticket.update``, ``ticket.route``) that moved the case
  from one agent or group to another (a first assignment is not a transfer).
- self_service: the answering bot solved it (``bot_conversations.solved_by_bot``) and no
  agent replied.
- SLA: the deadlines are the due columns (or, once the clock stopped, the due time of its SLA
  event: a breach, or ``met`` for a clock that stopped in time); a clock is breached when
  ``sla_events`` holds a breach of it.
- handle_seconds: agents' working time, estimated from what is recorded: for every public reply
  by an agent, the time since the message before it on the case, capped at ``HANDLE_CAP`` (the
  reading and writing of that reply; a long gap is the agent working on other cases).
- contacts: 1 + the times the case was reopened (a customer coming back about a case answered
  as solved).
- business_line: the ``line:…`` tag (``business_line_of``).

Replies pair each run of customer messages with the next public reply of an agent or the bot.
Survey questions come from the ``surveys`` table (services/surveys/facts.py): one per kind a sent
survey asked, with its score once answered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from kefu.db.models import AuditEvent, BotConversation, Message, SlaEvent, Tag, Ticket
from kefu.db.models.tickets import ticket_tags
from kefu.domain.case_loop import CasePath, Stage
from kefu.domain.kpi.facts import CaseFacts, ReplyFacts, SurveyFacts, business_line_of
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.services.surveys import facts as surveys_facts

HANDLE_CAP = timedelta(minutes=10)
_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)
_ASSIGNING = ("ticket.update", "ticket.route")
_STAFF = (AuthorType.USER.value, AuthorType.BOT.value)


@dataclass(frozen=True)
class Filters:
    """Which cases count: None means any."""

    group_id: int | None = None
    channel: str | None = None
    agent_id: int | None = None


NO_FILTERS = Filters()


@dataclass(frozen=True)
class PeriodFacts:
    cases: list[CaseFacts]
    replies: list[ReplyFacts]
    surveys: list[SurveyFacts]


def ticket_ids_query(start: datetime, end: datetime, filters: Filters) -> Select[Any]:
    """The ids of the period's cases (a subquery for the other reads)."""
    return select(Ticket.id).where(
        Ticket.created_at >= start, Ticket.created_at < end, *filter_clauses(filters)
    )


def filter_clauses(filters: Filters) -> list[ColumnElement[bool]]:
    """The conditions on a ticket's row that ``filters`` sets (merged tickets always left out)."""
    clauses: list[ColumnElement[bool]] = [Ticket.merged_into_id.is_(None)]
    if filters.group_id is not None:
        clauses.append(Ticket.group_id == filters.group_id)
    if filters.channel is not None:
        clauses.append(Ticket.channel == filters.channel)
    if filters.agent_id is not None:
        clauses.append(Ticket.assignee_id == filters.agent_id)
    return clauses


def period_facts(
    session: Session, *, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> PeriodFacts:
    """Every case opened in ``[start, end)`` that passes ``filters``, its replies and surveys."""
    return facts_of(session, ticket_ids_query(start, end, filters))


def facts_of(session: Session, ids: Select[Any]) -> PeriodFacts:
    """The facts of the cases whose ids ``ids`` selects (``ticket_ids_query``, or any select of
    ticket ids: the rollup's batches, services/analytics/rollup.py)."""
    messages = _messages(session, ids)
    return PeriodFacts(
        cases=case_facts(session, ids, messages),
        replies=reply_facts(messages),
        surveys=survey_facts(session, ids),
    )


_MessageRow = tuple[int, str, str, datetime]  # ticket_id, direction, author_type, created_at


def _messages(session: Session, ids: Select[Any]) -> dict[int, list[_MessageRow]]:
    rows = session.execute(
        select(Message.ticket_id, Message.direction, Message.author_type, Message.created_at)
        .where(Message.ticket_id.in_(ids), Message.direction != Direction.NOTE.value)
        .order_by(Message.ticket_id, Message.created_at, Message.id)
    )
    by_ticket: dict[int, list[_MessageRow]] = defaultdict(list)
    for row in rows:
        by_ticket[row[0]].append((row[0], row[1], row[2], row[3]))
    return by_ticket


def _is_staff_reply(row: _MessageRow) -> bool:
    return row[1] == Direction.OUTBOUND.value and row[2] in _STAFF


def reply_facts(messages: dict[int, list[_MessageRow]]) -> list[ReplyFacts]:
    """Each run of customer messages and the staff reply after it (None while unanswered)."""
    pairs: list[ReplyFacts] = []
    for ticket_id in sorted(messages):
        waiting_since: datetime | None = None
        for row in messages[ticket_id]:
            if row[1] == Direction.INBOUND.value and row[2] == AuthorType.CUSTOMER.value:
                waiting_since = waiting_since or row[3]
            elif _is_staff_reply(row) and waiting_since is not None:
                pairs.append(ReplyFacts(ticket_id, waiting_since, row[3]))
                waiting_since = None
        if waiting_since is not None:
            pairs.append(ReplyFacts(ticket_id, waiting_since))
    return pairs


def handle_seconds(rows: Sequence[_MessageRow]) -> float:
    """Agents' working time on a case (see the module docstring)."""
    total = 0.0
    for before, row in zip(rows, rows[1:], strict=False):
        if row[1] == Direction.OUTBOUND.value and row[2] == AuthorType.USER.value:
            total += min(row[3] - before[3], HANDLE_CAP).total_seconds()
    return total


def case_facts(
    session: Session, ids: Select[Any], messages: dict[int, list[_MessageRow]]
) -> list[CaseFacts]:
    tags = _tags(session, ids)
    transfers = _transfers(session, ids)
    bot_solved = set(
        session.scalars(
            select(BotConversation.ticket_id).where(
                BotConversation.ticket_id.in_(ids), BotConversation.solved_by_bot.is_(True)
            )
        )
    )
    breaches = _breaches(session, ids)
    met = _met(session, ids)
    tickets = session.execute(select(*_CASE_COLUMNS).where(Ticket.id.in_(ids)).order_by(Ticket.id))
    facts = []
    for t in tickets:
        rows = messages.get(t.id, [])
        agent_replied = any(r[2] == AuthorType.USER.value and _is_staff_reply(r) for r in rows)
        breached = breaches.get(t.id, {})
        in_time = met.get(t.id, {})
        path = CasePath(t.case_path)
        facts.append(
            CaseFacts(
                ticket_id=t.id,
                created_at=t.created_at,
                channel=t.channel,
                priority=t.priority,
                path=path,
                first_response_at=t.first_response_at,
                resolved_at=t.resolved_at if t.status in _DONE else None,
                closed_at=t.closed_at if t.status == TicketStatus.CLOSED.value else None,
                reopened=t.reopen_count,
                agent_id=t.assignee_id,
                group_id=t.group_id,
                category=t.category,
                business_line=business_line_of(tags.get(t.id, ())),
                loop_completed=path == CasePath.COMPLAINT and t.stage == Stage.ARCHIVED.value,
                repeat_complaint=t.repeat_complaint,
                escalated=t.escalations > 0,
                transfers=transfers.get(t.id, 0),
                self_service=t.id in bot_solved and not agent_replied,
                first_response_due_at=t.first_response_due_at
                or breached.get("first_response")
                or in_time.get("first_response"),
                resolution_due_at=t.resolution_due_at
                or breached.get("resolution")
                or in_time.get("resolution"),
                first_response_breached="first_response" in breached,
                resolution_breached="resolution" in breached,
                handle_seconds=handle_seconds(rows),
                contacts=1 + t.reopen_count,
            )
        )
    return facts


_CASE_COLUMNS = (
    Ticket.id, Ticket.created_at, Ticket.channel, Ticket.priority, Ticket.case_path,
    Ticket.stage, Ticket.status, Ticket.first_response_at, Ticket.resolved_at, Ticket.closed_at,
    Ticket.reopen_count, Ticket.assignee_id, Ticket.group_id, Ticket.category,
    Ticket.repeat_complaint, Ticket.escalations, Ticket.first_response_due_at,
    Ticket.resolution_due_at,
)  # fmt: skip


def _tags(session: Session, ids: Select[Any]) -> dict[int, list[str]]:
    rows = session.execute(
        select(ticket_tags.c.ticket_id, Tag.name)
        .join(Tag, Tag.id == ticket_tags.c.tag_id)
        .where(ticket_tags.c.ticket_id.in_(ids), Tag.name.like("line:%"))
    )
    tags: dict[int, list[str]] = defaultdict(list)
    for ticket_id, name in rows:
        tags[ticket_id].append(name)
    return tags


def _breaches(session: Session, ids: Select[Any]) -> dict[int, dict[str, datetime]]:
    """Each case's breached clocks and the due time each was missed at (the earliest)."""
    return _clock_records(session, ids, "breach")


def _met(session: Session, ids: Select[Any]) -> dict[int, dict[str, datetime]]:
    """Each case's clocks that stopped in time (the sweep's ``met`` records) and their due time:
    once a clock stops its column is cleared, and this is how the case is known to have had it."""
    return _clock_records(session, ids, "met")


def _clock_records(session: Session, ids: Select[Any], kind: str) -> dict[int, dict[str, datetime]]:
    rows = session.execute(
        select(SlaEvent.ticket_id, SlaEvent.target, SlaEvent.due_at)
        .where(SlaEvent.ticket_id.in_(ids), SlaEvent.kind == kind)
        .order_by(SlaEvent.ticket_id, SlaEvent.due_at.desc())
    )
    found: dict[int, dict[str, datetime]] = defaultdict(dict)
    for ticket_id, target, due_at in rows:
        found[ticket_id][target] = due_at
    return found


def _transfers(session: Session, ids: Select[Any]) -> dict[int, int]:
    """How many times each case moved from one agent or group to another."""
    rows = session.execute(
        select(AuditEvent.ticket_id, AuditEvent.before, AuditEvent.after).where(
            AuditEvent.ticket_id.in_(ids), AuditEvent.action.in_(_ASSIGNING)
        )
    )
    counts: dict[int, int] = defaultdict(int)
    for ticket_id, before, after in rows:
        if _moved(before or {}, after or {}):
            counts[ticket_id] += 1
    return counts


def _moved(before: dict[str, Any], after: dict[str, Any]) -> bool:
    for field in ("assignee_id", "group_id"):
        old, new = before.get(field), after.get(field, before.get(field))
        if old is not None and new != old:
            return True
    return False


def survey_facts(session: Session, ids: Select[Any]) -> list[SurveyFacts]:
    """The survey questions of the period's cases (services/surveys/facts.py)."""
    return surveys_facts.survey_facts(session, ids)
