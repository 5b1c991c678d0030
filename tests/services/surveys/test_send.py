"""The surveys job sends what fell due through the outbox, by each channel's way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Notification, OutboxEntry
from kefu.domain.survey_links import Verdict, read_token
from tests import factories
from tests.services.surveys.helpers import (
    SECRET,
    complaint_at_follow_up,
    resolved_inquiry,
    send_now,
    survey_of,
)

pytestmark = pytest.mark.usefixtures("held_outbox")


def test_an_email_survey_goes_out_as_a_mail_with_a_signed_link(db: Session) -> None:
    customer = factories.make_customer(db, email="li.na@example.com")
    ticket = resolved_inquiry(db, channel="email", customer=customer)
    assert send_now(db) == {"sent": 1, "skipped": 0, "waiting": 0}
    survey = survey_of(db, ticket)
    assert survey is not None and survey.sent_at is not None and survey.due_at is None
    entry = db.get(OutboxEntry, survey.outbox_id)
    assert entry is not None and entry.kind == "notice" and entry.target["to"] == [customer.email]
    link = next(w for w in entry.target["text"].split() if w.startswith("http://kefu.test/s/"))
    verdict = read_token(SECRET, link.rsplit("/", 1)[-1], datetime.now(UTC))
    assert verdict.verdict == Verdict.OK and verdict.survey_id == survey.id
    assert verdict.expires_at == survey.expires_at.replace(microsecond=0)
    assert send_now(db) == {"sent": 0, "skipped": 0, "waiting": 0}  # sent once


def test_a_web_chat_survey_is_asked_inline_with_score_buttons(db: Session) -> None:
    channel = factories.make_webchat_channel(db)
    ticket = resolved_inquiry(db, channel="webchat", webchat_channel_id=channel.id)
    assert send_now(db)["sent"] == 1
    survey = survey_of(db, ticket)
    assert survey is not None and survey.via == "inline"
    message = db.get(Message, survey.message_id)
    assert message is not None and message.direction == "outbound"
    assert message.bot_payload is not None and message.bot_payload["kind"] == "survey"
    assert message.bot_payload["survey"]["kinds"] == [{"kind": "csat", "low": 1, "high": 5}]
    entry = db.get(OutboxEntry, survey.outbox_id)
    assert entry is not None and entry.channel == "webchat" and entry.message_id == message.id


def test_a_complaint_follow_up_waits_for_its_due_time(db: Session) -> None:
    customer = factories.make_customer(db, email="wang.fang@example.com")
    ticket = complaint_at_follow_up(db, channel="email", customer=customer)
    assert send_now(db)["sent"] == 0
    assert send_now(db, datetime.now(UTC) + timedelta(days=3, minutes=1))["sent"] == 1
    survey = survey_of(db, ticket)
    assert survey is not None and survey.purpose == "follow_up" and survey.sent_at is not None


def test_a_wechat_survey_outside_the_48_hour_window_is_skipped(db: Session) -> None:
    ticket = resolved_inquiry(db, channel="wechat")
    assert send_now(db, datetime.now(UTC) + timedelta(days=3)) == {
        "sent": 0, "skipped": 1, "waiting": 0,
    }  # fmt: skip
    survey = survey_of(db, ticket)
    assert survey is not None and survey.skipped == "no_way" and survey.sent_at is None


def test_an_email_customer_without_an_address_is_skipped(db: Session) -> None:
    ticket = resolved_inquiry(db, channel="email")
    assert send_now(db)["skipped"] == 1
    survey = survey_of(db, ticket)
    assert survey is not None and survey.skipped == "no_address"


def test_the_owner_is_reminded_when_a_follow_up_falls_due(db: Session) -> None:
    owner = factories.make_user(db, role="specialist")
    customer = factories.make_customer(db, email="qian.yu@example.com")
    ticket = complaint_at_follow_up(db, channel="email", customer=customer)
    ticket.assignee_id = owner.id
    db.commit()
    send_now(db, datetime.now(UTC) + timedelta(days=3, minutes=1))
    notices = db.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert [(n.kind, n.ticket_id) for n in notices] == [("case.follow_up_due", ticket.id)]
    assert "满意度调查已发给客户" in notices[0].body


def test_a_phone_complaint_reminds_its_owner_to_call(db: Session) -> None:
    owner = factories.make_user(db, role="specialist")
    ticket = complaint_at_follow_up(db, channel="phone")
    ticket.assignee_id = owner.id
    db.commit()
    assert send_now(db, datetime.now(UTC) + timedelta(days=3, minutes=1))["skipped"] == 1
    notice = db.scalars(select(Notification).where(Notification.user_id == owner.id)).one()
    assert "请联系客户回访" in notice.body
