"""From a figure of the dashboard to its tickets (下钻): which cases make a metric's sample (the
denominator) and which of them its count (the numerator), a complaint category of the Pareto
chart, a cell of the breach heat map; listed a page at a time or whole for an export.

A figure is summed from the cases' rows of the KPI rollup (``kpi_case_facts``: each additive
metric's numerator ``<metric>_n`` and denominator ``<metric>_d`` over the case alone), so the
drill-down reads the same rows: the sample is the cases with a denominator, the count those
whose numerator is positive (an NPS promoter, a CSAT of 4–5, a first-contact resolution), the
others the rest of the sample. The cases changed since the last refresh are read as they are
now, as the figures fold them in (``rollup_read.FOLD_LIMIT``). Averages (response and handle
times, CES, transfers per case) have a sample and no count. A heat-map cell lists the cases
with an SLA breach due in that local weekday and hour (``sla_events``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from kefu.db.models import SlaEvent, Ticket, User
from kefu.db.models.analytics import kpi_case_facts
from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.metrics import ADDITIVE, Metric
from kefu.domain.kpi.slices import DEFAULT_TZ
from kefu.services.actors import Actor
from kefu.services.analytics.breakdowns import UNKNOWN
from kefu.services.analytics.facts import NO_FILTERS, Filters, filter_clauses
from kefu.services.analytics.local_time import LocalClock
from kefu.services.analytics.rollup_read import FOLD_LIMIT, ReadQuery, pending_ids
from kefu.services.analytics.rollup_rows import Row, case_rows
from kefu.services.analytics.targets import check_reader

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000  # rows in one export file: a period that big is a case for the API
_FACTS = kpi_case_facts.c
_RATES = {m for m in ADDITIVE if m not in (
    Metric.FIRST_RESPONSE_MEAN, Metric.AVERAGE_RESPONSE, Metric.AVERAGE_HANDLE,
    Metric.TRANSFERS_PER_CASE, Metric.CES,
)}  # fmt: skip


class Part(StrEnum):
    SAMPLE = "sample"  # the denominator: every case the figure was measured on
    COUNTED = "counted"  # the numerator: the sample's cases the figure counts
    OTHERS = "others"  # the sample's cases it does not count (unresolved, breached, …)


@dataclass(frozen=True)
class Drill:
    """What to list; every field narrows. ``category`` is a complaint category (UNKNOWN: none);
    ``weekday`` (1–7) and ``hour`` (0–23) a heat-map cell: cases with a clock that ran out
    then (a breach due in the period, that local weekday and hour)."""

    metric: Metric | None = None
    part: Part = Part.SAMPLE
    category: str | None = None
    weekday: int | None = None
    hour: int | None = None

    @property
    def is_cell(self) -> bool:
        return self.weekday is not None and self.hour is not None


def has_count(metric: Metric) -> bool:
    """Whether the metric's numerator is a count of cases (a rate), not a sum (an average)."""
    return metric in _RATES


# A condition on a case's rollup row, as SQL over ``kpi_case_facts`` and as a test of a row.
_Condition = tuple[ColumnElement[bool], Callable[[Row], bool]]


def _metric_condition(metric: Metric, part: Part) -> _Condition:
    if metric == Metric.FIRST_RESPONSE_MEDIAN:
        name = "first_response_seconds"
        return _FACTS[name].is_not(None), lambda r: r[name] is not None
    d, n = _FACTS[f"{metric.value}_d"], _FACTS[f"{metric.value}_n"]
    if part == Part.SAMPLE or not has_count(metric):
        return d > 0, lambda r: r[d.name] > 0
    if part == Part.COUNTED:
        return (d > 0) & (n > 0), lambda r: r[d.name] > 0 and r[n.name] > 0
    return (d > 0) & (n <= 0), lambda r: r[d.name] > 0 and r[n.name] <= 0


def _category_condition(category: str) -> _Condition:
    complaint = CasePath.COMPLAINT.value
    if category == UNKNOWN:
        sql = (_FACTS.path == complaint) & _FACTS.category.is_(None)
        return sql, lambda r: r["path"] == complaint and r["category"] is None
    sql = (_FACTS.path == complaint) & (_FACTS.category == category)
    return sql, lambda r: r["path"] == complaint and r["category"] == category


@dataclass(frozen=True)
class _Listing:
    """The ids behind a drill: ``stored`` selects them from the rollup (or, for a heat-map cell,
    from the tickets), ``fresh`` are the changed cases that match as they are now, newest
    first; ``stored`` leaves the changed cases out."""

    stored: Select[Any]
    fresh: list[int]


