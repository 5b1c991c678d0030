"""What the dashboard draws besides the KPI table, from the pre-aggregated tables (``rollup``):
cases by day and emotion / sentiment (``kpi_daily_moods``), and complaints by category for the
Pareto chart (``kpi_daily``: a complaint is one case in the denominator of the loop completion).
Like the KPI figures, both fold in the cases changed since the last refresh when there are few
(``rollup_read.FOLD_LIMIT``): their stored row taken out, their ticket as it is now put in; with
more pending they read the rollup as it stands (``rollup_read.freshness`` says how far behind)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.db.models.analytics import kpi_case_facts, kpi_daily, kpi_daily_moods
from kefu.domain.case_loop import CasePath
from kefu.services.analytics.facts import NO_FILTERS, Filters
from kefu.services.analytics.rollup_read import FOLD_LIMIT, pending_ids
from kefu.services.analytics.rollup_rows import local_day


@dataclass(frozen=True)
class CaseChange:
    """A pending case's part in the charts: ``sign`` -1 for its stored row, +1 for it now."""

    sign: int
    day: date
    emotion: str | None
    sentiment: str | None
    category: str | None
    complaint: bool


def pending_changes(session: Session, filters: Filters = NO_FILTERS) -> list[CaseChange]:
    """The chart rows of the cases changed since the last refresh (none above ``FOLD_LIMIT``)."""
    pending = pending_ids(session)
    if not pending or len(pending) > FOLD_LIMIT:
        return []
    f = kpi_case_facts.c
    stored = select(f.day, f.emotion, f.sentiment, f.category, f.path).where(
        f.ticket_id.in_(pending), *_matching(f, filters)
    )
    now = select(
        Ticket.created_at, Ticket.emotion, Ticket.sentiment, Ticket.category, Ticket.case_path
    ).where(Ticket.id.in_(pending), Ticket.merged_into_id.is_(None), *_matching(Ticket, filters))
    complaint = CasePath.COMPLAINT.value
    changes = [
        CaseChange(-1, d, e, s, c, p == complaint) for d, e, s, c, p in session.execute(stored)
    ]
    changes += [
        CaseChange(1, local_day(at), e, s, c, p == complaint)
        for at, e, s, c, p in session.execute(now)
    ]
    return changes


def _matching(table: Any, filters: Filters) -> list[Any]:
    agent = table.assignee_id if table is Ticket else table.agent_id
    conditions = []
    if filters.group_id is not None:
        conditions.append(table.group_id == filters.group_id)
    if filters.channel is not None:
        conditions.append(table.channel == filters.channel)
    if filters.agent_id is not None:
        conditions.append(agent == filters.agent_id)
    return conditions


@dataclass(frozen=True)
class MoodCount:
    day: date
    emotion: str | None
    sentiment: str | None
    cases: int


def moods_by_day(
    session: Session, *, first: date, last: date, filters: Filters = NO_FILTERS
) -> list[MoodCount]:
    """Cases opened on each local day from ``first`` to ``last`` (inclusive) by the ticket's
    emotion and sentiment; an agent filter reads the per-case rows."""
    table = kpi_case_facts if filters.agent_id is not None else kpi_daily_moods
    cases = func.count() if table is kpi_case_facts else func.sum(table.c.cases)
    keys = [table.c.day, table.c.emotion, table.c.sentiment]
    query = select(*keys, cases).where(table.c.day >= first, table.c.day <= last)
    if filters.group_id is not None:
        query = query.where(table.c.group_id == filters.group_id)
    if filters.channel is not None:
        query = query.where(table.c.channel == filters.channel)
    if filters.agent_id is not None:
        query = query.where(kpi_case_facts.c.agent_id == filters.agent_id)
    counts: dict[tuple[date, str | None, str | None], int] = {
        (r[0], r[1], r[2]): int(r[3]) for r in session.execute(query.group_by(*keys))
    }
    for change in pending_changes(session, filters):
        if first <= change.day <= last:
            key = (change.day, change.emotion, change.sentiment)
            counts[key] = counts.get(key, 0) + change.sign
    return [
        MoodCount(day, emotion, sentiment, n)
        for (day, emotion, sentiment), n in sorted(counts.items(), key=_mood_order)
        if n > 0
    ]


def _mood_order(item: tuple[tuple[date, str | None, str | None], int]) -> tuple[Any, ...]:
    (day, emotion, sentiment), _ = item
    return day, emotion or "", sentiment or ""


def complaints_by_category(
    session: Session, *, first: date, last: date, filters: Filters = NO_FILTERS
) -> list[tuple[str | None, int]]:
    """Complaints opened from ``first`` to ``last`` per category, most first (the Pareto)."""
    c = kpi_daily.c
    complaints = func.sum(c.loop_completion_d)
    query = select(c.category, complaints).where(c.day >= first, c.day <= last)
    for column, value in (("group_id", filters.group_id), ("channel", filters.channel),
                          ("agent_id", filters.agent_id)):  # fmt: skip
        if value is not None:
            query = query.where(c[column] == value)
    totals: dict[str | None, int] = {
        category: int(n or 0) for category, n in session.execute(query.group_by(c.category))
    }
    for change in pending_changes(session, filters):
        if change.complaint and first <= change.day <= last:
            totals[change.category] = totals.get(change.category, 0) + change.sign
    counts = [(category, n) for category, n in totals.items() if n > 0]
    return sorted(counts, key=lambda pair: (-pair[1], pair[0] or ""))
