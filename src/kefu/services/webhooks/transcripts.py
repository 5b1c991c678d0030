"""A phone call's transcript becomes a conversation like any other (channel ``phone``).

The customer's turns are customer messages, taken through intake (services/intake/inbound.py)
with the call's customer phone as their identity: the first opens the case (or joins the
customer's open phone case), the others join it. The agent's turns are the agent's replies on the
case, recorded and never sent (the call happened; phone sends nothing, so no outbox row): the
norms checker reads each one with the turns before it as its context, as it reads a typed reply,
and its speaking rate is measured (domain/speaking_rate.py) against the limit of the call's topic.

A message's ``created_at`` is the moment of its turn in the call, and the ticket page's timeline
shows them in that order. Rows are written in the order spoken, except agent turns spoken before
the customer's first words (the case needs that first customer message before anything can be
added to it), so the API's message list, in id order, has those after it. A later call of the
same customer joins their open phone case, as any message of a channel does. Idempotent on the
call id: a call already taken is answered with its case again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.channels.webhook_events import CallTranscript, Turn
from kefu.db.models import Message, Ticket, User, WebhookSource
from kefu.domain import speaking_rate
from kefu.domain.tickets import Channel
from kefu.nlp.analysis import Analysis
from kefu.norms import ReplyContext, Report, check
from kefu.norms import Turn as NormsTurn
from kefu.services.actors import Actor
from kefu.services.cases import tickets
from kefu.services.intake.inbound import (
    Delivery,
    InboundMessage,
    Sender,
    analyze_deliveries,
)
from kefu.services.norms import review as norms_review
from kefu.services.staff import auth
from kefu.services.webhooks.intake import take_message
from kefu.settings import Settings

CONTEXT_TURNS = norms_review.CONTEXT_TURNS


@dataclass(frozen=True)
class CallTaken:
    ticket_id: int
    customer_id: int
    messages: int
    duplicate: bool = False


def turn_id(source: WebhookSource, call_id: str, index: int) -> str:
    return f"{source.key}:{call_id}:{index}"


def take_call(
    session: Session,
    source_actor: Actor,
    source: WebhookSource,
    call: CallTranscript,
    *,
    raw: str,
    settings: Settings,
) -> CallTaken:
    """Write the call's turns (see the module docstring) in the session's transaction."""
    first_id = turn_id(source, call.call_id, 0)
    seen = session.execute(
        select(Message.ticket_id, Ticket.customer_id)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(Message.channel == Channel.PHONE.value, Message.external_id == first_id)
    ).first()
    if seen is not None:
        return CallTaken(seen.ticket_id, seen.customer_id, 0, duplicate=True)

    deliveries = _customer_deliveries(source_actor, source, call, raw)
    complex_topic = _is_complex([d.analysis for _, d in deliveries], call.topic)
    agent = _agent(session, call.agent_email, source_actor)

    first_index, first = deliveries[0]
    opened = take_message(session, first, settings)
    ticket = tickets.access_ticket(session, source_actor, opened.ticket_id, for_update=True)
    customer_turns = dict(deliveries)
    written = 1
    for index, turn in enumerate(call.turns):
        if index == first_index:
            continue
        if turn.speaker == "customer":
            delivery = customer_turns.get(index)
            if delivery is None:  # a customer turn with no words
                continue
            message = replace(delivery.message, ticket_id=ticket.id)
            take_message(session, replace(delivery, message=message), settings)
            session.expire(ticket)  # intake wrote the row with its own statements
        else:
            if not turn.text.strip():
                continue
            context = _context(call.turns, index, customer_turns)
            _agent_turn(session, agent, ticket, call, index, turn, context, complex_topic, source)
        written += 1
    return CallTaken(ticket.id, ticket.customer_id, written)


def _customer_deliveries(
    actor: Actor, source: WebhookSource, call: CallTranscript, raw: str
) -> list[tuple[int, Delivery]]:
    """The customer's turns as intake deliveries, analysed before any row is written."""
    sender = Sender(call.customer_phone, call.customer_name, phone=call.customer_phone)
    subject = f"来电 {call.customer_name or call.customer_phone}"
    todo = [
        (i, Delivery(actor, InboundMessage(
            channel=Channel.PHONE.value, external_id=turn_id(source, call.call_id, i),
            sender=sender, text=t.text, subject=subject, group_id=source.group_id,
        ), raw if not done else "", _at(call.started_at, t.start_s)))
        for done, (i, t) in enumerate(
            (i, t) for i, t in enumerate(call.turns) if t.speaker == "customer" and t.text.strip()
        )
    ]  # fmt: skip
    analysed = analyze_deliveries([d for _, d in todo])
    return [(i, d) for (i, _), d in zip(todo, analysed, strict=True)]


def _at(started_at: datetime, seconds: float) -> datetime:
    return started_at + timedelta(seconds=seconds)


def _is_complex(analyses: Sequence[Analysis | None], hint: str | None) -> bool:
    return any(
        speaking_rate.is_complex(
            intent=a.intent.value, category=a.category.value,
            risks=[r.value for r in a.risks], topic_hint=None,
        )
        for a in analyses if a is not None
    ) or speaking_rate.is_complex(intent=None, category=None, risks=(), topic_hint=hint)  # fmt: skip


def _agent(session: Session, email: str | None, fallback: Actor) -> Actor:
    """The call's agent, when the phone system names a kefu user; else the source itself."""
    if email:
        user = session.scalar(select(User).where(func.lower(User.email) == email.lower()))
        if user is not None and user.is_active:
            return auth.actor_for(user, via="webhook")
    return fallback


def _context(turns: Sequence[Turn], index: int, customers: dict[int, Delivery]) -> ReplyContext:
    """What the agent answered at turn ``index``: the turns before it, as the checker reads a
    typed reply's conversation."""
    before = [(i, t) for i, t in enumerate(turns[:index]) if t.text.strip()]
    recent = before[-CONTEXT_TURNS:]
    last_customer = next(
        (customers[i] for i, t in reversed(before) if t.speaker == "customer" and i in customers),
        None,
    )
    emotion = None
    if last_customer is not None and last_customer.analysis is not None:
        emotion = last_customer.analysis.emotion.value
    return ReplyContext(
        turns=tuple(NormsTurn(t.speaker, t.text) for _, t in recent),
        first_reply=not any(t.speaker == "agent" for _, t in before),
        channel=Channel.PHONE.value,
        customer_emotion=emotion,
    )


def _agent_turn(
    session: Session,
    agent: Actor,
    ticket: Ticket,
    call: CallTranscript,
    index: int,
    turn: Turn,
    context: ReplyContext,
    complex_topic: bool,
    source: WebhookSource,
) -> Message:
    review = norms_review.Review(
        report=Report(tuple(check(turn.text, context))), override_reason=None
    )
    message = tickets.do_add_message(
        session, agent, ticket, text=turn.text, internal=False, channel=Channel.PHONE.value,
        send=False,
    )  # fmt: skip
    rate = speaking_rate.measure(turn.text, turn.start_s, turn.end_s, complex_topic=complex_topic)
    message.created_at = _at(call.started_at, turn.start_s)
    message.external_id = turn_id(source, call.call_id, index)
    message.call_turn = {"start_s": turn.start_s, "end_s": turn.end_s, **rate.to_json()}
    norms_review.record_review(session, agent, message, review)
    session.flush()
    return message
