"""From a figure of the dashboard to its tickets (下钻): which cases make a metric's sample (the
denominator) and which of them its count (the numerator), a complaint category of the Pareto
chart, a cell of the breach heat map; listed a page at a time or whole for an export.

The conditions restate, in SQL over the ticket's columns, what ``facts.period_facts`` reads for
``CaseFacts`` (resolved = status resolved or closed; SLA clock = a due column or a breach event;
…), so a drill-down lists the very cases a figure counted. Averages (response and handle times,
CES, transfers per case) have a sample and no count: their numerator is a sum.

Where a figure's sample is not made of cases the drill-down lists the cases behind it: the
answered customer messages of the average response time are those of the cases with a first
response; the survey questions of the response rate those of the cases asked (a survey asking
CSAT and NPS is two questions of one case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select, true
from sqlalchemy.orm import Session

from kefu.db.models import BotConversation, Message, SlaEvent, Survey, Ticket, User
from kefu.domain.case_loop import CasePath, Stage
from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.slices import DEFAULT_TZ
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.services.actors import Actor
from kefu.services.analytics.breakdowns import UNKNOWN
from kefu.services.analytics.facts import NO_FILTERS, Filters, filter_clauses, ticket_ids_query
from kefu.services.analytics.local_time import LocalClock
from kefu.services.analytics.targets import check_reader

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000  # rows in one export file: a period that big is a case for the API


class Part(StrEnum):
    SAMPLE = "sample"  # the denominator: every case the figure was measured on
    COUNTED = "counted"  # the numerator: the sample's cases the figure counts
    OTHERS = "others"  # the sample's cases it does not count (unresolved, breached, …)


@dataclass(frozen=True)
class Drill:
    """What to list; every field narrows. ``category`` is a complaint category (UNKNOWN: none);
    ``weekday`` (1–7) and ``hour`` (0–23) a heat-map cell: cases with a clock that ran out then (a breach due then)."""

    metric: Metric | None = None
    part: Part = Part.SAMPLE
    category: str | None = None
    weekday: int | None = None
    hour: int | None = None


_RESOLVED = Ticket.status.in_((TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value))
_COMPLAINT = Ticket.case_path == CasePath.COMPLAINT.value
_BREACHED = exists().where(  # the clocks the KPI facts read (CaseFacts.sla_breached)
    SlaEvent.ticket_id == Ticket.id,
    SlaEvent.kind == "breach",
    SlaEvent.target.in_(("first_response", "resolution")),
)
_MET = exists().where(  # a clock that stopped in time: the case had it (CaseFacts.has_sla)
    SlaEvent.ticket_id == Ticket.id,
    SlaEvent.kind == "met",
    SlaEvent.target.in_(("first_response", "resolution")),
)
_AGENT_REPLIED = exists().where(
    Message.ticket_id == Ticket.id,
    Message.direction == Direction.OUTBOUND.value,
    Message.author_type == AuthorType.USER.value,
)
_BOT_SOLVED = exists().where(
    BotConversation.ticket_id == Ticket.id, BotConversation.solved_by_bot.is_(True)
)


def _survey(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return exists().where(Survey.ticket_id == Ticket.id, Survey.sent_at.is_not(None), *conditions)


# metric → (the sample, the counted part of it or None for an average)
_CONDITIONS: Mapping[Metric, tuple[ColumnElement[bool], ColumnElement[bool] | None]] = {
    Metric.FIRST_RESPONSE_MEDIAN: (Ticket.first_response_at.is_not(None), None),
    Metric.FIRST_RESPONSE_MEAN: (Ticket.first_response_at.is_not(None), None),
    Metric.AVERAGE_RESPONSE: (Ticket.first_response_at.is_not(None), None),
    Metric.AVERAGE_HANDLE: (_RESOLVED, None),
    Metric.FIRST_CONTACT_RESOLUTION: (_RESOLVED, Ticket.reopen_count == 0),
    Metric.RESOLUTION_RATE: (true(), _RESOLVED),
    Metric.REOPEN_RATE: (or_(_RESOLVED, Ticket.reopen_count > 0), Ticket.reopen_count > 0),
    Metric.SLA_COMPLIANCE: (
        or_(
            Ticket.first_response_due_at.is_not(None),
            Ticket.resolution_due_at.is_not(None),
            _BREACHED,
            _MET,
        ),
        not_(_BREACHED),
    ),
    Metric.ESCALATION_RATE: (true(), Ticket.escalations > 0),
    Metric.TRANSFERS_PER_CASE: (true(), None),
    Metric.SELF_SERVICE_RATE: (_RESOLVED, and_(_BOT_SOLVED, not_(_AGENT_REPLIED))),
    Metric.CSAT: (_survey(Survey.csat.is_not(None)), _survey(Survey.csat >= 4)),
    Metric.NPS: (_survey(Survey.nps.is_not(None)), _survey(Survey.nps >= 9)),
    Metric.CES: (_survey(Survey.ces.is_not(None)), None),
    Metric.SURVEY_RESPONSE_RATE: (_survey(), _survey(Survey.answered_at.is_not(None))),
    Metric.LOOP_COMPLETION: (_COMPLAINT, Ticket.stage == Stage.ARCHIVED.value),
    Metric.REPEAT_COMPLAINT_RATE: (_COMPLAINT, Ticket.repeat_complaint.is_(True)),
}


def has_count(metric: Metric) -> bool:
    """Whether the metric's numerator is a count of cases (a rate), not a sum (an average)."""
    return _CONDITIONS[metric][1] is not None


