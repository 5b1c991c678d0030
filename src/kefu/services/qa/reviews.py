"""The automatic review of a resolved case (``qa_reviews``): the conversation read from the
ticket's messages (customer turns with their stored emotion, the agents' replies with the norms
findings; notes, the bot's and the system's messages left out), its first-response target, its
complaint loop and survey answer, reviewed by ``domain.qa.review`` and scored with the scorecard
in force. The ``qa_reviews`` job takes the cases whose ``qa_due_at`` has come (``queue.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import AuditEvent, Message, QaReview, QaScorecard, Survey, Ticket
from kefu.domain.case_loop import CasePath, Stage
from kefu.domain.qa.conversation import AGENT, CUSTOMER, Conversation, SurveyAnswer
from kefu.domain.qa.criteria import CriterionResult, Verdict
from kefu.domain.qa.review import review
from kefu.domain.qa.scorecard import DEFAULT, Score, Scorecard, ScorecardRefused, score
from kefu.domain.tickets import AuthorType, Direction
from kefu.domain.triage_labels import Risk
from kefu.services.qa.reading import RawTurn, read_turns

BATCH = 50  # cases reviewed per transaction
CRISIS_RISKS = frozenset(
    {Risk.MEDIA.value, Risk.REGULATOR.value, Risk.LEGAL.value, Risk.SAFETY.value}
)


def current_scorecard(session: Session) -> Scorecard:
    """The newest saved scorecard, or the default (version 0)."""
    newest = session.scalar(select(func.max(QaScorecard.version)))
    return scorecard_version(session, newest or 0)


def scorecard_version(session: Session, version: int) -> Scorecard:
    """The scorecard a review was scored with (the default for version 0 or one gone)."""
    row = session.get(QaScorecard, version) if version else None
    if row is None:
        return DEFAULT
    try:
        return Scorecard.from_json(row.config, row.version)
    except ScorecardRefused:
        return DEFAULT


def conversation_messages(session: Session, ticket_id: int) -> list[Message]:
    """The messages a review reads, in order (its turns): the customer's and the agents'
    replies; notes, the bot's and the system's messages left out."""
    messages = session.scalars(
        select(Message)
        .where(Message.ticket_id == ticket_id, Message.direction != Direction.NOTE.value)
        .order_by(Message.created_at, Message.id)
    )
    return [
        m
        for m in messages
        if m.direction == Direction.INBOUND.value or m.author_type == AuthorType.USER.value
    ]


def conversation_of(session: Session, ticket: Ticket) -> Conversation:
    raw = []
    for m in conversation_messages(session, ticket.id):
        if m.direction == Direction.INBOUND.value:
            emotion = (m.analysis or {}).get("emotion")
            raw.append(RawTurn(CUSTOMER, m.body_text, m.created_at, emotion, m.id))
        else:
            raw.append(RawTurn(AGENT, m.body_text, m.created_at, None, m.id))
    target = None
    if ticket.first_response_due_at is not None:
        target = ticket.first_response_due_at - ticket.created_at
    complaint = ticket.case_path == CasePath.COMPLAINT.value
    return Conversation(
        turns=read_turns(raw, channel=ticket.channel),
        first_response_target=target,
        complaint=complaint,
        loop_stages=_stages(session, ticket) if complaint else (),
        survey=_survey(session, ticket),
    )


def _stages(session: Session, ticket: Ticket) -> tuple[str, ...]:
    """The loop's stages in the order the case went through them (its ``case.step`` trail)."""
    seen = [Stage.REGISTERED.value]
    for after in session.scalars(
        select(AuditEvent.after)
        .where(AuditEvent.ticket_id == ticket.id, AuditEvent.action == "case.step")
        .order_by(AuditEvent.id)
    ):
        stage = (after or {}).get("stage")
        if stage and stage != seen[-1]:
            seen.append(stage)
    return tuple(seen)


def _survey(session: Session, ticket: Ticket) -> SurveyAnswer | None:
    row = session.scalar(select(Survey).where(Survey.ticket_id == ticket.id))
    if row is None or row.answered_at is None:
        return None
    return SurveyAnswer(csat=row.csat, nps=row.nps)


@dataclass(frozen=True)
class Reviewed:
    results: list[CriterionResult]
    score: Score
    scorecard: Scorecard


def review_case(session: Session, ticket: Ticket) -> Reviewed:
    scorecard = current_scorecard(session)
    results = review(conversation_of(session, ticket))
    return Reviewed(results, score(results, scorecard), scorecard)


def risk_of(ticket: Ticket, reviewed: Reviewed, conversation_ended_upset: bool) -> int:
    """The reviewers' queue order: low scores first, crises and customers left upset ahead."""
    total = reviewed.score.total
    risk = int(100 - total) if total is not None else 0
    if reviewed.score.failed:
        risk += 100
    if CRISIS_RISKS & set(ticket.risks or ()):
        risk += 80
    if conversation_ended_upset:
        risk += 40
    return risk


def write_review(session: Session, ticket: Ticket, now: datetime) -> QaReview:
    """Review the ticket's last resolution and store it (the caller commits)."""
    reviewed = review_case(session, ticket)
    upset = _ended_upset(reviewed.results)
    row = QaReview(
        ticket_id=ticket.id,
        agent_id=ticket.assignee_id,
        group_id=ticket.group_id,
        scorecard_version=reviewed.scorecard.version,
        total=reviewed.score.total,
        failed_critical=[c.value for c in reviewed.score.failed_critical],
        results=[r.to_json() for r in reviewed.results],
        risk=risk_of(ticket, reviewed, upset),
        status="automatic",
        resolved_at=ticket.resolved_at,
        created_at=now,
    )
    session.add(row)
    return row


def _ended_upset(results: list[CriterionResult]) -> bool:
    trend = next((r for r in results if r.criterion.value == "emotion_trend"), None)
    return trend is not None and trend.verdict == Verdict.FAIL


@dataclass
class SweepReport:
    reviewed: int = 0


def sweep_once(session: Session, now: datetime, batch: int = BATCH) -> int:
    """Review the cases whose review is due (locked, skipped by other workers on PostgreSQL)."""
    query = select(Ticket).where(Ticket.qa_due_at <= now).order_by(Ticket.qa_due_at).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    tickets = list(session.scalars(query))
    for ticket in tickets:
        if ticket.merged_into_id is None:
            write_review(session, ticket, now)
        ticket.qa_due_at = None
    session.flush()
    return len(tickets)


def sweep_until_done(
    sessions: Callable[[], Session], now: Callable[[], datetime], rounds: int = 20
) -> SweepReport:
    report = SweepReport()
    for _ in range(rounds):
        with sessions() as session:
            done = sweep_once(session, now())
            session.commit()
        report.reviewed += done
        if done < BATCH:
            break
    return report
