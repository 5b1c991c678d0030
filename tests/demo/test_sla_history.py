"""The synthetic history's SLA records (demo/synthetic/sla_history.py): what the sweep would have
recorded along the way — a met or a breached first response for every answered case, warnings
and breaches at their moments — written once, and nothing left for the real sweep to record."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.engine import make_session_factory, writer_bind
from kefu.db.models import SlaEvent, Ticket
from kefu.demo.synthetic import generate
from kefu.demo.synthetic.sla_history import write_sla_events
from kefu.services.sla import clocks

NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def test_the_history_gets_the_sweeps_records_once(db: Session, engine, demo_team) -> None:
    generate(engine, tickets=120, seed=11, now=NOW)
    written = write_sla_events(engine, now=NOW, progress=lambda _: None)
    db.rollback()
    events = list(db.scalars(select(SlaEvent)))
    assert written == len(events) > 0
    assert {e.kind for e in events} <= {"warn", "breach", "met"} and any(
        e.kind == "met" for e in events
    )
    firsts = Counter(
        (e.ticket_id, e.kind) for e in events if e.target == "first_response" and e.kind != "warn"
    )
    answered = db.scalars(select(Ticket).where(Ticket.first_response_at.is_not(None))).all()
    for ticket in answered:  # each answered case: in time or late, never both
        kinds = {k for (t, k) in firsts if t == ticket.id}
        assert len(kinds) == 1, (ticket.id, kinds)
        (kind,) = kinds
        due = next(
            e.due_at
            for e in events
            if e.ticket_id == ticket.id and e.kind == kind and e.target == "first_response"
        )
        assert (ticket.first_response_at <= due) == (kind == "met")

    assert write_sla_events(engine, now=NOW, progress=lambda _: None) == 0  # once
    before = db.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.kind != "met"))
    clocks.sweep_until_done(
        make_session_factory(writer_bind(engine)), lambda: NOW, clocks.SweepSettings()
    )
    db.rollback()
    after = db.scalar(select(func.count()).select_from(SlaEvent).where(SlaEvent.kind != "met"))
    assert after == before  # the sweep finds every warning and breach already on record
