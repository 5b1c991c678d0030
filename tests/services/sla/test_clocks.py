"""The SLA sweep on the test database: deadlines, one warning and one breach each, escalation."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import AuditEvent, Notification, SlaEvent, SlaPolicy, Ticket
from kefu.domain.tickets import TicketStatus
from kefu.services.actors import SYSTEM
from kefu.services.cases import tickets
from kefu.services.sla import clocks as sla
from tests import factories

ALWAYS_OPEN = {"always_open": True}


def _sweep(engine, at, **settings):
    return sla.sweep_until_done(
        make_session_factory(writer_bind(engine)), lambda: at, sla.SweepSettings(**settings)
    )


@pytest.fixture
def team(db):
    group = factories.make_group(db, name="售后组", calendar=ALWAYS_OPEN)
    supervisor = factories.make_user(db, role="supervisor", groups=[group], name="陈静")
    agent = factories.make_user(db, groups=[group], name="张伟")
    return group, supervisor, agent


def test_a_new_ticket_gets_its_deadlines_from_the_sweep(engine, db, team):
    group, _, _ = team
    ticket = factories.make_ticket(db, group=group, channel="webchat")
    assert ticket.sla_check_at == ticket.created_at and ticket.first_response_due_at is None
    report = _sweep(engine, ticket.created_at)
    db.refresh(ticket)
    assert report.checked == 1 and report.breaches == 0
    assert ticket.first_response_due_at == ticket.created_at + timedelta(seconds=30)
    assert ticket.resolution_due_at == ticket.created_at + timedelta(days=5)  # P4, around the clock
    assert ticket.sla_check_at == ticket.created_at + timedelta(seconds=24)  # the 80 % warning
    clocks = {
        c["target"]: c
        for c in sla.public_clocks(sla.evaluate_ticket(ticket, sla.Policies(), ticket.created_at))
    }
    assert (
        clocks["first_response"]["state"] == "on_track"
        and clocks["first_response"]["left_seconds"] == 30
    )


def test_the_sweep_writes_the_earliest_warning_of_the_running_clocks(engine, db, team):
    group, _, agent = team
    ticket = factories.make_ticket(db, group=group, channel="email", priority="P1")
    start = ticket.created_at
    _sweep(engine, start)
    db.refresh(ticket)
    # P1 by email: first response within 15 minutes (warned at 12), resolution within 2 hours.
    assert ticket.sla_warn_at == start + timedelta(minutes=12)
    tickets.do_add_message(db, SYSTEM, ticket, text="您好，马上为您处理", internal=False)
    db.commit()
    _sweep(engine, start + timedelta(minutes=1))
    db.refresh(ticket)
    assert ticket.sla_warn_at == start + timedelta(minutes=96)  # answered: the resolution's
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": "pending"})
    db.commit()
    _sweep(engine, start + timedelta(minutes=2))
    db.refresh(ticket)
    assert ticket.sla_warn_at is None  # waiting: no clock runs


def test_a_breach_escalates_once_whatever_the_number_of_sweeps(engine, db, team):
    group, supervisor, agent = team
    ticket = factories.make_ticket(db, group=group, channel="webchat", assignee_id=agent.id)
    late = ticket.created_at + timedelta(minutes=2)
    first = _sweep(engine, late)
    assert (first.warnings, first.breaches) == (1, 1)
    for _ in range(3):
        again = _sweep(engine, late + timedelta(seconds=5))
        assert (again.warnings, again.breaches) == (0, 0)
    db.refresh(ticket)
    assert (
        ticket.priority == "P3"
        and ticket.escalations == 1
        and "首次响应超时" in ticket.priority_reason
    )
    events = db.scalars(
        select(SlaEvent.kind).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.kind)
    ).all()
    assert events == ["breach", "warn"]
    notices = db.execute(
        select(Notification.user_id, Notification.kind)
        .where(Notification.ticket_id == ticket.id)
        .order_by(Notification.id)
    ).all()
    assert notices == [
        (agent.id, "sla.warn"),
        (supervisor.id, "sla.breach"),
        (agent.id, "sla.breach"),
    ]
    trail = db.scalars(select(AuditEvent.action).where(AuditEvent.ticket_id == ticket.id)).all()
    assert trail.count("ticket.sla_breach") == 1 and trail.count("ticket.sla_warning") == 1


def test_an_answer_in_time_stops_the_clock_and_waiting_pauses_resolution(engine, db, team):
    group, _, agent = team
    ticket = factories.make_ticket(db, group=group, channel="email", priority="P2")
    start = ticket.created_at
    tickets.do_add_message(db, SYSTEM, ticket, text="您好，已为您查询", internal=False)
    tickets.do_update_ticket(db, SYSTEM, ticket, {"status": "pending"})
    db.commit()
    _sweep(engine, start + timedelta(days=3))
    db.refresh(ticket)
    assert ticket.first_response_due_at is None  # met: no running first-response clock
    assert (
        ticket.resolution_due_at is None and ticket.sla_check_at is None
    )  # paused: nothing will come due
    (met,) = db.scalars(select(SlaEvent))  # on record, so reports know the case had the clock
    assert (met.target, met.kind) == ("first_response", "met")
    assert met.due_at >= ticket.first_response_at
    _sweep(engine, start + timedelta(days=4))  # swept again: still one record
    assert db.scalar(select(func.count()).select_from(SlaEvent)) == 1
    evaluation = sla.evaluate_ticket(ticket, sla.Policies(), start + timedelta(days=3))
    assert {c.target.value: c.state.value for c in evaluation.clocks} == {
        "first_response": "met",
        "resolution": "paused",
    }


def test_admin_policies_override_the_defaults(engine, db, team):
    group, _, _ = team
    db.add(
        SlaPolicy(
            channel="email",
            priority="P4",
            first_response_s=600,
            next_response_s=None,
            resolution_s=3600,
        )
    )
    db.commit()
    ticket = factories.make_ticket(db, group=group, channel="email")
    _sweep(engine, ticket.created_at)
    db.refresh(ticket)
    assert ticket.first_response_due_at == ticket.created_at + timedelta(minutes=10)
    assert ticket.resolution_due_at == ticket.created_at + timedelta(hours=1)


def test_reassign_on_breach_sends_the_case_back_to_the_queue(engine, db, team):
    group, _, agent = team
    ticket = factories.make_ticket(db, group=group, channel="webchat", assignee_id=agent.id)
    _sweep(engine, ticket.created_at + timedelta(minutes=1), reassign_on_breach=True)
    db.refresh(ticket)
    assert ticket.assignee_id is None and ticket.status == TicketStatus.NEW


def test_two_sweepers_at_once_escalate_each_breach_exactly_once(engine, db, team):
    """PostgreSQL: SKIP LOCKED shares the due rows; SQLite: the write lock taken at BEGIN runs the
    batches one after the other. Either way no breach is escalated twice or missed."""
    group, _, _ = team
    created = [
        factories.make_ticket(db, group=group, channel="webchat", text=f"订单{i}还没到")
        for i in range(120)
    ]
    at = max(t.created_at for t in created) + timedelta(minutes=5)
    reports: list[sla.SweepReport] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        reports.append(_sweep(engine, at, batch=10))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.breaches for r in reports) == 120 and sum(r.warnings for r in reports) == 120
    if engine.dialect.name == "postgresql":
        assert all(r.breaches > 0 for r in reports)  # both did some of the work
    rows = db.execute(
        select(Ticket.escalations, Ticket.priority).where(Ticket.group_id == group.id)
    ).all()
    assert set(rows) == {(1, "P3")}
    assert (
        db.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.kind == "breach"))
        == 120
    )


def test_the_server_runs_the_sweep_itself_when_told_to(settings, engine, db, team):
    import asyncio
    import time

    from kefu.app import create_app

    group, _, _ = team
    ticket = factories.make_ticket(db, group=group, channel="webchat")
    db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(created_at=ticket.created_at - timedelta(minutes=1))
    )
    db.commit()
    app = create_app(
        settings.model_copy(update={"sla_sweep_in_server": True, "sla_sweep_seconds": 0.1}),
        engine=engine,
    )

    async def serve_until_escalated() -> None:
        async with app.router.lifespan_context(app):  # what uvicorn runs at start and stop
            deadline = time.monotonic() + 20
            while db.scalar(select(Ticket.escalations).where(Ticket.id == ticket.id)) == 0:
                assert time.monotonic() < deadline, "the server's sweep did not run"
                db.rollback()
                await asyncio.sleep(0.05)

    asyncio.run(serve_until_escalated())
    db.rollback()
    assert db.scalar(select(Ticket.priority).where(Ticket.id == ticket.id)) == "P3"
    assert not settings.sweeps_in_server  # the test settings keep it off; SQLite's default is on
    assert settings.model_copy(update={"sla_sweep_in_server": None}).sweeps_in_server == (
        engine.dialect.name == "sqlite"
    )


def test_a_clock_that_stopped_late_is_recorded_but_not_escalated(engine, db, team):
    group, _, agent = team
    ticket = factories.make_ticket(db, group=group, channel="webchat", assignee_id=agent.id)
    db.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id)
        .values(created_at=ticket.created_at - timedelta(minutes=5))
    )
    db.commit()
    db.refresh(ticket)
    tickets.do_add_message(
        db, SYSTEM, ticket, text="抱歉久等了", internal=False
    )  # answered 5 minutes late
    db.commit()
    report = _sweep(engine, ticket.first_response_at)
    assert (report.warnings, report.breaches, report.late) == (0, 0, 2)
    db.refresh(ticket)
    assert ticket.priority == "P4" and ticket.escalations == 0
    assert db.scalar(select(func.count()).select_from(Notification)) == 0
    kinds = db.scalars(
        select(SlaEvent.kind).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.kind)
    ).all()
    assert kinds == ["breach", "warn"]  # the miss stays on record for SLA compliance


def test_a_ticket_that_breaks_the_sweep_is_recorded_and_rescheduled_the_rest_go_on(
    engine, db, team
):
    group, _, agent = team
    made = [
        factories.make_ticket(db, group=group, channel="webchat", assignee_id=agent.id)
        for _ in range(4)
    ]
    bad, good = made[1], [made[0], *made[2:]]
    # Stored pauses the sweep cannot read (a bad import, a hand edit): evaluating it raises.
    db.execute(update(Ticket).where(Ticket.id == bad.id).values(sla_pauses=[["昨天", None]]))
    db.commit()
    late = made[-1].created_at + timedelta(minutes=2)

    report = _sweep(engine, late)

    assert (report.checked, report.breaches, report.failed) == (4, 3, 1)
    for ticket in good:
        db.refresh(ticket)
        assert ticket.escalations == 1 and ticket.priority == "P3"
        assert ticket.resolution_due_at is not None
    db.refresh(bad)
    assert bad.escalations == 0 and bad.sla_check_at > late  # retried later, not every round
    failure = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "ticket.sla_sweep_failed", AuditEvent.ticket_id == bad.id
        )
    ).one()
    assert "ValueError" in failure.after["error"] and failure.actor_type == "system"
    assert _sweep(engine, late).checked == 0  # a second sweep right away leaves it alone

    first_wait = bad.sla_check_at - late
    retried_at = bad.sla_check_at
    assert _sweep(engine, retried_at).failed == 1  # still broken: tried again, waits longer
    db.rollback()  # a new snapshot: see what the sweep committed
    db.refresh(bad)
    assert bad.sla_check_at - retried_at > first_wait
