"""A reply checked against the communication norms (spec/norms.md) before it is sent.

``reply_context`` reads the conversation from the ticket: its last turns, whether the agents
have answered yet, and the customer's emotion from the stored analysis of their last message
(so the checker does not analyse it again). ``review_reply`` checks a draft and refuses it —
422 ``norms_blocked`` with the findings — when an error finding is not overridden with a
reason; ``record_review`` writes the outcome on the message and audits an override.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Ticket
from kefu.domain.tickets import Direction
from kefu.errors import KefuError
from kefu.norms import ReplyContext, Report, Turn, check
from kefu.services import audit
from kefu.services.actors import Actor

CONTEXT_TURNS = 3  # the last turns the checker reads, as in the evaluation files
MAX_OVERRIDE_REASON = 500


@dataclass(frozen=True)
class Review:
    report: Report
    override_reason: str | None  # set only when an error finding was overridden


def reply_context(session: Session, ticket: Ticket, *, closing: bool = False) -> ReplyContext:
    """The conversation a new agent reply on ``ticket`` answers."""
    recent = session.scalars(
        select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction.in_([Direction.INBOUND.value, Direction.OUTBOUND.value]),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(CONTEXT_TURNS)
    ).all()
    turns = tuple(
        Turn("customer" if m.direction == Direction.INBOUND.value else "agent", m.body_text)
        for m in reversed(recent)
    )
    answered = session.scalar(
        select(Message.id)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.OUTBOUND.value)
        .limit(1)
    )
    last_customer = next((m for m in recent if m.direction == Direction.INBOUND.value), None)
    emotion = None
    if last_customer is not None and last_customer.analysis:
        emotion = last_customer.analysis.get("emotion")
    if not isinstance(emotion, str):  # not analysed yet: the case's emotion, not the engine again
        emotion = ticket.emotion
    return ReplyContext(
        turns=turns,
        first_reply=answered is None,
        closing=closing,
        channel=chat_or_not(ticket.channel),
        customer_emotion=emotion if isinstance(emotion, str) else None,
    )


def chat_or_not(channel: str) -> str:
    """The checker's length rule is for chat-like channels; mail and the rest are not."""
    return "chat" if channel in ("webchat", "wechat", "social", "app", "chat") else channel


def check_draft(
    session: Session, actor: Actor, text: str, *, ticket_id: int | None, context: ReplyContext
) -> Report:
    """The composer's check of a draft: on a ticket the actor may see (its conversation as
    the context), or on the context the caller gives."""
    if ticket_id is not None:
        from kefu.services.cases.tickets import access_ticket  # cases imports this module

        ticket = access_ticket(session, actor, ticket_id)
        context = reply_context(session, ticket, closing=context.closing)
    return Report(tuple(check(text, context)))


def review_reply(
    session: Session, ticket: Ticket, text: str, *, override_reason: str | None = None
) -> Review:
    """Check an agent's reply; raise 422 ``norms_blocked`` (the findings in ``details``) when
    an error finding stands and no override reason is given."""
    report = Report(tuple(check(text, reply_context(session, ticket))))
    reason = (override_reason or "").strip()[:MAX_OVERRIDE_REASON] or None
    if report.blocked and reason is None:
        raise KefuError(
            "norms_blocked",
            status_code=422,
            details={
                "findings": [f.to_json() for f in report.findings],
                "score": report.score,
                "field": "norms_override_reason",
            },
        )
    return Review(report=report, override_reason=reason if report.blocked else None)


def record_review(session: Session, actor: Actor, message: Message, review: Review) -> None:
    """Keep the review on the sent message; an override goes to the audit trail too."""
    message.norm_score = review.report.score
    message.norm_rules = review.report.rules
    if review.override_reason is None:
        return
    message.norm_override_reason = review.override_reason
    message.norm_override_by_id = actor.user_id
    blocking = sorted({f.rule for f in review.report.findings if f.severity == "error"})
    audit.record(
        session,
        actor,
        "message.norms_override",
        object_type="message",
        object_id=message.id,
        ticket_id=message.ticket_id,
        after={"reason": review.override_reason, "rules": blocking, "score": review.report.score},
    )
