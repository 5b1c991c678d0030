"""The dashboard's breakdowns, each one grouped in the database (no row per ticket reaches
Python): complaint categories for the Pareto chart, emotion and sentiment per local day, and SLA
breaches by local weekday and hour.

Cases are those of ``facts.ticket_ids_query``: opened in ``[start, end)``, narrowed by the
filters, merged tickets left out. For whole local days of the rollup's time zone (what the
dashboard asks for) the Pareto and the moods read the pre-aggregated rows (``rollup_charts``,
pending changes folded in), the same counts without reading a row per case. The heat map counts
breaches by when they happened: the ``due_at`` of each ``sla_events`` row of kind ``breach`` in
``[start, end)`` (the moment the clock ran out; the sweep notices it within its interval, or,
catching up after a stop, hours later), on the cases that pass the filters whenever they were
opened.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain.case_loop import CasePath
from kefu.domain.kpi.pareto import ParetoBar, pareto
from kefu.domain.kpi.slices import DEFAULT_TZ
from kefu.services.analytics import rollup_breaches, rollup_charts
from kefu.services.analytics.facts import NO_FILTERS, Filters, ticket_ids_query
from kefu.services.analytics.local_time import LocalClock
from kefu.services.analytics.rollup_read import is_rollup_zone
from kefu.services.analytics.rollup_rows import day_start, local_day

UNKNOWN = ""  # a case not analysed (no category, emotion or sentiment)


def whole_days(
    start: datetime, end: datetime, tz: ZoneInfo = DEFAULT_TZ
) -> tuple[date, date] | None:
    """The first and last local day when ``[start, end)`` is whole days of the rollup's zone."""
    if not is_rollup_zone(tz):
        return None
    first, last = local_day(start), local_day(end - timedelta(microseconds=1))
    if day_start(first) != start or day_start(last + timedelta(days=1)) != end:
        return None
    return first, last


def complaint_categories(
    session: Session, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> list[ParetoBar]:
    """The complaint-path cases of the period per category, as Pareto bars (UNKNOWN: none)."""
    days = whole_days(start, end)
    if days is not None:
        counts = rollup_charts.complaints_by_category(
            session, first=days[0], last=days[1], filters=filters
        )
        return pareto({category or UNKNOWN: n for category, n in counts})
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


def moods_by_day(
    session: Session,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    tz: ZoneInfo = DEFAULT_TZ,
) -> tuple[DailyCounts, DailyCounts]:
    """Cases opened per local day by their emotion (angry, anxious, …) and by their sentiment
    (negative, neutral, positive), UNKNOWN where not analysed; one grouped query for both."""
    whole = whole_days(start, end, tz)
    if whole is not None:
        return _moods_of(
            rollup_charts.moods_by_day(session, first=whole[0], last=whole[1], filters=filters),
            local_days(start, end, tz),
        )
    clock = LocalClock(session, tz, start)
    day = clock.day(Ticket.created_at)
    query = (
        ticket_ids_query(start, end, filters)
        .with_only_columns(day, Ticket.emotion, Ticket.sentiment, func.count())
        .group_by(day, Ticket.emotion, Ticket.sentiment)
    )
    counts = [
        rollup_charts.MoodCount(date.fromisoformat(str(day)), emotion, sentiment, count)
        for day, emotion, sentiment, count in session.execute(query)
    ]
    return _moods_of(counts, local_days(start, end, tz))


def _moods_of(
    counts: list[rollup_charts.MoodCount], days: list[str]
) -> tuple[DailyCounts, DailyCounts]:
    index = {d: i for i, d in enumerate(days)}
    emotions: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    sentiments: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for c in counts:
        i = index.get(c.day.isoformat())
        if i is not None:
            emotions[c.emotion or UNKNOWN][i] += c.cases
            sentiments[c.sentiment or UNKNOWN][i] += c.cases
    return (
        DailyCounts(days, dict(sorted(emotions.items()))),
        DailyCounts(days, dict(sorted(sentiments.items()))),
    )


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
    """SLA breaches due in ``[start, end)`` by local weekday and hour (see the module doc):
    whole days of the rollup's zone from ``kpi_breach_hours``, other periods from the events."""
    days = whole_days(start, end, tz)
    if days is not None:
        counts = rollup_breaches.stored_cells(session, days[0], days[1], filters)
    else:
        counts = rollup_breaches.raw_cells(session, start, end, filters, tz)
    cells = [[counts.get((day, hour), 0) for hour in HOURS] for day in WEEKDAYS]
    flat = [c for row in cells for c in row]
    return HeatMap(cells, sum(flat), max(flat))
