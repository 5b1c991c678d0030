"""The median first response of each slice, read from the KPI rollup (``kpi_case_facts``).

On PostgreSQL the usual slicings — the whole period, per day, week or month, per agent — are
read at their middle ranks: partial indexes keep the first response times sorted overall, per
day and per agent (migration 0030), and the count of each slice is already known from the sums
(``first_response_mean``'s denominator), so a slice's median costs a walk to its middle
(``OFFSET rank LIMIT 2``) instead of a sort of every value of the period. The cases changed
since the last refresh are left out of the walk and their current values added
(``domain.kpi.median``). Other slicings sort the period's values (``percentile_cont``), and so
does a walk that finds fewer values than the counts said (a refresh committed between the
sums and the walk: the reads of a figure are separate statements, as the sums' own parts are);
SQLite computes the median in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from statistics import median
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    Integer,
    String,
    cast,
    func,
    select,
    text,
    true,
    union_all,
    values,
)
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session

from kefu.db.models.analytics import kpi_case_facts, kpi_stale
from kefu.domain.kpi.median import median_with, window
from kefu.domain.kpi.metrics import Figure, Unit
from kefu.domain.kpi.slices import Period, SliceKey
from kefu.services.analytics.rollup_rows import Row, local_day

if TYPE_CHECKING:
    from kefu.services.analytics.rollup_read import ReadQuery

MEDIAN_WORK_MEM = "256MB"  # PostgreSQL: a sort of a year's values in memory
_SECONDS = kpi_case_facts.c.first_response_seconds


class _Moved(Exception):
    """The stored values are not as many as the sums said: read them the other way."""


def medians(
    session: Session,
    q: ReadQuery,
    pending: Sequence[int],
    fresh: Sequence[Row],
    counts: Mapping[SliceKey, int],
) -> dict[SliceKey, Figure]:
    """The median of each slice over the stored rows (but the ``pending`` tickets') and the
    ``fresh`` rows of the pending tickets; ``counts``: each slice's number of answered cases."""
    extra = [r for r in fresh if r["first_response_seconds"] is not None]
    if session.get_bind().dialect.name != "postgresql":
        return _in_python(session, q, pending, extra)
    # Small reads, many of them: compiling them to machine code costs more than it saves.
    session.execute(text("SET LOCAL jit = off"))
    if _walk_kind(q) is not None:
        try:
            return _walked(session, q, pending, extra, counts)
        except _Moved:
            pass
    return _sorted(session, q, pending, extra)


def _walk_kind(q: ReadQuery) -> str | None:
    if not q.columns:
        return "all" if q.period is None else "period"
    if q.columns == ["agent_id"] and q.period is None:
        return "agent"
    return None


def _stored(q: ReadQuery, pending: Sequence[int]) -> list[Any]:
    """The conditions of the stored values of the query's period and filters."""
    c = kpi_case_facts.c
    where = [_SECONDS.is_not(None), c.created_at >= q.start, c.created_at < q.end]
    where += q.where(kpi_case_facts)
    if pending:  # a hashed NOT IN on PostgreSQL 15 and later
        where.append(c.ticket_id.not_in(pending))
    return where


def _walked(
    session: Session,
    q: ReadQuery,
    pending: Sequence[int],
    extra: Sequence[Row],
    counts: Mapping[SliceKey, int],
) -> dict[SliceKey, Figure]:
    loose: dict[SliceKey, list[float]] = defaultdict(list)
    for r in extra:
        loose[q.key_of_row(r)].append(r["first_response_seconds"])
    windows: dict[SliceKey, tuple[int, int, int]] = {}  # key → (first rank, how many, stored)
    for key, answered in counts.items():
        stored = answered - len(loose.get(key, ()))
        if stored < 0:
            raise _Moved
        if answered:
            windows[key] = (*window(stored, len(loose.get(key, ()))), stored)
    parts = _read_parts(session, q, pending, {k: w[:2] for k, w in windows.items() if w[1]})
    out = {}
    for key, (first, count, stored) in windows.items():
        part = sorted(parts.get(key, ()))
        if len(part) != count:
            raise _Moved
        try:
            value = median_with(part, first, loose.get(key, ()), stored)
        except ValueError as e:
            raise _Moved from e
        out[key] = Figure(value, None, stored + len(loose.get(key, ())), Unit.SECONDS)
    return out


def _read_parts(
    session: Session,
    q: ReadQuery,
    pending: Sequence[int],
    wanted: Mapping[SliceKey, tuple[int, int]],
) -> dict[SliceKey, list[float]]:
    """The stored values of each slice from rank ``first``, ``count`` of them."""
    if not wanted:
        return {}
    where = _stored(q, pending)
    c = kpi_case_facts.c
    kind = _walk_kind(q)
    out: dict[SliceKey, list[float]] = defaultdict(list)
    if kind == "all" or (kind == "agent" and (None,) in wanted):
        key: SliceKey = () if kind == "all" else (None,)
        first, count = wanted[key]
        narrowed = where if kind == "all" else [*where, c.agent_id.is_(None)]
        query = select(_SECONDS).where(*narrowed).order_by(_SECONDS).offset(first).limit(count)
        out[key] = list(session.scalars(query))
        if kind == "all":
            return out
    keys = [k for k in wanted if k != (None,)]
    if not keys:
        return out
    if kind == "agent":
        bounds: list[tuple[Any, ...]] = [(k[0],) for k in keys]
        names: list[tuple[str, Any]] = [("agent", BigInteger())]
    else:
        ranges = _period_days(q)
        bounds = [ranges[k[0]] for k in keys]
        names = [("lo", Date()), ("hi", Date())]
    columns: list[Any] = [sql_column("i", Integer())]
    columns += [sql_column(n, t) for n, t in names]
    columns += [sql_column("skip", Integer()), sql_column("take", Integer())]
    rows = [(i, *bounds[i], *wanted[k]) for i, k in enumerate(keys)]
    w = values(*columns, name="w").data(rows)
    if kind == "agent":
        in_slice = [c.agent_id == w.c.agent]
    elif q.period == Period.DAY:  # one day: the (day, seconds) index is already in order
        in_slice = [c.day == w.c.lo]
    else:
        in_slice = [c.day >= w.c.lo, c.day < w.c.hi]
    part = (
        select(_SECONDS.label("seconds"))
        .where(*where, *in_slice)
        .order_by(_SECONDS)
        .offset(w.c.skip)
        .limit(w.c.take)
        .lateral("part")
    )
    for i, seconds in session.execute(select(w.c.i, part.c.seconds).join_from(w, part, true())):
        out[keys[i]].append(seconds)
    return out


def _period_days(q: ReadQuery) -> dict[Any, tuple[date, date]]:
    """Each period label of the query → its first day and the day after its last."""
    out: dict[Any, tuple[date, date]] = {}
    day, last = local_day(q.start), local_day(q.end - timedelta(microseconds=1))
    while day <= last:
        label = q.key(day, [])[0]
        lo = out.get(label, (day, day))[0]
        out[label] = (lo, day + timedelta(days=1))
        day += timedelta(days=1)
    return out


def _in_python(
    session: Session, q: ReadQuery, pending: Sequence[int], extra: Sequence[Row]
) -> dict[SliceKey, Figure]:
    c = kpi_case_facts.c
    query = select(c.day, *[c[name] for name in q.columns], _SECONDS).where(*_stored(q, pending))
    groups: dict[SliceKey, list[float]] = defaultdict(list)
    for row in session.execute(query):
        groups[q.key(row[0], list(row[1:-1]))].append(row[-1])
    for r in extra:
        groups[q.key_of_row(r)].append(r["first_response_seconds"])
    return {k: Figure(float(median(v)), None, len(v), Unit.SECONDS) for k, v in groups.items()}


def _sorted(
    session: Session, q: ReadQuery, pending: Sequence[int], extra: Sequence[Row]
) -> dict[SliceKey, Figure]:
    """Every value of the period sorted per slice (``percentile_cont``)."""
    c = kpi_case_facts.c
    base = select(c.day, *[c[name] for name in q.columns], _SECONDS).where(
        *_stored(q, []), *_not_marked(pending)
    )
    source: Any = base
    if extra:
        types = {"day": Date(), "agent_id": BigInteger(), "group_id": BigInteger(),
                 "channel": String(), "category": String(), "priority": String(),
                 "business_line": String()}  # fmt: skip
        names = ["day", *q.columns, "first_response_seconds"]
        cols: list[Any] = [sql_column(n, types.get(n, Float())) for n in names]  # type: ignore[arg-type]
        added = values(*cols, name="fresh").data([tuple(r[n] for n in names) for r in extra])
        source = union_all(base, select(added))
    session.execute(text(f"SET LOCAL work_mem = '{MEDIAN_WORK_MEM}'"))
    sub = source.subquery()
    head = [_period_start(sub.c.day, q.period)] if q.period else []
    keys = head + [sub.c[name] for name in q.columns]
    query = select(
        *keys,
        func.percentile_cont(0.5).within_group(sub.c.first_response_seconds),
        func.count(sub.c.first_response_seconds),
    ).group_by(*keys)
    width = len(keys)
    return {
        q.key(row[0], list(row[1:width])) if q.period else tuple(row[:width]): Figure(
            float(row[width]), None, int(row[width + 1]), Unit.SECONDS
        )
        for row in session.execute(query)
        if row[width + 1]  # no grouping: one row even over nothing
    }


def _not_marked(pending: Sequence[int]) -> list[Any]:
    """An anti-join on the marks' index: the sort reads every row of the period anyway."""
    if not pending:
        return []
    marked = select(kpi_stale.c.id).where(kpi_stale.c.ticket_id == kpi_case_facts.c.ticket_id)
    return [~marked.exists()]


def _period_start(day: Any, period: Period | None) -> Any:
    """The first day of the period ``day`` falls in (a Monday for an ISO week), labelled in
    Python: cheaper per row than formatting the label."""
    if period in (Period.WEEK, Period.MONTH):
        return cast(func.date_trunc(period.value, day), Date())
    return day
