"""The KPI engine's survey facts from the surveys table: asked questions, answered scores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Ticket
from kefu.domain.kpi.facts import SurveyFacts, SurveyKind
from kefu.nlp.analysis import analyzer
from kefu.services.surveys import answer as answers
from kefu.services.surveys.facts import survey_facts
from kefu.settings import Settings
from tests import factories
from tests.services.surveys.helpers import resolved_inquiry, send_now, survey_of

pytestmark = pytest.mark.usefixtures("held_outbox")


def test_sent_surveys_are_questions_and_answers_their_scores(
    db: Session, settings: Settings
) -> None:
    first = resolved_inquiry(
        db, channel="email", customer=factories.make_customer(db, email="a@example.com")
    )
    second = resolved_inquiry(
        db, channel="email", customer=factories.make_customer(db, email="b@example.com")
    )
    unsent = factories.make_ticket(db, channel="email")
    send_now(db)
    survey = survey_of(db, first)
    assert survey is not None
    done = answers.answer_survey(db, survey.id, scores={"csat": 4}, solved=None, comment="",
                                 via="link", now=datetime.now(UTC), analysis=analyzer(),
                                 settings=settings)  # fmt: skip
    db.commit()
    ids = select(Ticket.id).where(Ticket.id.in_([first.id, second.id, unsent.id]))
    assert survey_facts(db, ids) == [
        SurveyFacts(first.id, SurveyKind.CSAT, 4, done.survey.answered_at),
        SurveyFacts(second.id, SurveyKind.CSAT, None, None),
    ]
