"""A phone case's calls as the ticket page sums them up: the speaking rate of the agent's turns
(stored on each turn's message by services/webhooks/transcripts.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Message, Ticket
from kefu.domain import speaking_rate
from kefu.domain.tickets import Direction


def call_summary(session: Session, ticket: Ticket) -> speaking_rate.CallSummary | None:
    """The average rate and the turns too fast of the case's agent turns (None: no call)."""
    stored = session.scalars(
        select(Message.call_turn)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.OUTBOUND.value,
            Message.call_turn.is_not(None),
        )
        .order_by(Message.id)
    ).all()
    turns = [turn_rate(s) for s in stored if s]
    return speaking_rate.summarize(turns) if turns else None


def turn_rate(stored: dict[str, Any]) -> speaking_rate.TurnRate:
    """A turn's rate as stored in ``messages.call_turn``."""
    return speaking_rate.TurnRate(
        units=int(stored.get("units") or 0),
        seconds=max(0.0, float(stored.get("end_s", 0)) - float(stored.get("start_s", 0))),
        rate=stored.get("rate"),
        limit=int(stored.get("limit") or speaking_rate.SIMPLE_LIMIT),
        fast=bool(stored.get("fast")),
    )
