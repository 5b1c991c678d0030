"""At risk and breached as SQL conditions, on both engines: read from the deadline columns and
the warnings the sweep recorded, counting only the warnings of clocks that still run."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.db.base import utcnow
from kefu.db.models import SlaEvent, Ticket
from kefu.services.sla import risk
from tests import factories

NOW = utcnow().replace(microsecond=0)
HOUR = timedelta(hours=1)


def _case(db: Session, warned: tuple[str, datetime] | None = None, **columns: object) -> int:
    """A ticket with these SLA columns (the rest None), and a warning of one clock on record."""
    ticket = factories.make_ticket(db)
    blank = dict.fromkeys(("first_response_due_at", "next_response_due_at", "resolution_due_at"))
    db.execute(update(Ticket).where(Ticket.id == ticket.id).values(**{**blank, **columns}))
    if warned is not None:
        target, moment = warned
        key = f"{target}:warn:{moment.isoformat()}"
        db.add(SlaEvent(ticket_id=ticket.id, key=key, target=target, kind="warn", due_at=moment))
    db.commit()
    return ticket.id


def _where(db: Session, condition) -> set[int]:
    return set(db.scalars(select(Ticket.id).where(condition)))


@pytest.fixture
def cases(db):
    return {
        "warned": _case(db, ("resolution", NOW - HOUR), resolution_due_at=NOW + HOUR),
        "not_warned": _case(db, resolution_due_at=NOW + HOUR),
        # The first response was given after the warning: its clock stopped, the case is fine.
        "stopped": _case(db, ("first_response", NOW - HOUR), resolution_due_at=NOW + 9 * HOUR),
        # Warned of in an earlier run of the next-response clock; the customer wrote again since.
        "earlier_run": _case(
            db,
            ("next_response", NOW - 3 * HOUR),
            next_response_due_at=NOW + HOUR,
            awaiting_reply_since=NOW - timedelta(minutes=10),
        ),
        "this_run": _case(
            db,
            ("next_response", NOW - timedelta(minutes=1)),
            next_response_due_at=NOW + HOUR,
            awaiting_reply_since=NOW - 2 * HOUR,
        ),
        "breached": _case(
            db,
            ("first_response", NOW - 2 * HOUR),
            first_response_due_at=NOW - HOUR,
            resolution_due_at=NOW + HOUR,
        ),
        "no_clock": _case(db),
    }


def test_at_risk_is_a_warning_of_a_running_clock_not_yet_breached(db, cases):
    assert _where(db, risk.at_risk(NOW)) == {cases["warned"], cases["this_run"]}


def test_breached_is_a_running_deadline_passed(db, cases):
    assert _where(db, risk.breached(NOW)) == {cases["breached"]}
    assert _where(db, ~risk.breached(NOW)) == set(cases.values()) - {cases["breached"]}


def test_the_nearest_due_is_the_earliest_running_deadline(db, cases):
    due = risk.nearest_due(db.get_bind().dialect.name)
    nearest = {row.id: row[1] for row in db.execute(select(Ticket.id, due))}
    assert nearest[cases["breached"]] == NOW - HOUR
    assert nearest[cases["stopped"]] == NOW + 9 * HOUR
    assert nearest[cases["this_run"]] == NOW + HOUR
    assert nearest[cases["no_clock"]] is None
