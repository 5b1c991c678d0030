"""A survey row is written in the transaction that resolves a case or brings a complaint to its
follow-up (跟进反馈), with the due time the domain derives; a reopened case's unsent survey waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from kefu.domain import case_loop as cw
from kefu.domain.tickets import TicketStatus
from kefu.services.cases import loop
from tests import factories
from tests.services.surveys.helpers import complaint_at_follow_up, resolved_inquiry, survey_of


def test_a_resolved_inquiry_is_surveyed_at_once(db: Session) -> None:
    ticket = resolved_inquiry(db, channel="email")
    survey = survey_of(db, ticket)
    assert survey is not None
    assert survey.purpose == "survey" and survey.kinds == ["csat"] and survey.via == "link"
    assert survey.due_at == ticket.resolved_at
    assert survey.sent_at is None and survey.answered_at is None


def test_a_complaint_is_followed_up_three_days_after_its_solution(db: Session) -> None:
    ticket = complaint_at_follow_up(db, channel="email")
    assert ticket.stage == cw.Stage.FOLLOWING_UP
    survey = survey_of(db, ticket)
    assert survey is not None and survey.purpose == "follow_up"
    assert ticket.resolved_at is not None
    assert survey.due_at == ticket.resolved_at + timedelta(days=3)


def test_a_vip_customer_gets_a_follow_up_on_an_inquiry(db: Session) -> None:
    customer = factories.make_customer(db, tags=["VIP"])
    ticket = resolved_inquiry(db, channel="email", customer=customer)
    survey = survey_of(db, ticket)
    assert survey is not None and survey.purpose == "follow_up"
    assert ticket.resolved_at is not None
    assert survey.due_at == ticket.resolved_at + timedelta(days=1)


def test_an_open_case_owes_nothing(db: Session) -> None:
    ticket = factories.make_ticket(db, channel="email")
    assert survey_of(db, ticket) is None


def test_a_reopened_case_waits_and_is_timed_again_when_resolved(db: Session) -> None:
    ticket = resolved_inquiry(db, channel="email")
    loop.do_status_change(ticket, TicketStatus.OPEN, datetime.now(UTC), cw.Policy())
    db.commit()
    survey = survey_of(db, ticket)
    assert survey is not None and survey.due_at is None
    loop.do_status_change(ticket, TicketStatus.RESOLVED, datetime.now(UTC), cw.Policy())
    db.commit()
    survey = survey_of(db, ticket)
    assert survey is not None and survey.due_at == ticket.resolved_at


def test_a_channel_switched_off_is_not_surveyed(db: Session) -> None:
    from kefu.domain.surveys import ChannelSurveys
    from kefu.services.actors import SYSTEM
    from kefu.services.surveys.config import save_setting

    save_setting(db, SYSTEM, ChannelSurveys("email", enabled=False))
    db.commit()
    ticket = resolved_inquiry(db, channel="email")
    assert survey_of(db, ticket) is None
