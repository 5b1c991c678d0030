"""kpi_table over the hand-worked day of scenario.py: every metric of the whole, a few slices,
targets an admin overrides, and who may read the figures."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from kefu.db.models import Message, Script, ScriptUse
from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.slices import Dimension, Period
from kefu.domain.kpi.targets import Verdict
from kefu.domain.roles import Role
from kefu.errors import KefuError, PermissionDenied
from kefu.services.actors import SYSTEM, Actor
from kefu.services.analytics import kpis, targets
from kefu.services.analytics.facts import Filters
from kefu.services.analytics.scripts import script_effectiveness
from kefu.services.scripts.starter import ensure_starter_library
from tests.factories import _writes
from tests.services.analytics import scenario

START, END = kpis.date_range(scenario.DAY, scenario.DAY)

# (value, numerator, denominator) of the whole day, worked out by hand from scenario.py
WHOLE = {
    Metric.FIRST_RESPONSE_MEDIAN: (240, None, 3),  # T4 60, T1 240, T2 600
    Metric.FIRST_RESPONSE_MEAN: (300, 900, 3),
    Metric.AVERAGE_RESPONSE: (675, 2700, 4),  # 240 + 600 + 1800 + 60; T3 and T5 unanswered
    Metric.AVERAGE_HANDLE: (360, 1440, 4),  # T1 240 + T2 1200 over the 4 resolved
    Metric.FIRST_CONTACT_RESOLUTION: (75, 3, 4),  # T2 was reopened
    Metric.RESOLUTION_RATE: (80, 4, 5),
    Metric.REOPEN_RATE: (25, 1, 4),
    Metric.SLA_COMPLIANCE: (50, 1, 2),  # T1 met, T2 breached
    Metric.ESCALATION_RATE: (20, 1, 5),
    Metric.TRANSFERS_PER_CASE: (0.2, 1, 5),
    Metric.SELF_SERVICE_RATE: (25, 1, 4),  # T4, by the bot
    Metric.LOOP_COMPLETION: (50, 1, 2),  # T3 archived, T5 registered
    Metric.REPEAT_COMPLAINT_RATE: (50, 1, 2),
    Metric.CSAT: (None, 0, 0),
    Metric.NPS: (None, 0, 0),
    Metric.CES: (None, 0, 0),
    Metric.SURVEY_RESPONSE_RATE: (None, 0, 0),
}

SUPERVISOR = Actor(user_id=2, role=Role.SUPERVISOR, via="session", name="主管")


def _cells(row):
    return {c.metric: c for c in row.cells}


def _triple(cell):
    f = cell.figure
    value = None if f.value is None else pytest.approx(f.value)
    return value, f.numerator, f.denominator


def test_every_metric_of_the_day_equals_the_hand_worked_figure(db):
    scenario.build(db)
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END)
    cells = _cells(row)
    assert {m: _triple(cells[m]) for m in Metric} == WHOLE
    assert cells[Metric.RESOLUTION_RATE].verdict == Verdict.OFF_TARGET  # 80 < 95
    assert cells[Metric.AVERAGE_RESPONSE].verdict == Verdict.ON_TARGET  # 675 s ≤ 30 min
    assert cells[Metric.CSAT].verdict == Verdict.NO_DATA


def test_slices_by_agent_line_and_day_split_the_cases(db):
    s = scenario.build(db)
    rows = kpis.kpi_table(db, SUPERVISOR, start=START, end=END, by=[Dimension.AGENT])
    by_agent = {r.values["agent"]: _cells(r) for r in rows}
    assert list(by_agent) == [None, s.agent_a, s.agent_b]
    assert _triple(by_agent[s.agent_a][Metric.RESOLUTION_RATE]) == (100, 1, 1)
    assert _triple(by_agent[s.agent_b][Metric.TRANSFERS_PER_CASE]) == (0.5, 1, 2)
    assert _triple(by_agent[None][Metric.SELF_SERVICE_RATE]) == (100, 1, 1)  # T4 of T4, T5

    rows = kpis.kpi_table(
        db, SUPERVISOR, start=START, end=END, by=[Dimension.BUSINESS_LINE], period=Period.DAY
    )
    assert [(r.period, r.values) for r in rows] == [
        ("2026-12-01", {"business_line": None}),
        ("2026-12-01", {"business_line": "外卖"}),
    ]
    assert _triple(_cells(rows[1])[Metric.SLA_COMPLIANCE]) == (50, 1, 2)


def test_filters_narrow_the_cases(db):
    s = scenario.build(db)
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END, filters=Filters(channel="email"))
    assert _triple(_cells(row)[Metric.REOPEN_RATE]) == (100, 1, 1)
    [row] = kpis.kpi_table(
        db, SUPERVISOR, start=START, end=END, filters=Filters(group_id=s.group_id)
    )
    assert _cells(row)[Metric.RESOLUTION_RATE].figure.denominator == 3  # T1, T2, T3


def test_an_admins_target_replaces_the_default_and_a_reset_restores_it(db):
    scenario.build(db)
    targets.do_set_targets(db, SYSTEM, {"resolution_rate": 80.0})
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END)
    cell = _cells(row)[Metric.RESOLUTION_RATE]
    assert (cell.target.threshold, cell.verdict) == (80.0, Verdict.ON_TARGET)
    targets.do_set_targets(db, SYSTEM, {"resolution_rate": None})
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END)
    assert _cells(row)[Metric.RESOLUTION_RATE].target.threshold == 95


def test_agents_may_not_read_figures_and_supervisors_may_not_set_targets(db):
    agent = Actor(user_id=3, role=Role.AGENT, via="session", name="客服")
    with pytest.raises(PermissionDenied):
        kpis.kpi_table(db, agent, start=START, end=END)
    with pytest.raises(PermissionDenied):
        targets.target_rows(db, agent)
    with pytest.raises(PermissionDenied):
        targets.do_set_targets(db, SUPERVISOR, {"csat": 80.0})


@_writes
def _use_script(db, ticket_ids):
    script = db.scalars(select(Script).order_by(Script.id)).first()
    for ticket_id in ticket_ids:
        message = db.scalars(select(Message).where(Message.ticket_id == ticket_id)).first()
        db.add(ScriptUse(script_id=script.id, version=1, ticket_id=ticket_id,
                         message_id=message.id, as_is=True))  # fmt: skip
    db.commit()
    return script


def test_script_effectiveness_compares_the_cases_a_script_was_used_in(db):
    s = scenario.build(db)
    ensure_starter_library(db)
    db.commit()
    script = _use_script(db, [s.tickets["T1"], s.tickets["T2"], s.tickets["T6"]])
    [effect] = script_effectiveness(db, SUPERVISOR, start=START, end=END)
    assert (effect["script_id"], effect["title"]) == (script.id, script.title)
    assert (effect["uses"], effect["tickets"]) == (2, 2)  # T6 lies outside the period
    assert effect["resolution"]["n"] == 2
    assert effect["resolution"]["rate"] == pytest.approx(1.0)
    assert effect["first_contact_resolution"]["rate"] == pytest.approx(0.5)  # T2 reopened
    assert effect["weak"] and "too_few_uses" in effect["weak_reasons"]


@pytest.mark.parametrize(
    "thresholds",
    [
        {"csat": 101.0},
        {"nps": -101.0},
        {"ces": 0.5},
        {"average_response": -1.0},
        {"csat": math.nan},
    ],
)
def test_a_target_outside_what_its_figure_can_be_is_refused(db, thresholds):
    with pytest.raises(KefuError) as refused:
        targets.do_set_targets(db, SYSTEM, thresholds)
    assert refused.value.details == {"out_of_range": list(thresholds)}


def test_a_clock_met_in_time_still_counts_once_its_column_is_cleared(db):
    """The sweep clears a stopped clock's column; its ``met`` record keeps the case in SLA
    compliance's sample (without it only breached cases would count)."""
    from sqlalchemy import update

    from kefu.db.models import SlaEvent, Ticket

    made = scenario.build(db)
    t1 = made.tickets["T1"]
    db.execute(
        update(Ticket)
        .where(Ticket.id == t1)
        .values(first_response_due_at=None, resolution_due_at=None)
    )
    db.commit()
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END)
    assert _triple(_cells(row)[Metric.SLA_COMPLIANCE]) == (0, 0, 1)  # T2's breach alone
    db.add(SlaEvent(ticket_id=t1, key="first_response:met:x", target="first_response",
                    kind="met", due_at=scenario.at(30), fired_at=scenario.at(31)))  # fmt: skip
    db.commit()
    [row] = kpis.kpi_table(db, SUPERVISOR, start=START, end=END)
    assert _triple(_cells(row)[Metric.SLA_COMPLIANCE]) == (50, 1, 2)
