"""The customer's answer to a survey, from the public page (``/s/{token}``) or inline in web chat:
stored once (one response per case), the comment read by the analysis engine and flagged when it
contradicts its score, and — for a follow-up (回访) — the case moved as ``decide_feedback`` says
(recorded feedback, sent back to 处理解决, or reopened), audited as the customer acting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Survey, Ticket
from kefu.domain import events as ev
from kefu.domain import surveys as sv
from kefu.domain.case_file import case_of
from kefu.domain.roles import Role
from kefu.domain.survey_links import Verdict, read_token
from kefu.errors import KefuError
from kefu.keyring import previous_keys
from kefu.nlp.analysis import Analyzer
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.cases import loop as cases
from kefu.services.events import unit_of_work as events
from kefu.settings import Settings

# The customer answering through a survey: no user, audited as the system on their behalf.
CUSTOMER = Actor(user_id=None, role=Role.AGENT, via="survey", name="customer")


class SurveyLinkRefused(KefuError):
    """A link that cannot be answered: ``reason`` is tampered, malformed, expired, unknown or
    already_answered (each its own page)."""

    def __init__(self, reason: str, status_code: int) -> None:
        super().__init__("survey_link_refused", status_code=status_code, details={"reason": reason})
        self.reason = reason


STATUS = {"malformed": 404, "unknown": 404, "tampered": 400, "expired": 410,
          "already_answered": 410}  # fmt: skip


def open_survey(session: Session, secret: str, token: str, now: datetime) -> Survey:
    """The survey a link names, if it can still be answered; ``SurveyLinkRefused`` otherwise."""
    verdict = read_token(secret, token, now, previous=previous_keys(secret))
    if verdict.verdict in (Verdict.MALFORMED, Verdict.TAMPERED):
        raise SurveyLinkRefused(verdict.verdict.value, STATUS[verdict.verdict.value])
    survey = session.get(Survey, verdict.survey_id)
    if survey is None or survey.sent_at is None:
        raise SurveyLinkRefused("unknown", 404)
    if survey.answered_at is not None:
        raise SurveyLinkRefused("already_answered", 410)
    if verdict.verdict == Verdict.EXPIRED:
        raise SurveyLinkRefused("expired", 410)
    return survey


def answer_inline(
    session: Session,
    *,
    token: str,
    customer_id: int | None,
    scores: Mapping[str, object],
    solved: bool | None,
    comment: str,
    now: datetime,
    analysis: Analyzer,
    settings: Settings,
) -> Answered:
    """A web chat visitor's answer to the buttons of their conversation: the same checks as the
    link (the token of the message), and the survey must be of the visitor's own case."""
    survey = open_survey(session, settings.secret_key, token, now)
    if customer_id is None or survey.customer_id != customer_id:
        raise SurveyLinkRefused("unknown", 404)
    return answer_survey(session, survey.id, scores=scores, solved=solved, comment=comment,
                         via="inline", now=now, analysis=analysis, settings=settings)  # fmt: skip


@dataclass(frozen=True)
class Answered:
    survey: Survey
    outcome: sv.FeedbackOutcome | None


def answer_survey(
    session: Session,
    survey_id: int,
    *,
    scores: Mapping[str, object],
    solved: bool | None,
    comment: str,
    via: str,
    now: datetime,
    analysis: Analyzer,
    settings: Settings,
) -> Answered:
    """Store the answer (the row locked; a second answer refused) and apply it to the case."""
    survey = session.scalar(select(Survey).where(Survey.id == survey_id).with_for_update())
    if survey is None:
        raise SurveyLinkRefused("unknown", 404)
    try:
        answer = sv.check_answer(
            tuple(sv.SurveyKind(k) for k in survey.kinds),
            scores,
            solved=solved if survey.purpose == "follow_up" else None,
            comment=comment,
            already_answered=survey.answered_at is not None,
        )
    except sv.SurveyRefused as e:
        if e.code == "already_answered":
            raise SurveyLinkRefused("already_answered", 410) from e
        raise KefuError("validation_error", status_code=422, details={"reason": str(e)}) from e
    for kind, score in answer.scores.items():
        setattr(survey, kind.value, score)
    survey.solved, survey.comment = answer.solved, answer.comment
    survey.answered_at, survey.answered_via = now, via
    survey.due_at = None
    if answer.comment:
        sentiment = analysis.analyze(answer.comment).sentiment
        survey.comment_sentiment = str(sentiment)
        flags = [sv.comment_flag(kind, score, sentiment) for kind, score in answer.scores.items()]
        survey.flag = next((f.value for f in flags if f is not None), None)
    outcome = _apply_to_case(session, survey, answer, now, settings)
    survey.outcome = outcome.value if outcome else None
    session.flush()
    audit.record(session, CUSTOMER, "survey.answered", object_type="survey", object_id=survey.id,
                 ticket_id=survey.ticket_id, customer_id=survey.customer_id,
                 after={"csat": survey.csat, "nps": survey.nps, "ces": survey.ces,
                        "solved": survey.solved, "flag": survey.flag,
                        "outcome": survey.outcome})  # fmt: skip
    events.record(session, ev.SurveyAnswered(
        survey.ticket_id, survey_id=survey.id, csat=survey.csat, nps=survey.nps, ces=survey.ces,
        solved=survey.solved, flagged=survey.flag is not None,
    ))  # fmt: skip
    return Answered(survey, outcome)


def _apply_to_case(
    session: Session, survey: Survey, answer: sv.Answer, now: datetime, settings: Settings
) -> sv.FeedbackOutcome | None:
    """A follow-up's answer is the 跟进反馈 stage's feedback; a plain survey's CSAT is only
    stored (the KPIs read it from the survey row)."""
    if survey.purpose != "follow_up":
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.id == survey.ticket_id).with_for_update())
    if ticket is None:
        return None
    policy = cases.policy_of(settings)
    decision = sv.decide_feedback(case_of(ticket), solved=answer.solved, rating=answer.rating,
                                  at=now, policy=policy)  # fmt: skip
    for action in decision.actions:
        try:
            cases.do_step(session, CUSTOMER, ticket, action, policy)
        except KefuError:
            return sv.FeedbackOutcome.NOTHING  # the case moved on meanwhile: the answer stays
    return decision.outcome