def _listing(
    session: Session, start: datetime, end: datetime, filters: Filters, drill: Drill, tz: ZoneInfo
) -> _Listing:
    conditions = []
    if drill.metric is not None:
        conditions.append(_metric_condition(drill.metric, drill.part))
    if drill.category is not None:
        conditions.append(_category_condition(drill.category))
    if drill.is_cell:  # the breaches due in the cell, of cases opened at any time
        cell = _cell_query(session, start, end, filters, drill, tz)
        if conditions:
            rows = select(_FACTS.ticket_id).where(*[sql for sql, _ in conditions])
            cell = cell.where(Ticket.id.in_(rows))
        return _Listing(cell, [])
    query = ReadQuery(start, end, (), None, filters)
    stored = select(_FACTS.ticket_id).where(
        _FACTS.created_at >= start, _FACTS.created_at < end, *query.where(kpi_case_facts),
        *[sql for sql, _ in conditions],
    )  # fmt: skip
    pending = pending_ids(session)
    if not 0 < len(pending) <= FOLD_LIMIT:
        return _Listing(stored, [])
    now = select(Ticket.id).where(Ticket.id.in_(pending), Ticket.merged_into_id.is_(None))
    fresh = [
        row["ticket_id"]
        for row in case_rows(session, now)
        if query.admits(row) and all(test(row) for _, test in conditions)
    ]
    return _Listing(stored.where(_FACTS.ticket_id.not_in(pending)), sorted(fresh, reverse=True))


def _cell_query(
    session: Session, start: datetime, end: datetime, filters: Filters, drill: Drill, tz: ZoneInfo
) -> Select[Any]:
    """The cases with a breach due in the cell: the hour of each of the period's days with the
    cell's weekday (ranges of the due time's index), checked again in local time."""
    if drill.weekday is None or drill.hour is None:
        raise ValueError("not a heat-map cell")
    clock = LocalClock(session, tz, start)
    hours = [
        and_(SlaEvent.due_at >= max(lo, start), SlaEvent.due_at < min(hi, end))
        for lo, hi in _local_hours(start, end, drill.weekday, drill.hour, tz)
    ]
    in_cell = exists().where(
        SlaEvent.ticket_id == Ticket.id,
        SlaEvent.kind == "breach",
        or_(*hours) if hours else false(),
        clock.weekday(SlaEvent.due_at) == drill.weekday,
        clock.hour(SlaEvent.due_at) == drill.hour,
    )
    return select(Ticket.id).where(in_cell, *filter_clauses(filters))


def _local_hours(
    start: datetime, end: datetime, weekday: int, hour: int, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Each ``hour`` of a local day with ISO ``weekday`` that overlaps ``[start, end)``."""
    out = []
    day = start.astimezone(tz).date()
    while datetime.combine(day, time(), tz) < end:
        if day.isoweekday() == weekday:
            lo = datetime.combine(day, time(hour), tz)
            hi = lo + timedelta(hours=1)
            if hi > start and lo < end:
                out.append((lo, hi))
        day += timedelta(days=1)
    return out


def ticket_ids(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    drill: Drill = Drill(),  # noqa: B008 - frozen, never changed
    tz: ZoneInfo = DEFAULT_TZ,
    *,
    offset: int = 0,
    limit: int = EXPORT_LIMIT,
) -> list[int]:
    """The ids of the tickets behind ``drill``, the newest first, ``limit`` from ``offset``."""
    return _ids(session, _listing(session, start, end, filters, drill, tz), offset, limit)


def _ids(session: Session, listing: _Listing, offset: int, limit: int) -> list[int]:
    id_column = listing.stored.selected_columns[0]
    # A changed case can only push a stored one down the list: the stored ids of the first
    # ``offset + limit`` places are enough to merge with them.
    reach = offset + limit if listing.fresh else limit
    stored = session.scalars(
        listing.stored.order_by(id_column.desc())
        .offset(0 if listing.fresh else offset)
        .limit(reach)
    ).all()
    if not listing.fresh:
        return list(stored)
    merged = sorted([*stored, *listing.fresh], reverse=True)
    return merged[offset : offset + limit]


def _total(session: Session, listing: _Listing) -> int:
    stored = session.scalar(select(func.count()).select_from(listing.stored.subquery())) or 0
    return stored + len(listing.fresh)


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


def _lines(session: Session, ids: list[int]) -> list[TicketLine]:
    """The listed tickets, newest first (a few at a time: ``ids`` is an IN list)."""
    lines: list[TicketLine] = []
    for i in range(0, len(ids), 5000):
        lines += _some_lines(session, ids[i : i + 5000])
    return sorted(lines, key=lambda line: line.id, reverse=True)


def _some_lines(session: Session, ids: list[int]) -> list[TicketLine]:
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
    listing = _listing(session, start, end, filters, drill, tz)
    total = _total(session, listing)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    ids = _ids(session, listing, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    return TicketPage(_lines(session, ids), total, page, pages)


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
    return _lines(session, ticket_ids(session, start, end, filters, drill, tz))
