"""The KPI rollup kept correct: changes marked stale in their own transaction (and only if it
commits), the refresh idempotent and equal to a rebuild, two refreshers at once, the backfill,
and the freshness a page shows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import Message, SlaEvent, Survey, Ticket
from kefu.db.models.analytics import (
    kpi_breach_hours,
    kpi_case_facts,
    kpi_daily,
    kpi_daily_agents,
    kpi_daily_moods,
    kpi_stale,
)
from kefu.domain.kpi.metrics import Metric
from kefu.domain.roles import Role
from kefu.domain.tickets import AuthorType, Direction
from kefu.services.actors import Actor
from kefu.services.analytics import (
    breakdowns,
    kpis,
    rollup,
    rollup_breaches,
    rollup_charts,
    rollup_read,
)
from kefu.services.analytics.facts import Filters
from kefu.services.analytics.rollup_rows import ROLLUP_TZ, day_start, local_day
from tests import factories

ADMIN = Actor(user_id=None, role=Role.ADMIN, via="test", name="test")
DAY0 = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


def _marks(session: Session) -> list[int]:
    return list(session.scalars(select(kpi_stale.c.ticket_id).order_by(kpi_stale.c.id)))


def _daily(session: Session) -> list[tuple[Any, ...]]:
    out = []
    for table in (kpi_daily, kpi_daily_agents, kpi_daily_moods, kpi_breach_hours):
        columns = [c for c in table.c if c.name != "id"]
        out += [tuple(r) for r in session.execute(select(*columns))]
    return sorted(out, key=repr)


def _cases(db: Session, n: int) -> list[Ticket]:
    customer = factories.make_customer(db)
    made = []
    for i in range(n):
        at = DAY0 + timedelta(days=i % 4, hours=i)
        t = Ticket(subject="问题", status="resolved" if i % 2 else "open", channel="email",
                   priority="P3", customer_id=customer.id, created_at=at, updated_at=at,
                   resolved_at=at + timedelta(hours=1) if i % 2 else None)  # fmt: skip
        db.add(t)
        db.flush()
        db.add(Message(ticket_id=t.id, channel="email", direction=Direction.INBOUND.value,
                       author_type=AuthorType.CUSTOMER.value, body_text="?", created_at=at))  # fmt: skip
        made.append(t)
    db.commit()
    return made


def _sessions(engine: Any) -> Any:
    return make_session_factory(writer_bind(engine))


def test_a_change_is_marked_in_its_own_transaction_and_only_if_it_commits(db, engine):
    ticket = _cases(db, 1)[0]
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    assert _marks(db) == []

    ticket.category = "物流"
    db.flush()
    assert _marks(db) == [ticket.id]  # written by the change's own statement
    with make_session_factory(engine)() as other:
        assert _marks(other) == []  # not before it commits
    db.rollback()
    assert _marks(db) == []

    survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, channel="email",
                    kinds=["csat"], sent_at=DAY0, comment="")  # fmt: skip
    db.add(survey)
    db.commit()
    assert _marks(db) == [ticket.id]
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    survey.csat, survey.answered_at = 5, DAY0 + timedelta(days=20)  # a late answer
    db.commit()
    assert _marks(db) == [ticket.id]
    ticket.subject = "改了标题"  # a column the figures do not read: no mark
    db.commit()
    assert _marks(db) == [ticket.id]


def test_a_late_survey_answer_moves_csat_at_once_and_after_the_job(db, engine):
    ticket = _cases(db, 2)[1]
    survey = Survey(ticket_id=ticket.id, customer_id=ticket.customer_id, channel="email",
                    kinds=["csat"], sent_at=DAY0, comment="")  # fmt: skip
    db.add(survey)
    db.commit()
    rollup.refresh_until_done(_sessions(engine))
    start, end = DAY0 - timedelta(days=1), DAY0 + timedelta(days=10)

    def csat() -> tuple[Any, ...]:
        view = kpis.kpi_view(db, ADMIN, start=start, end=end)
        cell = next(c for c in view.rows[0].cells if c.metric == Metric.CSAT)
        return cell.figure.value, cell.figure.denominator, view.freshness.pending

    db.commit()
    assert csat() == (None, 0, 0)
    survey.csat, survey.answered_at = 4, DAY0 + timedelta(days=9)
    db.commit()
    assert csat() == (100.0, 1, 1)  # pending, folded into the read
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    assert csat() == (100.0, 1, 0)  # from the rollup alone


def test_refresh_is_idempotent_and_equals_a_rebuild(db, engine):
    tickets = _cases(db, 12)
    sessions = _sessions(engine)
    counts = rollup.refresh_until_done(sessions, limit=5)
    assert counts["cases"] == 12 and counts["rounds"] >= 3  # 5 marks a round, 2 per case
    db.commit()
    once = _daily(db)
    assert sum(r[-1] for r in once if len(r) == 6) == 12  # the moods: every case counted once
    db.execute(kpi_stale.insert(), [{"ticket_id": t.id} for t in tickets])  # all marked again
    db.commit()
    rollup.refresh_until_done(sessions, limit=5)
    db.commit()
    assert _daily(db) == once
    tickets[0].status, tickets[0].resolved_at = "resolved", tickets[0].created_at
    tickets[1].merged_into_id = tickets[2].id
    db.commit()
    rollup.refresh_until_done(sessions)
    db.commit()
    incremental = _daily(db)
    assert incremental != once
    report = rollup.rebuild(sessions)
    db.commit()
    assert report.cases == 11  # the merged-away ticket has no row
    assert _daily(db) == incremental
    assert db.scalar(select(func.count()).select_from(kpi_case_facts)) == 11
    assert _marks(db) == []


def test_two_refreshers_at_once(db, engine):
    _cases(db, 30)
    sessions = _sessions(engine)
    result: dict[str, Any] = {}

    def second() -> None:
        with sessions() as session:
            result["round"] = rollup.refresh_round(session, limit=100)
            session.commit()

    thread = threading.Thread(target=second)
    with sessions() as first:
        assert rollup.refresh_round(first, limit=10)  # holds the rollup's lock, uncommitted
        thread.start()
        thread.join(timeout=1.0)
        if engine.dialect.name == "postgresql":
            assert not thread.is_alive() and result["round"] is None  # the lock is taken: skipped
        else:
            assert thread.is_alive()  # SQLite: waits for the write lock
        first.commit()
    thread.join()
    if engine.dialect.name == "sqlite":
        assert result["round"] > 0  # then went on with what was left
    rollup.refresh_until_done(sessions)
    db.commit()
    assert _marks(db) == []
    both = _daily(db)
    rollup.rebuild(sessions)
    db.commit()
    assert _daily(db) == both


def test_many_pending_changes_read_the_rollup_and_say_how_far_behind(db, engine, monkeypatch):
    tickets = _cases(db, 6)
    rollup.refresh_until_done(_sessions(engine))
    for t in tickets[:4]:
        t.status, t.resolved_at = "resolved", t.created_at + timedelta(hours=2)
    db.commit()
    monkeypatch.setattr(rollup_read, "FOLD_LIMIT", 3)
    start, end = DAY0 - timedelta(days=1), DAY0 + timedelta(days=10)
    view = kpis.kpi_view(db, ADMIN, start=start, end=end)
    assert view.freshness.pending == 4 and not view.freshness.exact
    assert view.freshness.fresh_as_of is not None
    resolved = next(c for c in view.rows[0].cells if c.metric == Metric.RESOLUTION_RATE)
    assert resolved.figure.numerator == 3  # the rollup as it stands: 3 of 6 resolved
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    view = kpis.kpi_view(db, ADMIN, start=start, end=end)
    resolved = next(c for c in view.rows[0].cells if c.metric == Metric.RESOLUTION_RATE)
    assert view.freshness.exact and resolved.figure.numerator == 5


def test_emotions_by_day_and_complaints_by_category(db, engine):
    tickets = _cases(db, 8)  # days 11-03 … 11-06 local: cases i and i + 4 on the same day
    for i, t in enumerate(tickets):
        t.emotion, t.sentiment = ("angry", "negative") if i % 2 else ("calm", "neutral")
        if i < 5:
            t.case_path, t.stage, t.category = (
                "complaint",
                "registered",
                "物流" if i < 3 else "退款",
            )
    db.commit()
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    first, last = DAY0.date(), (DAY0 + timedelta(days=3)).date()
    moods = rollup_charts.moods_by_day(db, first=first, last=last)
    assert sum(m.cases for m in moods) == 8
    assert [(m.emotion, m.sentiment, m.cases) for m in moods if m.day == first] == [
        ("calm", "neutral", 2)
    ]
    second = first + timedelta(days=1)
    assert [(m.emotion, m.cases) for m in moods if m.day == second] == [("angry", 2)]
    angry = rollup_charts.moods_by_day(db, first=first, last=last, filters=Filters(channel="web"))
    assert angry == []  # all of them came by e-mail
    assert rollup_charts.complaints_by_category(db, first=first, last=last) == [
        ("物流", 3),
        ("退款", 2),
    ]
    # changed after the refresh: the charts fold the pending cases in at once
    tickets[0].emotion, tickets[0].sentiment = "angry", "negative"
    tickets[1].category = "退款"  # a complaint about logistics (物流) found to be a refund
    db.commit()
    assert rollup_read.freshness(db).pending >= 2
    moods = rollup_charts.moods_by_day(db, first=first, last=last)
    assert [(m.emotion, m.cases) for m in moods if m.day == first] == [("angry", 1), ("calm", 1)]
    assert sum(m.cases for m in moods) == 8
    assert rollup_charts.complaints_by_category(db, first=first, last=last) == [
        ("退款", 3),
        ("物流", 2),
    ]


def test_the_breach_heat_map_from_the_rollup_equals_the_events_pending_and_after(db, engine):
    tickets = _cases(db, 8)
    group = factories.make_group(db)
    for i, t in enumerate(tickets):
        due = t.created_at + timedelta(minutes=40 * i)
        db.add(SlaEvent(ticket_id=t.id, key="resolution:breach", target="resolution",
                        kind="breach", due_at=due, fired_at=due))  # fmt: skip
    db.commit()
    start, end = (
        day_start(local_day(DAY0) - timedelta(days=1)),
        day_start(local_day(DAY0) + timedelta(days=6)),
    )

    def both(filters: Filters) -> tuple[Any, Any]:
        from_rollup = breakdowns.breach_heatmap(db, start, end, filters)
        events = rollup_breaches.raw_cells(db, start, end, filters, ROLLUP_TZ)
        return from_rollup.cells, [[events.get((d, h), 0) for h in range(24)] for d in range(1, 8)]

    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    assert db.scalar(select(func.sum(kpi_breach_hours.c.breaches))) == 8
    got, want = both(Filters())
    assert got == want and sum(map(sum, got)) == 8
    tickets[2].group_id = group.id  # moved: its breach's day counted from the events now
    late = tickets[5].created_at + timedelta(days=1, hours=3)
    db.add(SlaEvent(ticket_id=tickets[5].id, key="first_response:breach", target="first_response",
                    kind="breach", due_at=late, fired_at=late))  # fmt: skip
    db.commit()
    assert rollup_read.freshness(db).pending == 2
    for filters in (Filters(), Filters(group_id=group.id), Filters(channel="email")):
        got, want = both(filters)
        assert got == want, filters
    assert sum(map(sum, both(Filters(group_id=group.id))[0])) == 1
    rollup.refresh_until_done(_sessions(engine))
    db.commit()
    assert db.scalar(select(func.sum(kpi_breach_hours.c.breaches))) == 9
    for filters in (Filters(), Filters(group_id=group.id)):
        got, want = both(filters)
        assert got == want, filters
