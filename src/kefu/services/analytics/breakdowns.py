"""The dashboard's breakdowns, each one grouped in the database (no row per ticket reaches
Python): complaint categories for the Pareto chart, emotion and sentiment per local day, and SLA
breaches by local weekday and hour.

Cases are those of ``facts.ticket_ids_query``: opened in ``[start, end)``, narrowed by the
filters, merged tickets left out. The heat map counts breaches by when they happened: the
``fired_at`` of each ``sla_events`` row of kind ``breach`` in ``[start, end)``, on the cases that
pass the filters whenever they were opened.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import SlaEvent, Ticket
from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.pareto import ParetoBar, pareto
from kefu.domain.kpi.slices import DEFAULT_TZ
from kefu.services.analytics.facts import NO_FILTERS, Filters, filter_clauses, ticket_ids_query
from kefu.services.analytics.local_time import LocalClock

UNKNOWN = ""  # a case not analysed (no category, emotion or sentiment)


def complaint_categories(
    session: Session, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> list[ParetoBar]:
    """The complaint-path cases of the period per category, as Pareto bars (UNKNOWN: none)."""
    query = (
        ticket_ids_query(start, end, filters)
        .where(Ticket.case_path == CasePath.COMPLAINT.value)
        .with_only_columns(Ticket.category, func.count())
        .group_by(Ticket.category)
    )
    return pareto({category or UNKNOWN: count for category, count in session.execute(query)})


@dataclass(frozen=True)
class DailyCounts:
    """Counts per local day of each value of a column: ``series[value][i]`` is of ``days[i]``."""

    days: list[str]
    series: dict[str, list[int]]


def local_days(start: datetime, end: datetime, tz: ZoneInfo = DEFAULT_TZ) -> list[str]:
    """Every local day from the one of ``start`` to the one before ``end``, as ``YYYY-MM-DD``."""
    first: date = start.astimezone(tz).date()
    last: date = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _daily(
    session: Session, column: str, start: datetime, end: datetime, filters: Filters, tz: ZoneInfo
) -> DailyCounts:
    clock = LocalClock(session, tz, start)
    day = clock.day(Ticket.created_at)
    value = getattr(Ticket, column)
    query = (
        ticket_ids_query(start, end, filters)
        .with_only_columns(day, value, func.count())
        .group_by(day, value)
    )
    days = local_days(start, end, tz)
    index = {d: i for i, d in enumerate(days)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for local_day, key, count in session.execute(query):
        if local_day in index:
            series[key or UNKNOWN][index[local_day]] += count
    return DailyCounts(days, dict(sorted(series.items())))


def emotions_by_day(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> DailyCounts:
    """Cases opened per local day by their emotion (angry, anxious, …; UNKNOWN: not analysed)."""
    return _daily(session, "emotion", start, end, filters, tz)


def sentiments_by_day(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> DailyCounts:
    """Cases opened per local day by their sentiment (negative, neutral, positive)."""
    return _daily(session, "sentiment", start, end, filters, tz)


WEEKDAYS = range(1, 8)  # Monday 1 … Sunday 7
HOURS = range(24)


@dataclass(frozen=True)
class HeatMap:
    """``cells[weekday - 1][hour]``: breaches that fired then (local time); ``peak`` the largest."""

    cells: list[list[int]]
    total: int
    peak: int


def breach_heatmap(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> HeatMap:
    """SLA breaches fired in ``[start, end)`` by local weekday and hour (see the module doc)."""
    clock = LocalClock(session, tz, start)
    weekday, hour = clock.weekday(SlaEvent.fired_at), clock.hour(SlaEvent.fired_at)
    query = (
        select(weekday, hour, func.count())
        .select_from(SlaEvent)
        .join(Ticket, Ticket.id == SlaEvent.ticket_id)
        .where(
            SlaEvent.kind == "breach",
            SlaEvent.fired_at >= start,
            SlaEvent.fired_at < end,
            *filter_clauses(filters),
        )
        .group_by(weekday, hour)
    )
    cells = [[0] * len(HOURS) for _ in WEEKDAYS]
    for day, at_hour, count in session.execute(query):
        cells[int(day) - 1][int(at_hour)] += count
    flat = [c for row in cells for c in row]
    return HeatMap(cells, sum(flat), max(flat))
