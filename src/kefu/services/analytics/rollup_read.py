"""The KPI figures of a period read from the pre-aggregated tables (``rollup.py``), exact.

Whole local days come from ``kpi_daily`` (summed in SQL, grouped by day and the requested
dimensions); the parts of days at the ends of a period that does not start or end at local
midnight come from ``kpi_case_facts``. Then the tickets marked stale and not yet rolled up are
folded in when there are at most ``FOLD_LIMIT`` of them: their stored rows taken out, their
rows as they are now (computed by the same code) put in, so a survey answered a moment ago moves
CSAT at once. With more pending, the figures are those of the rollup and ``Freshness`` says how
far behind it is. The median first response is read from ``kpi_case_facts`` with the same
folding (``rollup_medians``). Slicings by the dashboard's dimensions alone (agent, group,
channel) read the smaller ``kpi_daily_agents``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.db.models.analytics import (
    DASHBOARD_COLUMNS,
    SUM_COLUMNS,
    kpi_case_facts,
    kpi_daily,
    kpi_daily_agents,
    kpi_stale,
)
from kefu.domain.kpi.metrics import Figure, Metric, Unit, from_sums
from kefu.domain.kpi.slices import Dimension, Period, SliceKey, period_of, sorted_keys
from kefu.services.analytics import rollup_medians
from kefu.services.analytics.facts import NO_FILTERS, Filters
from kefu.services.analytics.rollup_rows import (
    ADDITIVE_ORDER,
    DIMENSION_COLUMNS,
    ROLLUP_TZ,
    UNITS,
    Row,
    add_into,
    case_rows,
    day_start,
    local_day,
    sums_of,
)

# Pending tickets folded into a read: their facts are read as a refresh reads them (measured: 4 s
# for 1,900 on a loaded 100k-ticket PostgreSQL, so about 1 s at this limit); above it the
# rollup is read as it is and ``Freshness`` says how far behind.
FOLD_LIMIT = 500


@dataclass(frozen=True)
class Freshness:
    """How current the figures are: ``pending`` tickets changed and not rolled up yet (counted
    up to FOLD_LIMIT + 1), whether they were folded in (then the figures are exact), and the
    time of the oldest pending change (None when nothing is pending)."""

    pending: int
    folded: bool
    fresh_as_of: datetime | None

    @property
    def exact(self) -> bool:
        return self.pending == 0 or self.folded


def freshness(session: Session) -> Freshness:
    pending = _pending(session)
    return Freshness(len(pending), 0 < len(pending) <= FOLD_LIMIT, _oldest_mark(session))


def pending_ids(session: Session) -> list[int]:
    """The cases changed since the last refresh, at most ``FOLD_LIMIT + 1`` of them."""
    query = select(kpi_stale.c.ticket_id).distinct().limit(FOLD_LIMIT + 1)
    return list(session.scalars(query))


_pending = pending_ids


def _oldest_mark(session: Session) -> datetime | None:
    oldest: datetime | None = session.scalar(select(func.min(kpi_stale.c.marked_at)))
    return oldest


@dataclass(frozen=True)
class ReadQuery:
    start: datetime
    end: datetime
    by: Sequence[Dimension]
    period: Period | None
    filters: Filters

    @property
    def columns(self) -> list[str]:
        return [DIMENSION_COLUMNS[d] for d in self.by]

    def key(self, day: date, values: Sequence[Any]) -> SliceKey:
        head: SliceKey = (_label(day, self.period),) if self.period else ()
        return head + tuple(values)

    def key_of_row(self, row: Row) -> SliceKey:
        return self.key(row["day"], [row[c] for c in self.columns])

    def admits(self, row: Row) -> bool:
        f = self.filters
        return (
            self.start <= row["created_at"] < self.end
            and (f.group_id is None or row["group_id"] == f.group_id)
            and (f.channel is None or row["channel"] == f.channel)
            and (f.agent_id is None or row["agent_id"] == f.agent_id)
        )

    def where(self, table: Any) -> list[Any]:
        f, c = self.filters, table.c
        clauses = []
        if f.group_id is not None:
            clauses.append(c.group_id == f.group_id)
        if f.channel is not None:
            clauses.append(c.channel == f.channel)
        if f.agent_id is not None:
            clauses.append(c.agent_id == f.agent_id)
        return clauses


def _label(day: date, period: Period | None) -> str:
    return period_of(datetime.combine(day, time(12), ROLLUP_TZ), period or Period.DAY, ROLLUP_TZ)


def figures(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    by: Sequence[Dimension] = (),
    period: Period | None = None,
    filters: Filters = NO_FILTERS,
) -> tuple[dict[SliceKey, dict[Metric, Figure]], Freshness]:
    """Every metric for every slice with a case opened in ``[start, end)``, keyed as
    ``domain.kpi.slices.compute`` keys them (local days of ``ROLLUP_TZ``)."""
    q = ReadQuery(start, end, tuple(by), period, filters)
    sums: dict[SliceKey, list[float]] = defaultdict(lambda: [0.0] * (1 + len(SUM_COLUMNS)))
    for day, dims, vector in _stored_sums(session, q):
        add_into(sums[q.key(day, dims)], vector)
    pending = _pending(session)
    fold = 0 < len(pending) <= FOLD_LIMIT
    fresh: list[Row] = []
    if fold:
        for row in session.execute(
            select(kpi_case_facts).where(kpi_case_facts.c.ticket_id.in_(pending))
        ):
            old = dict(row._mapping)
            if q.admits(old):
                add_into(sums[q.key_of_row(old)], sums_of(old), -1.0)
        ids = select(Ticket.id).where(Ticket.id.in_(pending), Ticket.merged_into_id.is_(None))
        fresh = [r for r in case_rows(session, ids) if q.admits(r)]
        for new in fresh:
            add_into(sums[q.key_of_row(new)], sums_of(new))
    answered = 1 + SUM_COLUMNS.index("first_response_mean_d")  # the cases with a first response
    counts = {key: round(vector[answered]) for key, vector in sums.items()}
    medians = rollup_medians.medians(session, q, pending if fold else [], fresh, counts)
    state = Freshness(len(pending), fold, _oldest_mark(session) if pending else None)
    out = {}
    for key in sorted_keys([k for k, v in sums.items() if round(v[0]) > 0]):
        out[key] = _figures_of(sums[key], medians.get(key))
    return out, state


def _figures_of(vector: list[float], median_figure: Figure | None) -> dict[Metric, Figure]:
    figs = {Metric.FIRST_RESPONSE_MEDIAN: median_figure or Figure(None, None, 0, Unit.SECONDS)}
    for i, metric in enumerate(ADDITIVE_ORDER):
        numerator, denominator = vector[1 + 2 * i], round(vector[2 + 2 * i])
        figs[metric] = from_sums(numerator, denominator, UNITS[metric])
    return {m: figs[m] for m in Metric}


def _stored_sums(session: Session, q: ReadQuery) -> list[tuple[date, list[Any], list[float]]]:
    """(day, dimension values, vector) from ``kpi_daily`` for whole days, ``kpi_case_facts``
    for the parts of days at the ends."""
    first = local_day(q.start)
    if day_start(first) < q.start:
        first = date.fromordinal(first.toordinal() + 1)
    last = local_day(q.end)  # days before ``last`` are whole
    parts: list[tuple[Any, list[Any]]] = []
    if first < last:
        daily = kpi_daily_agents if set(q.columns) <= set(DASHBOARD_COLUMNS) else kpi_daily
        parts.append((daily, [daily.c.day >= first, daily.c.day < last]))
        facts = kpi_case_facts.c
        if q.start < day_start(first):
            parts.append(
                (kpi_case_facts, [facts.created_at >= q.start, facts.created_at < day_start(first)])
            )
        if day_start(last) < q.end:
            parts.append(
                (kpi_case_facts, [facts.created_at >= day_start(last), facts.created_at < q.end])
            )
    else:
        facts = kpi_case_facts.c
        parts.append((kpi_case_facts, [facts.created_at >= q.start, facts.created_at < q.end]))
    out = []
    for table, where in parts:
        keys = [table.c.day if q.period else literal_column("NULL").label("day")]
        keys += [table.c[c] for c in q.columns]
        cases = func.count() if table is kpi_case_facts else func.sum(table.c.cases)
        query = (
            select(
                *keys, cases.label("cases"), *[func.sum(table.c[c]).label(c) for c in SUM_COLUMNS]
            )
            .where(*where, *q.where(table))
            .group_by(*keys[0 if q.period else 1 :])
        )
        width = len(keys)
        for row in session.execute(query):
            out.append((row[0], list(row[1:width]), [float(v or 0) for v in row[width:]]))
    return out


def is_rollup_zone(tz: ZoneInfo) -> bool:
    return getattr(tz, "key", None) == getattr(ROLLUP_TZ, "key", None)
