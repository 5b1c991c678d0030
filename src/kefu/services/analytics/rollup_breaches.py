"""SLA breaches by the local day and hour their clock ran out (the dashboard's heat map),
pre-aggregated in ``kpi_breach_hours`` per day × hour × the case's group, channel and agent.

The rollup's refresh recomputes the days of the breaches of the cases it rolls up (a new breach,
or a case moved to another group, marks its case stale), whole days at a time from
``sla_events``. A read of whole local days takes the stored counts, except on the days where a
case changed since the last refresh has a breach: those days are counted from ``sla_events`` as
they are now. With more than ``FOLD_LIMIT`` cases pending the stored counts are read as they
stand. Periods that are not whole days of the rollup's zone are counted from ``sla_events``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, delete, func, insert, literal, select, true
from sqlalchemy.orm import Session

from kefu.db.models import SlaEvent, Ticket
from kefu.db.models.analytics import kpi_breach_hours
from kefu.services.analytics.facts import Filters, filter_clauses
from kefu.services.analytics.local_time import LocalClock
from kefu.services.analytics.rollup_read import FOLD_LIMIT, pending_ids
from kefu.services.analytics.rollup_rows import ROLLUP_TZ, day_start

Cell = tuple[int, int]  # (ISO weekday 1–7, hour 0–23)
_ONE_DAY = timedelta(days=1)


def _due(start: datetime, end: datetime) -> list[Any]:
    return [SlaEvent.kind == "breach", SlaEvent.due_at >= start, SlaEvent.due_at < end]


def raw_cells(
    session: Session, start: datetime, end: datetime, filters: Filters, tz: ZoneInfo
) -> Counter[Cell]:
    """Breaches due in ``[start, end)`` per local weekday and hour, from ``sla_events``."""
    clock = LocalClock(session, tz, start)
    weekday, hour = clock.weekday(SlaEvent.due_at), clock.hour(SlaEvent.due_at)
    # The case's conditions as a look-up by primary key per breach: joined, the planner read
    # every ticket to hash them for a month's breaches.
    passes = (
        select(and_(*filter_clauses(filters)))
        .where(Ticket.id == SlaEvent.ticket_id)
        .scalar_subquery()
    )
    query = (
        select(weekday, hour, func.count())
        .where(*_due(start, end), passes.is_(true()))
        .group_by(weekday, hour)
    )
    return Counter({(int(d), int(h)): int(n) for d, h, n in session.execute(query)})


def stored_cells(session: Session, first: date, last: date, filters: Filters) -> Counter[Cell]:
    """Breaches due on the local days ``first`` to ``last`` (inclusive) per weekday and hour:
    the stored counts, the days of pending cases' breaches counted as they are now."""
    pending = pending_ids(session)
    dirty = breach_days(session, pending) if 0 < len(pending) <= FOLD_LIMIT else set()
    b = kpi_breach_hours.c
    query = select(b.day, b.hour, func.sum(b.breaches)).where(b.day >= first, b.day <= last)
    for column, value in (("group_id", filters.group_id), ("channel", filters.channel),
                          ("agent_id", filters.agent_id)):  # fmt: skip
        if value is not None:
            query = query.where(b[column] == value)
    cells: Counter[Cell] = Counter()
    for day, hour, count in session.execute(query.group_by(b.day, b.hour)):
        if day not in dirty:
            cells[(day.isoweekday(), int(hour))] += int(count)
    for day in sorted(d for d in dirty if first <= d <= last):
        cells.update(raw_cells(session, day_start(day), day_start(day + _ONE_DAY), filters,
                               ROLLUP_TZ))  # fmt: skip
    return cells


def breach_days(session: Session, tickets: Sequence[int]) -> set[date]:
    """The local days on which a breach of one of ``tickets`` fell due."""
    if not tickets:
        return set()
    clock = LocalClock(session, ROLLUP_TZ, datetime.now(ROLLUP_TZ))
    days: set[date] = set()
    for i in range(0, len(tickets), 1000):
        query = (
            select(clock.day(SlaEvent.due_at))
            .distinct()
            .where(SlaEvent.kind == "breach", SlaEvent.ticket_id.in_(tickets[i : i + 1000]))
        )
        days.update(date.fromisoformat(d) for d in session.scalars(query))
    return days


def recompute(session: Session, days: Iterable[date] | None) -> None:
    """The stored counts of ``days`` (None: every day with a breach) from ``sla_events``."""
    if days is None:
        first, last = session.execute(
            select(func.min(SlaEvent.due_at), func.max(SlaEvent.due_at)).where(
                SlaEvent.kind == "breach"
            )
        ).one()
        session.execute(delete(kpi_breach_hours))
        if first is None:
            return
        days = _days_between(first, last)
    for day in sorted(set(days)):
        session.execute(delete(kpi_breach_hours).where(kpi_breach_hours.c.day == day))
        start = day_start(day)
        clock = LocalClock(session, ROLLUP_TZ, start)
        hour = clock.hour(SlaEvent.due_at)
        keys = [hour, Ticket.group_id, Ticket.channel, Ticket.assignee_id]
        counts = (
            select(literal(day, Date()), *keys, func.count())
            .join(Ticket, Ticket.id == SlaEvent.ticket_id)
            .where(*_due(start, start + _ONE_DAY), Ticket.merged_into_id.is_(None))
            .group_by(*keys)
        )
        names = ["day", "hour", "group_id", "channel", "agent_id", "breaches"]
        session.execute(insert(kpi_breach_hours).from_select(names, counts))


def _days_between(first: datetime, last: datetime) -> list[date]:
    day, end = first.astimezone(ROLLUP_TZ).date(), last.astimezone(ROLLUP_TZ).date()
    out = []
    while day <= end:
        out.append(day)
        day += _ONE_DAY
    return out
