"""The service dashboard (数据看板): KPI cards against their targets, the key figures' trend by
day or week, and the breakdowns and scorecards; and each of its tables flat for an export.

Every figure comes from ``kpis.kpi_table`` (cards, trend, scorecards) or a grouped query of
``breakdowns``; this module only puts them together. Supervisors and admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.domain.kpi.metrics import Metric, all_figures
from kefu.domain.kpi.pareto import ParetoBar
from kefu.domain.kpi.slices import DEFAULT_TZ, Period, period_of
from kefu.domain.kpi.targets import judge
from kefu.services.actors import Actor
from kefu.services.analytics import breakdowns
from kefu.services.analytics.breakdowns import DailyCounts, HeatMap
from kefu.services.analytics.facts import NO_FILTERS, Filters
from kefu.services.analytics.kpis import MetricCell, kpi_table
from kefu.services.analytics.quality import Quality, quality
from kefu.services.analytics.quality import by_period as quality_by_period
from kefu.services.analytics.scorecards import AgentScorecard, agent_scorecards
from kefu.services.analytics.targets import check_reader, current_targets

TREND_METRICS = (
    Metric.FIRST_CONTACT_RESOLUTION,
    Metric.CSAT,
    Metric.AVERAGE_RESPONSE,
    Metric.RESOLUTION_RATE,
    Metric.SLA_COMPLIANCE,
)
MAX_DAYS = 366  # the longest period the dashboard draws


@dataclass(frozen=True)
class Trend:
    """``series[metric][i]`` is the figure of period ``labels[i]`` (None: no data then)."""

    period: Period
    labels: list[str]
    series: dict[Metric, list[float | None]]
    quality: list[float | None]  # the quality review's average score (质检均分)


@dataclass(frozen=True)
class Dashboard:
    cards: list[MetricCell]
    trend: Trend
    complaints: list[ParetoBar]
    emotions: DailyCounts
    sentiments: DailyCounts
    breaches: HeatMap
    scorecards: list[AgentScorecard]
    quality: Quality


def kpi_cards(
    session: Session, actor: Actor, start: datetime, end: datetime, filters: Filters = NO_FILTERS
) -> list[MetricCell]:
    """Every metric of the whole period against its target (no data: a card saying so)."""
    rows = kpi_table(session, actor, start=start, end=end, filters=filters)
    if rows:
        return rows[0].cells
    targets = current_targets(session)
    empty = all_figures([])
    return [MetricCell(m, f, targets[m], judge(f, targets[m])) for m, f in empty.items()]


def period_labels(start: datetime, end: datetime, period: Period, tz: ZoneInfo) -> list[str]:
    """The labels of every period from ``start`` to ``end`` (each once, in order)."""
    labels: list[str] = []
    for day in breakdowns.local_days(start, end, tz):
        noon = datetime.fromisoformat(day).replace(hour=12, tzinfo=tz)
        label = period_of(noon, period, tz)
        if not labels or labels[-1] != label:
            labels.append(label)
    return labels


def trend(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    period: Period = Period.DAY,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Trend:
    """The key figures (``TREND_METRICS``) per day or ISO week of the period."""
    rows = kpi_table(session, actor, start=start, end=end, period=period, filters=filters, tz=tz)
    labels = period_labels(start, end, period, tz)
    by_label = {r.period: {c.metric: c.figure.value for c in r.cells} for r in rows}
    series = {m: [by_label.get(label, {}).get(m) for label in labels] for m in TREND_METRICS}
    reviewed = quality_by_period(session, start, end, filters, period, tz)
    return Trend(period, labels, series, [reviewed.get(label) for label in labels])


def dashboard(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    filters: Filters = NO_FILTERS,
    period: Period = Period.DAY,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Dashboard:
    check_reader(actor)
    emotions, sentiments = breakdowns.moods_by_day(session, start, end, filters, tz)
    return Dashboard(
        cards=kpi_cards(session, actor, start, end, filters),
        trend=trend(session, actor, start, end, filters, period, tz),
        complaints=breakdowns.complaint_categories(session, start, end, filters),
        emotions=emotions,
        sentiments=sentiments,
        breaches=breakdowns.breach_heatmap(session, start, end, filters, tz),
        scorecards=agent_scorecards(session, actor, start, end, filters),
        quality=quality(session, start, end, filters),
    )
