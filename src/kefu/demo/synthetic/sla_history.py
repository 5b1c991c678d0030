"""The SLA sweep's records for the synthetic history: every warning and breach a case's clocks
reached, and every clock that stopped in time (``met``), as the sweep records them
(services/sla/clocks.py), fired at their moment.

The tickets' columns already hold the deadlines of the clocks still running; this phase adds
what the sweep would have written along the way, so the reports (SLA compliance, the breach
heat map) read a history like a real one. It evaluates each case with the domain's clocks
(``domain.sla.evaluate``, the team's budgets and calendars), in batches by id, and writes the
rows in bulk; tickets that already have records are left as they are, so it runs once on a
database made without it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, select
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import SlaEvent, Ticket
from kefu.demo.synthetic.writer import writer_for
from kefu.domain import sla
from kefu.domain.tickets import TicketStatus
from kefu.services.sla.clocks import Policies, calendar_of, decode_pauses, default_calendar

BATCH = 20_000
COLUMNS = ("ticket_id", "key", "target", "kind", "due_at", "fired_at")
_DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def events_of(evaluation: sla.Evaluation) -> list[tuple[str, str, str, datetime]]:
    """(key, target, kind, at) of what the sweep records for one evaluated case."""
    out = [(e.key, e.target.value, e.kind, e.at) for e in evaluation.due]
    for clock in evaluation.clocks:
        if clock.state == sla.SlaState.MET and clock.stopped_at is not None:
            met = sla.Event(clock.target, "met", clock.due_at or clock.stopped_at, clock.started_at)
            out.append((met.key, met.target.value, met.kind, met.at))
    return out


def write_sla_events(
    engine: Engine, *, now: datetime | None = None, progress: Callable[[str], None] = print
) -> int:
    """Write the records of every ticket without any; returns how many were written."""
    now = now or utcnow()
    from kefu.db.models import Group

    with Session(engine) as session:
        policies = Policies.load(session)
        calendars = {g.id: calendar_of(g) for g in session.scalars(select(Group))}
    fallback = default_calendar()
    written, last_id = 0, 0
    with writer_for(engine) as writer:
        while True:
            with Session(engine) as session:
                rows = session.execute(
                    select(*_COLUMNS)
                    .where(
                        Ticket.id > last_id,
                        ~exists().where(SlaEvent.ticket_id == Ticket.id),
                    )
                    .order_by(Ticket.id)
                    .limit(BATCH)
                ).all()
            if not rows:
                break
            batch: list[tuple[Any, ...]] = []
            for t in rows:
                facts = sla.SlaFacts(
                    created_at=t.created_at,
                    first_response_at=t.first_response_at,
                    awaiting_reply_since=t.awaiting_reply_since,
                    resolved_at=t.resolved_at if t.status in _DONE else None,
                    pauses=decode_pauses(t.sla_pauses),
                )
                budgets = policies.budgets(t.channel, t.priority)
                calendar = calendars.get(t.group_id, fallback) if t.group_id else fallback
                evaluation = sla.evaluate(facts, budgets, calendar, now)
                for key, target, kind, at in events_of(evaluation):
                    batch.append((t.id, key, target, kind, at, at))
            writer.begin()
            writer.write("sla_events", COLUMNS, batch)
            writer.commit()
            written += len(batch)
            last_id = rows[-1].id
            progress(f"SLA records: tickets up to #{last_id:,}, {written:,} records")
    return written


_COLUMNS = (
    Ticket.id, Ticket.channel, Ticket.priority, Ticket.group_id, Ticket.status,
    Ticket.created_at, Ticket.first_response_at, Ticket.awaiting_reply_since,
    Ticket.resolved_at, Ticket.sla_pauses,
)  # fmt: skip
