"""The dashboard's tables flat (a header and rows) for CSV and XLSX (``exports``): each built
from only the query its table needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.domain.kpi.scorecard import COMPONENTS, Pillar
from kefu.domain.kpi.slices import DEFAULT_TZ, Period
from kefu.services.actors import Actor
from kefu.services.analytics import breakdowns, kpis
from kefu.services.analytics.drilldown import TicketLine
from kefu.services.analytics.facts import Filters
from kefu.services.analytics.scorecards import agent_scorecards
from kefu.services.analytics.targets import check_reader

Table = tuple[list[str], list[list[object]]]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def kpi_table(
    session: Session, actor: Actor, start: datetime, end: datetime, filters: Filters
) -> Table:
    rows = kpis.kpi_table(session, actor, start=start, end=end, filters=filters)
    return kpis.flat_rows(rows, (), sliced_by_period=False)


def trend_table(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    filters: Filters,
    period: Period = Period.DAY,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Table:
    rows = kpis.kpi_table(
        session, actor, start=start, end=end, period=period, filters=filters, tz=tz
    )
    return kpis.flat_rows(rows, (), sliced_by_period=True)


def complaints_table(session: Session, start: datetime, end: datetime, filters: Filters) -> Table:
    bars = breakdowns.complaint_categories(session, start, end, filters)
    header = ["category", "count", "share", "cumulative_share"]
    return header, [[b.key, b.count, _round(b.share), _round(b.cumulative)] for b in bars]


def emotions_table(
    session: Session, start: datetime, end: datetime, filters: Filters, tz: ZoneInfo = DEFAULT_TZ
) -> Table:
    rows: list[list[object]] = []
    emotions, sentiments = breakdowns.moods_by_day(session, start, end, filters, tz)
    for kind, counts in (("emotion", emotions), ("sentiment", sentiments)):
        for value, series in counts.series.items():
            rows += [[day, kind, value, n] for day, n in zip(counts.days, series, strict=True) if n]
    return ["day", "column", "value", "cases"], sorted(rows, key=lambda r: (str(r[0]), str(r[1])))


def breaches_table(
    session: Session, start: datetime, end: datetime, filters: Filters, tz: ZoneInfo = DEFAULT_TZ
) -> Table:
    heat = breakdowns.breach_heatmap(session, start, end, filters, tz)
    header = ["iso_weekday"] + [f"{h:02d}:00" for h in breakdowns.HOURS]
    return header, [[day, *heat.cells[day - 1]] for day in breakdowns.WEEKDAYS]


def scorecards_table(
    session: Session, actor: Actor, start: datetime, end: datetime, filters: Filters
) -> Table:
    cards = agent_scorecards(session, actor, start, end, filters)
    header = ["agent_id", "agent", "cases"]
    header += [c.metric.value for c in COMPONENTS]
    header += [f"{c.metric.value}_score" for c in COMPONENTS]
    header += [f"{p.value}_score" for p in Pillar] + ["composite_score"]
    rows: list[list[object]] = []
    for card in cards:
        row: list[object] = [card.agent_id, card.name, card.cases]
        row += [_round(card.figures[c.metric].value) for c in COMPONENTS]
        row += [_round(card.card.scores[c.metric]) for c in COMPONENTS]
        row += [_round(card.card.pillars[p]) for p in Pillar]
        rows.append([*row, _round(card.card.composite)])
    return header, rows


def tickets_table(lines: list[TicketLine]) -> Table:
    header = ["id", "subject", "status", "priority", "channel", "agent", "created_at"]
    return header, [
        [t.id, t.subject, t.status, t.priority, t.channel, t.agent, t.created_at.isoformat()]
        for t in lines
    ]


TABLES: dict[str, Callable[..., Table]] = {
    "kpis": kpi_table,
    "trend": trend_table,
    "complaints": complaints_table,
    "emotions": emotions_table,
    "breaches": breaches_table,
    "scorecards": scorecards_table,
}


def table(
    session: Session,
    actor: Actor,
    name: str,
    start: datetime,
    end: datetime,
    filters: Filters,
    period: Period = Period.DAY,
) -> Table:
    """The named table of the dashboard (a key of ``TABLES``); supervisors and admins only."""
    check_reader(actor)
    if name in ("kpis", "scorecards"):
        return TABLES[name](session, actor, start, end, filters)
    if name == "trend":
        return trend_table(session, actor, start, end, filters, period)
    return TABLES[name](session, start, end, filters)
