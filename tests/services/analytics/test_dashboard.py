"""The dashboard's grouped queries and its drill-down over the hand-worked day of scenario.py
(on SQLite and PostgreSQL): complaint categories, emotion and sentiment per day, the breach heat
map, the agents' scorecards, and which tickets make each figure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.db.models import SlaEvent, Ticket
from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.scorecard import Pillar
from kefu.domain.kpi.slices import Period
from kefu.domain.roles import Role
from kefu.errors import PermissionDenied
from kefu.services.actors import Actor
from kefu.services.analytics import (
    breakdowns,
    dashboard,
    dashboard_tables,
    drilldown,
    kpis,
    rollup,
    rollup_read,
)
from kefu.services.analytics.drilldown import Drill, Part
from kefu.services.analytics.facts import NO_FILTERS, Filters
from tests.factories import _writes
from tests.services.analytics import scenario
from tests.services.analytics.test_kpis import SUPERVISOR

START, END = kpis.date_range(scenario.DAY, scenario.DAY)
WEEK_START, WEEK_END = kpis.date_range(scenario.DAY.replace(day=1), scenario.DAY.replace(day=7))


@_writes
def _complaints(db: Session, ids: dict[str, int]) -> None:
    """T1 becomes a complaint too; T1 and T3 about logistics, T5 not analysed."""
    db.execute(update(Ticket).where(Ticket.id == ids["T1"]).values(case_path="complaint"))
    for name in ("T1", "T3"):
        db.execute(update(Ticket).where(Ticket.id == ids[name]).values(category="logistics"))
    db.commit()


def test_complaint_categories_as_pareto_bars(db: Session) -> None:
    story = scenario.build(db)
    bars = breakdowns.complaint_categories(db, START, END)
    assert [(b.key, b.count, b.cumulative) for b in bars] == [("", 2, 100.0)]  # T3, T5
    _complaints(db, story.tickets)
    bars = breakdowns.complaint_categories(db, START, END)
    assert [(b.key, b.count) for b in bars] == [("logistics", 2), ("", 1)]
    assert [round(b.cumulative, 2) for b in bars] == [66.67, 100.0]
    assert breakdowns.complaint_categories(db, START, END, Filters(channel="email")) == []
    assert [
        b.count
        for b in breakdowns.complaint_categories(db, START, END, Filters(agent_id=story.agent_b))
    ] == [1]


def test_emotion_and_sentiment_per_local_day(db: Session) -> None:
    story = scenario.build(db)
    emotions, _ = breakdowns.moods_by_day(db, WEEK_START, WEEK_END)
    assert emotions.days == [f"2026-12-0{d}" for d in range(1, 8)]
    by_day = [sum(s[i] for s in emotions.series.values()) for i in range(7)]
    assert by_day == [5, 0, 0, 0, 0, 0, 0]  # T6 was opened in November
    expected = {}
    for name in ("T1", "T2", "T3", "T4", "T5"):
        emotion = db.scalar(select(Ticket.emotion).where(Ticket.id == story.tickets[name]))
        expected[emotion or ""] = expected.get(emotion or "", 0) + 1
    assert {k: v[0] for k, v in emotions.series.items()} == expected
    _, sentiments = breakdowns.moods_by_day(db, START, END, Filters(channel="email"))
    assert (
        sentiments.days == ["2026-12-01"] and sum(sum(v) for v in sentiments.series.values()) == 1
    )
    assert breakdowns.moods_by_day(db, START, END, Filters(group_id=10**9))[0].series == {}


def test_breaches_by_local_weekday_and_hour(db: Session) -> None:
    story = scenario.build(db)
    heat = breakdowns.breach_heatmap(db, START, END)
    # T2's first response breached at 02:05 UTC: Tuesday 10:05 in Beijing.
    assert heat.total == 1 and heat.peak == 1 and heat.cells[1][10] == 1
    assert breakdowns.breach_heatmap(db, START, END, Filters(channel="web")).total == 0
    assert breakdowns.breach_heatmap(db, START, END, Filters(group_id=story.group_id)).total == 1
    before = kpis.date_range(scenario.DAY.replace(day=2), scenario.DAY.replace(day=2))
    assert breakdowns.breach_heatmap(db, *before).total == 0
    # noticed three hours late (a sweep catching up): still counted when the clock ran out
    for event in db.scalars(select(SlaEvent)):
        event.fired_at = event.due_at + timedelta(hours=3)
    db.commit()
    assert breakdowns.breach_heatmap(db, START, END).cells[1][10] == 1


def test_agents_scorecards(db: Session) -> None:
    story = scenario.build(db)
    cards = {c.agent_id: c for c in dashboard.agent_scorecards(db, SUPERVISOR, START, END)}
    assert set(cards) == {story.agent_a, story.agent_b}
    a, b = cards[story.agent_a], cards[story.agent_b]
    assert (a.name, a.cases, b.name, b.cases) == ("甲", 1, "乙", 2)  # T2 moved from 甲 to 乙
    # 甲: T1 first response 240 s (target 120: 50), everything else on target, no CSAT.
    assert a.card.scores[Metric.FIRST_RESPONSE_MEAN] == pytest.approx(50)
    assert a.card.composite == pytest.approx((15 * 50 + 5 * 15 * 100) / 90)
    # 乙: T2 600 s (20), AHT (1200 + 0) / 2 (100), SLA 0 % (0), reopen 50 % (10),
    # FCR 50 % (100 · 50 / 85), resolution 100 % (100).
    assert b.card.pillars[Pillar.QUALITY] == pytest.approx(5)
    assert b.card.composite == pytest.approx(15 * (20 + 100 + 0 + 10 + 5000 / 85 + 100) / 90)
    assert list(cards) == [story.agent_a, story.agent_b]  # the better composite first
    with pytest.raises(PermissionDenied):
        dashboard.agent_scorecards(db, Actor(user_id=9, role=Role.AGENT, via="session"), START, END)


def test_the_whole_dashboard_and_its_trend(db: Session) -> None:
    scenario.build(db)
    view = dashboard.dashboard(db, SUPERVISOR, WEEK_START, WEEK_END, period=Period.DAY)
    assert len(view.cards) == len(Metric)
    assert view.trend.labels[0] == "2026-12-01" and len(view.trend.labels) == 7
    assert view.trend.series[Metric.RESOLUTION_RATE] == [80.0] + [None] * 6
    week = dashboard.trend(db, SUPERVISOR, WEEK_START, WEEK_END, period=Period.WEEK)
    assert week.labels == ["2026-W49", "2026-W50"]  # Monday 12-07 opens week 50
    assert week.series[Metric.FIRST_CONTACT_RESOLUTION] == [75.0, None]
    empty = dashboard.dashboard(
        db,
        SUPERVISOR,
        *kpis.date_range(scenario.DAY.replace(year=2001), scenario.DAY.replace(year=2001)),
    )
    assert all(c.figure.value is None for c in empty.cards) and empty.complaints == []
    assert empty.breaches.total == 0 and empty.scorecards == []


def _ids(db: Session, drill: Drill, filters: Filters = NO_FILTERS) -> set[int]:
    return set(drilldown.ticket_ids(db, START, END, filters, drill))


@pytest.mark.parametrize(
    ("metric", "sample", "counted"),
    [
        (Metric.FIRST_CONTACT_RESOLUTION, "T1 T2 T3 T4", "T1 T3 T4"),
        (Metric.RESOLUTION_RATE, "T1 T2 T3 T4 T5", "T1 T2 T3 T4"),
        (Metric.REOPEN_RATE, "T1 T2 T3 T4", "T2"),
        (Metric.SLA_COMPLIANCE, "T1 T2", "T1"),
        (Metric.ESCALATION_RATE, "T1 T2 T3 T4 T5", "T2"),
        (Metric.SELF_SERVICE_RATE, "T1 T2 T3 T4", "T4"),
        (Metric.LOOP_COMPLETION, "T3 T5", "T3"),
        (Metric.REPEAT_COMPLAINT_RATE, "T3 T5", "T3"),
        (Metric.FIRST_RESPONSE_MEAN, "T1 T2 T4", None),
        (Metric.AVERAGE_HANDLE, "T1 T2 T3 T4", None),
        (Metric.CSAT, "", ""),
    ],
)
def test_drill_down_lists_a_figures_sample_and_count(
    db: Session, metric: Metric, sample: str, counted: str | None
) -> None:
    t = scenario.build(db).tickets
    names = {v: k for k, v in t.items()}
    assert drilldown.has_count(metric) == (counted is not None)
    for _ in ("changes pending, read as they are now", "from the rollup alone"):
        got = {p: " ".join(sorted(names[i] for i in _ids(db, Drill(metric, p)))) for p in Part}
        assert got[Part.SAMPLE] == sample
        if counted is not None:
            assert got[Part.COUNTED] == counted
            others = sorted(set(sample.split()) - set(counted.split()))
            assert got[Part.OTHERS] == " ".join(others)
        rollup.refresh_until_done(lambda: db)
        assert rollup_read.freshness(db).pending == 0
    # the sample is the figure's denominator
    cell = next(
        c
        for c in kpis.kpi_table(db, SUPERVISOR, start=START, end=END)[0].cells
        if c.metric == metric
    )
    assert cell.figure.denominator == len(sample.split())


def test_drill_down_by_category_cell_agent_and_pages(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = scenario.build(db)
    t = story.tickets
    assert _ids(db, Drill(category="")) == {t["T3"], t["T5"]}
    assert _ids(db, Drill(category="logistics")) == set()
    assert _ids(db, Drill(weekday=2, hour=10)) == {t["T2"]}
    assert _ids(db, Drill(weekday=2, hour=11)) == set()
    assert _ids(db, Drill(), Filters(agent_id=story.agent_b)) == {t["T2"], t["T3"]}
    monkeypatch.setattr(drilldown, "PAGE_SIZE", 2)
    second = drilldown.ticket_page(db, SUPERVISOR, START, END, page=2)
    assert (second.total, second.pages, second.page) == (5, 3, 2)
    newest_first = sorted((t[n] for n in ("T1", "T2", "T3", "T4", "T5")), reverse=True)
    assert [line.id for line in second.lines] == newest_first[2:4]
    last = drilldown.ticket_page(db, SUPERVISOR, START, END, page=99)
    assert last.page == 3 and len(last.lines) == 1
    a_line = drilldown.ticket_page(
        db, SUPERVISOR, START, END, Filters(agent_id=story.agent_a)
    ).lines[0]
    assert (a_line.id, a_line.agent, a_line.channel) == (t["T1"], "甲", "web")


def test_tables_for_export(db: Session) -> None:
    scenario.build(db)
    for name in dashboard_tables.TABLES:
        header, rows = dashboard_tables.table(db, SUPERVISOR, name, START, END, Filters())
        assert header and rows and all(len(r) == len(header) for r in rows), name
    header, rows = dashboard_tables.table(db, SUPERVISOR, "breaches", START, END, Filters())
    assert rows[1][1 + 10] == 1 and len(rows) == 7
