"""The dashboard's quality figures: the reviews of the cases resolved in the period, their
average, critical failures, most-missed criteria and per agent; a supervisor's verdicts count
where they judged; filters and periods narrow."""

from __future__ import annotations

from datetime import timedelta

from kefu.db.base import utcnow
from kefu.domain.kpi.slices import DEFAULT_TZ, Period
from kefu.services.actors import Actor
from kefu.services.analytics.facts import Filters
from kefu.services.analytics.quality import by_period, quality
from kefu.services.qa import reviewing
from tests import factories
from tests.services.qa.cases import rude_case


def test_the_periods_reviews_averaged_per_team_and_agent(db, engine):
    first, second = factories.make_user(db, name="甲"), factories.make_user(db, name="乙")
    one, two = rude_case(db, engine, first), rude_case(db, engine, first)
    three = rude_case(db, engine, second)
    now = utcnow()
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    got = quality(db, start, end)
    assert got.reviews == 3 and got.critical == 3
    assert {("courtesy", 3), ("greeting", 3)} <= set(got.missed)
    assert got.average == round((one.total + two.total + three.total) / 3, 1)
    assert {(a.name, a.reviews, a.critical) for a in got.agents} == {("甲", 2, 2), ("乙", 1, 1)}
    boss = factories.make_user(db, role="supervisor")
    actor = Actor(user_id=boss.id, role=boss.role, via="test", name=boss.name)
    reviewing.do_judge(db, actor, three, {"courtesy": "pass", "greeting": "pass"}, "误判")
    db.commit()
    judged = quality(db, start, end)
    assert judged.critical == 2 and ("courtesy", 2) in judged.missed
    mine = quality(db, start, end, Filters(agent_id=second.id))
    assert mine.reviews == 1 and mine.critical == 0
    assert quality(db, end, end + timedelta(days=1)).reviews == 0
    daily = by_period(db, start, end, Filters(), Period.DAY, DEFAULT_TZ)
    assert 1 <= len(daily) <= 2  # the local day of the resolutions (two if midnight fell between)
    if len(daily) == 1:
        assert list(daily.values()) == [judged.average]  # the judged totals
