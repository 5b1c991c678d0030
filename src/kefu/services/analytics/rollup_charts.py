"""What the dashboard draws besides the KPI table, from the pre-aggregated tables (``rollup``):
cases by day and emotion / sentiment (``kpi_daily_moods``), and complaints by category for the
Pareto chart (``kpi_daily``: a complaint is one case in the denominator of the loop completion).
Both read the rollup as it stands; ``rollup_read.freshness`` says how far behind it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models.analytics import kpi_case_facts, kpi_daily, kpi_daily_moods
from kefu.services.analytics.facts import NO_FILTERS, Filters


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
    rows = session.execute(query.group_by(*keys).order_by(*keys))
    return [MoodCount(r[0], r[1], r[2], int(r[3])) for r in rows]


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
    rows = session.execute(query.group_by(c.category))
    counts = [(category, int(n)) for category, n in rows if n]
    return sorted(counts, key=lambda pair: (-pair[1], pair[0] or ""))
