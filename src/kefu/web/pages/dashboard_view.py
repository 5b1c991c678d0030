"""What the dashboard's pages show, ready for the templates: the figures' names and numbers in
the reader's language, the cards, the charts' data for dashboard.js, the heat map's shaded cells,
the scorecards' rows, the drill-down's title; every link carrying the page's filters."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy import select

from kefu.db.models import Group
from kefu.domain.kpi.metrics import Figure, Metric, Unit
from kefu.domain.kpi.scorecard import COMPONENTS, Pillar
from kefu.domain.kpi.targets import Direction, Target
from kefu.services.analytics import dashboard as service
from kefu.services.analytics import drilldown
from kefu.services.analytics.breakdowns import HOURS, WEEKDAYS
from kefu.web import i18n
from kefu.web.labels import LABELS, N_, label
from kefu.web.pages import dashboard_query as q

METRIC_NAMES = {
    Metric.FIRST_RESPONSE_MEDIAN: N_("首次响应时间（中位数）"),
    Metric.FIRST_RESPONSE_MEAN: N_("首次响应时间（平均）"),
    Metric.AVERAGE_RESPONSE: N_("平均响应时间"),
    Metric.AVERAGE_HANDLE: N_("平均处理时长"),
    Metric.FIRST_CONTACT_RESOLUTION: N_("首次解决率"),
    Metric.RESOLUTION_RATE: N_("问题解决率"),
    Metric.REOPEN_RATE: N_("重开率"),
    Metric.SLA_COMPLIANCE: N_("SLA 达成率"),
    Metric.ESCALATION_RATE: N_("升级率"),
    Metric.TRANSFERS_PER_CASE: N_("每单转接次数"),
    Metric.SELF_SERVICE_RATE: N_("自助服务率"),
    Metric.CSAT: N_("客户满意度 CSAT"),
    Metric.NPS: N_("净推荐值 NPS"),
    Metric.CES: N_("客户费力度 CES"),
    Metric.SURVEY_RESPONSE_RATE: N_("调查回复率"),
    Metric.LOOP_COMPLETION: N_("投诉闭环完成率"),
    Metric.REPEAT_COMPLAINT_RATE: N_("重复投诉率"),
}
PILLAR_NAMES = {
    Pillar.EFFICIENCY: N_("效率"),
    Pillar.QUALITY: N_("质量"),
    Pillar.OUTCOME: N_("结果"),
}
WEEKDAY_NAMES = {
    1: N_("周一"), 2: N_("周二"), 3: N_("周三"), 4: N_("周四"), 5: N_("周五"), 6: N_("周六"),
    7: N_("周日"),
}  # fmt: skip
PART_NAMES = {
    drilldown.Part.SAMPLE: N_("全部样本"),
    drilldown.Part.COUNTED: N_("计入分子"),
    drilldown.Part.OTHERS: N_("未计入"),
}


class Words:
    """The reader's language for the numbers' units."""

    def __init__(self, request: Request) -> None:
        self.language = i18n.language_of(request)

    def __call__(self, message: str, **values: object) -> str:
        text = i18n.gettext(self.language, message)
        return text % values if values else text

    def value(self, value: float | None, unit: Unit) -> str:
        if value is None:
            return "—"
        if unit == Unit.PERCENT:
            return f"{value:.1f}%"
        if unit == Unit.SECONDS:
            if value < 60:
                return self(N_("%(n)s 秒"), n=f"{value:.0f}")
            if value < 3600:
                return self(N_("%(n)s 分钟"), n=f"{value / 60:.1f}")
            return self(N_("%(n)s 小时"), n=f"{value / 3600:.1f}")
        if unit == Unit.NPS:
            return f"{value:+.0f}"
        return f"{value:.2f}"

    def target(self, target: Target, unit: Unit) -> str:
        sign = "≥" if target.direction == Direction.HIGHER else "≤"
        return f"{sign} {self.value(target.threshold, unit)}"


def groups(db: Any) -> list[tuple[int, str]]:
    return [(i, n) for i, n in db.execute(select(Group.id, Group.name).order_by(Group.name))]


def form_context(request: Request, db: Any, chosen: q.Chosen) -> dict[str, Any]:
    today = q.today_local()
    words = Words(request)
    return {
        "chosen": chosen,
        "errors": {k: words(v) for k, v in chosen.errors.items()},
        "groups": groups(db),
        "channels": q.CHANNELS,
        "presets": [(k, name, chosen.with_preset(k, today)) for k, name in q.PRESETS.items()],
        "grains": q.GRAINS,
        "metric_names": METRIC_NAMES,
        "view": None,
        "listing": None,
        "title": [],
        "back": "",
    }


def kpi_card(words: Words, chosen: q.Chosen, cell: Any) -> dict[str, Any]:
    figure: Figure = cell.figure
    counted = drilldown.has_count(cell.metric)
    return {
        "metric": cell.metric.value,
        "name": words(METRIC_NAMES[cell.metric]),
        "value": words.value(figure.value, figure.unit),
        "target": words.target(cell.target, figure.unit),
        "verdict": cell.verdict.value,
        "sample": figure.denominator,
        "counted": int(figure.numerator or 0) if counted else None,
        "href": "/dashboard/tickets?" + chosen.query(metric=cell.metric.value),
        "counted_href": "/dashboard/tickets?"
        + chosen.query(metric=cell.metric.value, part="counted"),
        "others_href": "/dashboard/tickets?"
        + chosen.query(metric=cell.metric.value, part="others"),
    }


def series(words: Words, counts: Any, kind: str) -> list[dict[str, Any]]:
    return [
        {"key": key or "unknown", "label": words(label(kind, key)) if key else words(N_("未分析")),
         "values": values}
        for key, values in counts.series.items()
    ]  # fmt: skip


def charts(words: Words, chosen: q.Chosen, view: service.Dashboard) -> dict[str, Any]:
    """The charts' data and words, for dashboard.js (no markup: it is drawn as text)."""
    trend = view.trend
    return {
        "trend": {
            "labels": trend.labels,
            "series": [
                {
                    "key": m.value,
                    "label": words(METRIC_NAMES[m])
                    + (words(N_("（分钟）")) if m == Metric.AVERAGE_RESPONSE else " (%)"),
                    "minutes": m == Metric.AVERAGE_RESPONSE,
                    "values": [
                        None
                        if v is None
                        else round(v / 60 if m == Metric.AVERAGE_RESPONSE else v, 2)
                        for v in values
                    ],
                }
                for m, values in trend.series.items()
            ]
            + [
                {
                    "key": "qa",
                    "label": words(N_("质检均分")) + words(N_("（分）")),
                    "minutes": False,
                    "values": trend.quality,
                }
            ],
        },
        "complaints": {
            "labels": [
                words(label("category", b.key)) if b.key else words(N_("未分类"))
                for b in view.complaints
            ],
            "counts": [b.count for b in view.complaints],
            "cumulative": [round(b.cumulative, 1) for b in view.complaints],
            "links": [
                "/dashboard/tickets?" + chosen.query(category=b.key) for b in view.complaints
            ],
        },
        "emotions": {
            "labels": view.emotions.days,
            "series": series(words, view.emotions, "emotion"),
        },
        "sentiments": {
            "labels": view.sentiments.days,
            "series": series(words, view.sentiments, "sentiment"),
        },
        "words": {
            "cases": words(N_("投诉工单数")),
            "cumulative": words(N_("累计占比 (%)")),
            "percent": words(N_("百分比")),
            "minutes": words(N_("分钟")),
        },
    }


