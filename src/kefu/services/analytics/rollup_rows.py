"""One row of ``kpi_case_facts`` per case: the case's slice and, for every additive metric, the
numerator and denominator of that metric computed over the case alone.

The numbers come from the same code as the figures computed from raw rows: the facts of
``facts.facts_of`` and the formulas of ``domain.kpi.metrics.all_figures`` applied to a
one-case list. Since the additive figures of disjoint parts add up (``metrics.combine``), the
sum of these rows over any set of cases is that set's figure, numerator and denominator alike.
The median first response cannot be summed: each row keeps the case's first response time
(``first_response_seconds``) for a percentile over the rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.db.models.analytics import ADDITIVE_METRICS, SUM_COLUMNS
from kefu.domain.kpi.facts import ReplyFacts, SurveyFacts
from kefu.domain.kpi.metrics import ADDITIVE, Metric, Unit, all_figures
from kefu.domain.kpi.slices import DEFAULT_TZ, Dimension
from kefu.services.analytics.facts import facts_of

ROLLUP_TZ = DEFAULT_TZ  # the local days of the rollup (the dashboard's and reports' time zone)
ADDITIVE_ORDER = tuple(Metric(m) for m in ADDITIVE_METRICS)
UNITS: dict[Metric, Unit] = {m: f.unit for m, f in all_figures([]).items()}
DIMENSION_COLUMNS = {
    Dimension.AGENT: "agent_id",
    Dimension.GROUP: "group_id",
    Dimension.CHANNEL: "channel",
    Dimension.CATEGORY: "category",
    Dimension.PRIORITY: "priority",
    Dimension.BUSINESS_LINE: "business_line",
}
SLICE_COLUMNS = ("day", *DIMENSION_COLUMNS.values())  # kpi_daily's key
Row = dict[str, Any]

if set(ADDITIVE_ORDER) != ADDITIVE:  # the table's columns follow the metrics
    raise RuntimeError("kpi_case_facts columns and domain.kpi ADDITIVE disagree")


def local_day(at: datetime, tz: ZoneInfo = ROLLUP_TZ) -> date:
    return at.astimezone(tz).date()


def day_start(day: date, tz: ZoneInfo = ROLLUP_TZ) -> datetime:
    return datetime.combine(day, time(), tz)


def case_rows(session: Session, ids: Select[Any]) -> list[Row]:
    """The ``kpi_case_facts`` rows of the cases ``ids`` selects (merged-away tickets left out by
    the caller's select), in ticket order."""
    facts = facts_of(session, ids)
    replies: dict[int, list[ReplyFacts]] = defaultdict(list)
    surveys: dict[int, list[SurveyFacts]] = defaultdict(list)
    for r in facts.replies:
        replies[r.ticket_id].append(r)
    for s in facts.surveys:
        surveys[s.ticket_id].append(s)
    moods = {
        t.id: (t.emotion, t.sentiment)
        for t in session.execute(
            select(Ticket.id, Ticket.emotion, Ticket.sentiment).where(Ticket.id.in_(ids))
        )
    }
    rows = []
    for case in facts.cases:
        figures = all_figures(
            [case], replies.get(case.ticket_id, ()), surveys.get(case.ticket_id, ())
        )
        emotion, sentiment = moods.get(case.ticket_id, (None, None))
        row: Row = {
            "ticket_id": case.ticket_id,
            "created_at": case.created_at,
            "day": local_day(case.created_at),
            "agent_id": case.agent_id,
            "group_id": case.group_id,
            "channel": case.channel,
            "category": case.category,
            "priority": case.priority,
            "business_line": case.business_line,
            "path": case.path.value,
            "emotion": emotion,
            "sentiment": sentiment,
            "first_response_seconds": figures[Metric.FIRST_RESPONSE_MEDIAN].value,
        }
        for metric in ADDITIVE_ORDER:
            figure = figures[metric]
            row[f"{metric.value}_n"] = figure.numerator or 0.0
            row[f"{metric.value}_d"] = figure.denominator
        rows.append(row)
    return rows


def sums_of(row: Row | Any, cases: float = 1.0) -> list[float]:
    """A row's vector: cases, then every ``SUM_COLUMNS`` value in order."""
    get = row.get if isinstance(row, dict) else row._mapping.get
    return [float(cases)] + [float(get(c) or 0) for c in SUM_COLUMNS]


def add_into(total: list[float], part: Sequence[float], sign: float = 1.0) -> None:
    for i, value in enumerate(part):
        total[i] += sign * value
