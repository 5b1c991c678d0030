"""Resolved cases with a conversation, reviewed by the job, for the quality review's tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.db.base import utcnow
from kefu.db.models import Message, QaReview, Ticket, User
from kefu.db.session import session_scope
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.services.cases import loop
from kefu.services.qa import reviews
from tests import factories


def say(db, ticket: Ticket, role: str, text: str, minute: int, emotion: str = "neutral") -> None:
    at = ticket.created_at + timedelta(minutes=minute)
    customer = role == "customer"
    db.add(Message(
        ticket_id=ticket.id, channel=ticket.channel, body_text=text, created_at=at,
        direction=Direction.INBOUND.value if customer else Direction.OUTBOUND.value,
        author_type=AuthorType.CUSTOMER.value if customer else AuthorType.USER.value,
        analysis={"emotion": emotion} if customer else None,
    ))  # fmt: skip


def resolve(db, ticket: Ticket) -> None:
    loop.move_status(ticket, TicketStatus.RESOLVED, now=utcnow())
    db.commit()


def sweep(db, engine) -> int:
    """The job's rounds in their own sessions; the test's session then reads what they wrote."""
    db.commit()
    done = reviews.sweep_until_done(lambda: session_scope(engine), utcnow).reviewed
    db.commit()
    return done


def rude_case(db, engine, agent: User) -> QaReview:
    """A case the agent answered with blame and no greeting, resolved and reviewed."""
    ticket = factories.make_ticket(db, text="快递一周了还没到！")
    ticket.assignee_id = agent.id
    say(db, ticket, "customer", "快递一周了还没到！", 0, "angry")
    say(db, ticket, "agent", "这是快递公司的问题，跟我们没关系。", 2)
    db.commit()
    resolve(db, ticket)
    sweep(db, engine)
    review = db.scalar(select(QaReview).where(QaReview.ticket_id == ticket.id))
    assert review is not None
    return review


def verdicts(review: QaReview) -> dict[str, str]:
    return {r["criterion"]: r["verdict"] for r in review.results}