def _metric_clause(metric: Metric, part: Part) -> ColumnElement[bool]:
    sample, counted = _CONDITIONS[metric]
    if part == Part.SAMPLE or counted is None:
        return sample
    return and_(sample, counted if part == Part.COUNTED else not_(counted))


def drill_query(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    drill: Drill = Drill(),  # noqa: B008 - frozen, never changed
    tz: ZoneInfo = DEFAULT_TZ,
) -> Select[Any]:
    """The ids of the tickets behind ``drill`` (a query to list, count or export)."""
    if drill.weekday is not None and drill.hour is not None:
        clock = LocalClock(session, tz, start)
        in_cell = exists().where(
            SlaEvent.ticket_id == Ticket.id,
            SlaEvent.kind == "breach",
            SlaEvent.due_at >= start,
            SlaEvent.due_at < end,
            clock.weekday(SlaEvent.due_at) == drill.weekday,
            clock.hour(SlaEvent.due_at) == drill.hour,
        )
        query = select(Ticket.id).where(in_cell, *filter_clauses(filters))
    else:
        query = ticket_ids_query(start, end, filters)
    if drill.metric is not None:
        query = query.where(_metric_clause(drill.metric, drill.part))
    if drill.category is not None:
        unknown = drill.category == UNKNOWN
        category = Ticket.category.is_(None) if unknown else Ticket.category == drill.category
        query = query.where(_COMPLAINT, category)
    return query


@dataclass(frozen=True)
class TicketLine:
    id: int
    subject: str
    status: str
    priority: str
    channel: str
    agent: str | None
    created_at: datetime


@dataclass(frozen=True)
class TicketPage:
    lines: list[TicketLine]
    total: int
    page: int
    pages: int


def _lines(session: Session, ids: Select[Any], *, offset: int, limit: int) -> list[TicketLine]:
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.channel,
            User.name,
            Ticket.created_at,
        )  # fmt: skip
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [TicketLine(*row) for row in rows]


def ticket_page(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    drill: Drill = Drill(),  # noqa: B008
    *,
    page: int = 1,
    tz: ZoneInfo = DEFAULT_TZ,
) -> TicketPage:
    """One page of the tickets behind ``drill``, the newest first; supervisors and admins only."""
    check_reader(actor)
    ids = drill_query(session, start, end, filters, drill, tz)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    lines = _lines(session, ids, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return TicketPage(lines, total, page, pages)


def all_tickets(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    drill: Drill = Drill(),  # noqa: B008
    tz: ZoneInfo = DEFAULT_TZ,
) -> list[TicketLine]:
    """Every ticket behind ``drill`` (at most ``EXPORT_LIMIT``), for an export."""
    check_reader(actor)
    ids = drill_query(session, start, end, filters, drill, tz)
    return _lines(session, ids, offset=0, limit=EXPORT_LIMIT)