def scorecard_rows(words: Words, chosen: q.Chosen, view: service.Dashboard) -> list[dict[str, Any]]:
    rows = []
    for card in view.scorecards:
        rows.append(
            {
                "name": card.name,
                "cases": card.cases,
                "href": "/dashboard/tickets?" + chosen.query(agent=card.agent_id),
                "figures": [
                    (
                        words.value(card.figures[c.metric].value, card.figures[c.metric].unit),
                        card.figures[c.metric].value,
                    )
                    for c in COMPONENTS
                ],
                "pillars": [card.card.pillars[p] for p in Pillar],
                "composite": card.card.composite,
            }
        )
    return rows


def heat_rows(words: Words, chosen: q.Chosen, view: service.Dashboard) -> list[dict[str, Any]]:
    peak = view.breaches.peak or 1
    return [
        {
            "name": words(WEEKDAY_NAMES[day]),
            "cells": [
                {
                    "count": count,
                    "level": 0 if not count else 1 + min(4, 5 * count // (peak + 1)),
                    "href": "/dashboard/tickets?" + chosen.query(weekday=day, hour=hour)
                    if count
                    else "",
                    "title": words(N_("%(day)s %(hour)s 时：%(count)s 次超时"),
                        day=words(WEEKDAY_NAMES[day]), hour=hour, count=count,
                    ),
                }
                for hour, count in zip(HOURS, view.breaches.cells[day - 1], strict=True)
            ],
        }
        for day in WEEKDAYS
    ]  # fmt: skip


def drill_title(words: Words, drill: drilldown.Drill, agent: str | None) -> list[str]:
    parts = []
    if drill.metric is not None:
        parts.append(words(METRIC_NAMES[drill.metric]))
        if drilldown.has_count(drill.metric):
            parts.append(words(PART_NAMES[drill.part]))
    if drill.category is not None:
        name = words(label("category", drill.category)) if drill.category else words(N_("未分类"))
        parts.append(words(N_("投诉类别：%(name)s"), name=name))
    if drill.weekday is not None and drill.hour is not None:
        parts.append(
            words(
                N_("SLA 超时：%(day)s %(hour)s 时"),
                day=words(WEEKDAY_NAMES[drill.weekday]),
                hour=drill.hour,
            )
        )
    if agent is not None:
        parts.append(words(N_("坐席：%(name)s"), name=agent))
    return parts or [words(N_("全部工单"))]


def dashboard_context(words: Words, chosen: q.Chosen, view: service.Dashboard) -> dict[str, Any]:
    """What index.html shows of a computed dashboard."""
    return {
        "view": view,
        "cards": [kpi_card(words, chosen, cell) for cell in view.cards],
        "charts": charts(words, chosen, view),
        "scorecards": scorecard_rows(words, chosen, view),
        "components": [words(METRIC_NAMES[c.metric]) for c in COMPONENTS],
        "weights": [
            (words(METRIC_NAMES[c.metric]), words(PILLAR_NAMES[c.pillar]), c.weight)
            for c in COMPONENTS
        ],
        "pillars": [words(PILLAR_NAMES[p]) for p in Pillar],
        "heat_rows": heat_rows(words, chosen, view),
        "quality": view.quality,
        "criterion_names": LABELS["qa_criterion"],
        "hours": list(HOURS),
        "has_cases": any(
            c.figure.denominator for c in view.cards if c.metric == Metric.RESOLUTION_RATE
        ),
        "export": lambda name, fmt: f"/dashboard/export/{name}?" + chosen.query(format=fmt),
    }


def drill_context(
    words: Words,
    chosen: q.Chosen,
    drill: drilldown.Drill,
    agent_id: int | None,
    agent: str | None,
    listing: drilldown.TicketPage,
) -> dict[str, Any]:
    """What tickets.html shows of one page of a drill-down: its title, the sample/count tabs, the
    links to the other pages and to the exports, all with the same filters."""
    extra: dict[str, object] = {
        "metric": drill.metric.value if drill.metric else "",
        "part": drill.part.value if drill.metric and drilldown.has_count(drill.metric) else "",
        "category": drill.category,
        "weekday": drill.weekday,
        "hour": drill.hour,
        "agent": agent_id,
    }
    return {
        "listing": listing,
        "title": drill_title(words, drill, agent),
        "parts": [
            (
                p.value,
                words(name),
                "/dashboard/tickets?" + chosen.query(**(extra | {"part": p.value})),
            )
            for p, name in PART_NAMES.items()
        ]
        if drill.metric and drilldown.has_count(drill.metric)
        else [],
        "part": drill.part.value,
        "page_link": lambda n: "/dashboard/tickets?" + chosen.query(**(extra | {"page": n})),
        "export": lambda fmt: "/dashboard/tickets?" + chosen.query(**(extra | {"format": fmt})),
        "back": "/dashboard?" + chosen.query(),
    }
