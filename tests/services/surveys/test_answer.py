"""Answering a survey: stored once, the comment read and flagged, a follow-up's "not solved"
sending the complaint back to 处理解决, the ``survey.answered`` webhook queued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, OutboxEntry, Survey, Ticket, WebhookSubscription
from kefu.domain import case_loop as cw
from kefu.domain.surveys import CommentFlag, FeedbackOutcome
from kefu.errors import KefuError
from kefu.nlp.analysis import analyzer
from kefu.services.surveys import answer as answers
from kefu.settings import Settings
from tests import factories
from tests.services.surveys.helpers import (
    LINKS,
    SECRET,
    complaint_at_follow_up,
    resolved_inquiry,
    send_now,
    survey_of,
)

pytestmark = pytest.mark.usefixtures("held_outbox")


def _sent(db: Session, follow_up: bool = False) -> int:
    customer = factories.make_customer(db, email="zhao.lei@example.com")
    if follow_up:
        ticket = complaint_at_follow_up(db, channel="email", customer=customer)
        send_now(db, datetime.now(UTC) + timedelta(days=3, minutes=1))
    else:
        ticket = resolved_inquiry(db, channel="email", customer=customer)
        send_now(db)
    survey = survey_of(db, ticket)
    assert survey is not None and survey.sent_at is not None
    return survey.id


def _answer(db: Session, settings: Settings, survey_id: int, **kwargs: object) -> answers.Answered:
    values: dict[str, object] = {"scores": {"csat": 5}, "solved": None, "comment": ""} | kwargs
    done = answers.answer_survey(
        db, survey_id, via="link", now=datetime.now(UTC), analysis=analyzer(), settings=settings,
        **values,  # type: ignore[arg-type]
    )  # fmt: skip
    db.commit()
    return done


def test_a_negative_comment_on_a_satisfied_score_is_flagged(
    db: Session, settings: Settings
) -> None:
    survey_id = _sent(db)
    done = _answer(db, settings, survey_id, comment="客服态度太差了，再也不买了")
    assert done.survey.csat == 5 and done.survey.comment_sentiment == "negative"
    assert done.survey.flag == CommentFlag.NEGATIVE_ON_POSITIVE
    assert done.outcome is None  # a plain survey does not move the case


def test_a_matching_comment_is_not_flagged(db: Session, settings: Settings) -> None:
    done = _answer(db, settings, _sent(db), comment="服务很好，谢谢")
    assert done.survey.flag is None and done.survey.comment_sentiment == "positive"


def test_one_response_per_case(db: Session, settings: Settings) -> None:
    survey_id = _sent(db)
    _answer(db, settings, survey_id, scores={"csat": 4})
    with pytest.raises(answers.SurveyLinkRefused) as refused:
        _answer(db, settings, survey_id, scores={"csat": 1})
    assert refused.value.reason == "already_answered" and refused.value.status_code == 410
    db.rollback()
    assert db.get(Survey, survey_id).csat == 4  # type: ignore[union-attr]


def test_a_score_off_the_scale_is_refused_and_nothing_stored(
    db: Session, settings: Settings
) -> None:
    survey_id = _sent(db)
    with pytest.raises(KefuError):
        _answer(db, settings, survey_id, scores={"csat": 6})
    db.rollback()
    survey = db.get(Survey, survey_id)
    assert survey is not None and survey.answered_at is None and survey.csat is None


def test_not_solved_on_a_follow_up_sends_the_complaint_back(
    db: Session, settings: Settings
) -> None:
    survey_id = _sent(db, follow_up=True)
    done = _answer(db, settings, survey_id, scores={"csat": 2}, solved=False, comment="还是没收到")
    assert done.outcome == FeedbackOutcome.SEND_BACK
    case = db.get(Ticket, done.survey.ticket_id)
    assert case is not None and case.stage == cw.Stage.RESOLVING
    step = db.scalar(
        select(AuditEvent)
        .where(AuditEvent.ticket_id == case.id, AuditEvent.action == "case.step")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    assert step is not None and step.actor_type == "system"


def test_solved_on_a_follow_up_records_the_feedback(db: Session, settings: Settings) -> None:
    survey_id = _sent(db, follow_up=True)
    done = _answer(db, settings, survey_id, scores={"csat": 5}, solved=True)
    assert done.outcome == FeedbackOutcome.RECORD
    case = db.get(Ticket, done.survey.ticket_id)
    assert case is not None and case.case_file["rating"] == 5


def test_the_answer_queues_the_survey_answered_webhook(db: Session, settings: Settings) -> None:
    db.add(WebhookSubscription(url="http://127.0.0.1:9/hook", events=["survey.answered"],
                               secret_sealed="x"))  # fmt: skip
    db.commit()
    survey_id = _sent(db)
    _answer(db, settings, survey_id, scores={"csat": 3})
    posted = db.scalars(select(OutboxEntry).where(OutboxEntry.channel == "webhook")).all()
    assert [p.target["type"] for p in posted] == ["survey.answered"]
    data = posted[0].target["data"]
    assert data["survey"]["id"] == survey_id and data["survey"]["csat"] == 3


def test_open_survey_tells_each_refusal_apart(db: Session, settings: Settings) -> None:
    survey_id = _sent(db)
    now = datetime.now(UTC)
    good = LINKS.token(survey_id, now + timedelta(days=1))
    assert answers.open_survey(db, SECRET, good, now).id == survey_id
    expired = LINKS.token(survey_id, now - timedelta(seconds=5))
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token, reason in [(expired, "expired"), (tampered, "tampered"), ("junk", "malformed")]:
        with pytest.raises(answers.SurveyLinkRefused) as refused:
            answers.open_survey(db, SECRET, token, now)
        assert refused.value.reason == reason
