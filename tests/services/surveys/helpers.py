"""Cases brought to where they are surveyed, and the survey sweep run inline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Survey, Ticket
from kefu.domain import case_loop as cw
from kefu.domain.tickets import TicketStatus
from kefu.services.actors import SYSTEM
from kefu.services.cases import loop
from kefu.services.surveys.send import Links, send_due
from tests import factories

SECRET = "test-secret-for-survey-links-0123456789"
LINKS = Links(SECRET, "http://kefu.test")


def resolved_inquiry(
    db: Session, *, webchat_channel_id: int | None = None, **overrides: Any
) -> Ticket:
    ticket = factories.make_ticket(db, **overrides)
    ticket.webchat_channel_id = webchat_channel_id
    loop.do_status_change(ticket, TicketStatus.RESOLVED, datetime.now(UTC), cw.Policy())
    db.commit()
    return ticket


def complaint_at_follow_up(db: Session, **overrides: Any) -> Ticket:
    ticket = factories.make_ticket(db, text="快递丢了，我要投诉！", intent="complaint", **overrides)
    steps: list[cw.Action] = [
        cw.RecordFacts("包裹丢失"), cw.Advance(), cw.RecordAnalysis("物流", root_cause="分拣出错"),
        cw.Advance(), cw.ProposeSolution("补发并致歉"), cw.Advance(),
    ]  # fmt: skip
    for step in steps:
        loop.do_step(db, SYSTEM, ticket, step, cw.Policy())
    db.commit()
    return ticket


def survey_of(db: Session, ticket: Ticket) -> Survey | None:
    db.expire_all()
    return db.scalar(select(Survey).where(Survey.ticket_id == ticket.id))


def send_now(db: Session, at: datetime | None = None) -> dict[str, int]:
    counts = send_due(db, at or datetime.now(UTC) + timedelta(minutes=1), LINKS)
    db.commit()
    return counts
