"""The median first response read from the rollup equals the median of the raw rows for every
slicing the dashboard asks (the whole period; per day, week and month; per agent; filtered),
with changes pending (their current values folded in) and after the job caught up; and when the
counts it was given run past the stored values (a refresh removed some between the reads) it
sorts instead and still answers right."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Ticket
from kefu.domain.kpi.metrics import Metric
from kefu.domain.kpi.slices import Dimension, Period, compute
from kefu.services.analytics import rollup, rollup_medians, rollup_read
from kefu.services.analytics.facts import Filters, period_facts
from tests import factories

DAY0 = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Shanghai
START, END = DAY0 - timedelta(days=1), DAY0 + timedelta(days=40)
SLICINGS = [
    ((), None),
    ((), Period.DAY),
    ((), Period.WEEK),
    ((), Period.MONTH),
    ((Dimension.AGENT,), None),
    ((Dimension.CHANNEL,), None),  # not walked: sorted
]


def _history(db: Any) -> tuple[list[Ticket], Any]:
    group = factories.make_group(db)
    agents = [factories.make_user(db, groups=[group]) for _ in range(3)]
    customer = factories.make_customer(db)
    made = []
    for i in range(90):
        at = DAY0 + timedelta(days=(i * 7) % 38, hours=i % 11)
        answered = None if i % 9 == 4 else at + timedelta(seconds=30 + (i * 37) % 900)
        t = Ticket(subject="问题", status="open", channel=("web", "email")[i % 2], priority="P3",
                   customer_id=customer.id, group_id=group.id if i % 3 else None,
                   assignee_id=agents[i % 3].id if i % 4 else None, created_at=at,
                   updated_at=at, first_response_at=answered)  # fmt: skip
        db.add(t)
        made.append(t)
    db.commit()
    return made, group


def _assert_medians_equal_raw(db: Any, filters: Filters = Filters()) -> None:  # noqa: B008
    facts = period_facts(db, start=START, end=END, filters=filters)
    for by, period in SLICINGS:
        want = compute(facts.cases, facts.replies, facts.surveys, by=by, period=period)
        got, _ = rollup_read.figures(db, start=START, end=END, by=by, period=period,
                                     filters=filters)  # fmt: skip
        assert list(got) == list(want), (by, period)
        for key, figures in want.items():
            have, expected = (
                got[key][Metric.FIRST_RESPONSE_MEDIAN],
                figures[Metric.FIRST_RESPONSE_MEDIAN],
            )
            assert (have.value, have.denominator) == (expected.value, expected.denominator), (
                by, period, key,
            )  # fmt: skip


@pytest.fixture
def history(db, engine):
    made, group = _history(db)
    rollup.refresh_until_done(make_session_factory(writer_bind(engine)))
    db.commit()
    return made, group


def test_medians_from_the_rollup_equal_the_raw_ones_fresh_and_pending(
    db, engine, history, monkeypatch
):
    made, group = history
    sorted_by: list[list[str]] = []  # the slicings that sorted rather than walked
    sort = rollup_medians._sorted
    monkeypatch.setattr(
        rollup_medians, "_sorted", lambda s, q, *a: sorted_by.append(q.columns) or sort(s, q, *a)
    )
    _assert_medians_equal_raw(db)
    _assert_medians_equal_raw(db, Filters(group_id=group.id))
    _assert_medians_equal_raw(db, Filters(channel="email"))
    for t in made[:12]:  # changes not rolled up yet: their current values folded in
        t.first_response_at = t.created_at + timedelta(seconds=5) if t.id % 2 else None
    made[20].assignee_id = made[21].assignee_id
    db.add(Ticket(subject="新", status="open", channel="web", priority="P3",
                  customer_id=made[0].customer_id, created_at=DAY0 + timedelta(days=3),
                  updated_at=DAY0, first_response_at=DAY0 + timedelta(days=3, seconds=1)))  # fmt: skip
    db.commit()
    assert 0 < rollup_read.freshness(db).pending <= rollup_read.FOLD_LIMIT
    _assert_medians_equal_raw(db)
    _assert_medians_equal_raw(db, Filters(group_id=group.id))
    rollup.refresh_until_done(make_session_factory(writer_bind(engine)))
    db.commit()
    _assert_medians_equal_raw(db)
    if engine.dialect.name == "postgresql":  # SQLite takes the median in Python
        assert sorted_by == [["channel"]] * 6


def test_counts_past_the_stored_values_fall_back_to_the_sort(db, history):
    query = rollup_read.ReadQuery(START, END, (), None, Filters())
    right = rollup_medians.medians(db, query, [], [], {(): 80})[()]
    assert right.denominator == 80
    for wrong in (161, 500):  # the window starts past the last stored value
        got = rollup_medians.medians(db, query, [], [], {(): wrong})[()]
        assert (got.value, got.denominator) == (right.value, right.denominator)
