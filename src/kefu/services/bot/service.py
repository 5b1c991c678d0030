"""The answering bot on a case it holds: one turn per customer message, after intake stored it.

A channel whose bot mode takes a new conversation now (``bot_takes_now``) marks the case it
opens as held (``Ticket.bot_holds``, set by intake in the same insert): the case is in no agent's
queue, is offered to nobody and the SLA sweep leaves it alone. ``do_bot_turn`` then runs the pure
decisions of domain/bot.py on each customer message of the case and writes what they decide:

- the bot's message (author type ``bot``), through the outbox like an agent's reply, with its
  widget extras (``bot_payload``: the article, the quick replies, the contact form);
- the article offered and the customer's verdict on the one before (``bot_article_offers``);
- a hand-off: the case leaves the bot (``bot_holds`` off), the bot's time becomes a pause of the
  SLA clocks and the sweep routes and times it now (``sla_check_at``), like any new case; the
  reason is kept on the bot's conversation and audited;
- a solved case (解决了): resolved by the bot, with no agent (self-service).

A message is answered once: the conversation keeps the last message id it answered, and the turn
runs with the case locked, so a redelivered message or two workers never answer twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import BotArticleOffer, BotConversation, Message, Ticket
from kefu.domain import bot
from kefu.domain import case_loop as cw
from kefu.domain import events as ev
from kefu.domain.business_calendar import BusinessCalendar, from_json
from kefu.domain.roles import Role
from kefu.domain.sla import Pause
from kefu.domain.tickets import AuthorType, Direction, TicketStatus
from kefu.sanitize import text_to_html
from kefu.services import audit
from kefu.services.actors import Actor
from kefu.services.bot.knowledge import KnowledgeSource, knowledge_source
from kefu.services.cases import loop as cases
from kefu.services.cases.routing import in_business_hours
from kefu.services.events import unit_of_work as events
from kefu.services.intake.inbound import InboundResult
from kefu.services.outbound import enqueue as outbox
from kefu.services.sla import clocks
from kefu.services.webchat import offline

BOT = Actor(user_id=None, role=Role.ADMIN, via="bot", name="智能助手")
BOT_NAME = "智能助手"


def bot_takes_now(mode: str, calendar: dict[str, Any] | None, now: datetime) -> bool:
    """Whether a channel with bot ``mode`` and its group's working hours (``calendar``, None:
    the default) gives a conversation opened ``now`` to the bot."""
    try:
        chosen = bot.BotMode(mode)
    except ValueError:
        return False
    if chosen is bot.BotMode.OFF:
        return False
    hours = clocks.default_calendar() if not calendar else from_json(calendar)
    return bot.bot_takes(chosen, in_working_hours=in_business_hours(hours, now))


def bot_part(session: Session, ticket_id: int) -> BotConversation | None:
    """The bot's conversation on a case (its hand-off reason, self-service), if it had one."""
    return session.get(BotConversation, ticket_id)


@dataclass(frozen=True)
class BotTurn:
    """What one turn did: the bot's message (None: it said nothing) and the hand-off, if any."""

    message_id: int | None
    handoff: str | None
    solved: bool


def do_bot_turn(
    session: Session,
    ticket_id: int,
    message_id: int,
    *,
    now: datetime,
    source: KnowledgeSource | None = None,
) -> BotTurn | None:
    """The bot's answer to customer message ``message_id`` of a case it holds, in the caller's
    transaction (events after its commit). None: the bot has nothing to do (the case is not
    the bot's, the conversation ended, or this message was answered already)."""
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        return None
    conversation = session.get(BotConversation, ticket_id, with_for_update=True)
    if conversation is None:
        if not ticket.bot_holds:
            return None
        conversation = _conversation_of(ticket)
        session.add(conversation)
    state = bot.BotState.from_json(conversation.state)
    message = session.get(Message, message_id)
    if (
        message_id <= conversation.last_message_id
        or state.stage in bot.DONE_STAGES
        or message is None
        or message.ticket_id != ticket.id
        or message.direction != Direction.INBOUND.value
    ):
        return None
    turn = _turn_of(ticket, message, now)
    question = bot.search_text(state, turn.text)
    found = _search(session, source or knowledge_source(), question) if question else bot.Found()
    decision = bot.decide(state, turn, found)
    conversation.last_message_id = message_id
    conversation.state = decision.state.to_json()
    if decision.feedback is not None:
        _record_feedback(session, ticket.id, *decision.feedback)
    said = _say(session, ticket, decision.reply, now) if decision.reply is not None else None
    if decision.handoff is not None:
        _hand_off(session, ticket, conversation, decision.handoff, decision.state, now)
    elif decision.solved:
        _resolve(session, ticket, conversation, now, solved=True)
    return BotTurn(said, decision.handoff.value if decision.handoff else None, decision.solved)


def _conversation_of(ticket: Ticket) -> BotConversation:
    return BotConversation(
        ticket_id=ticket.id, channel=ticket.channel, state=bot.BotState().to_json(),
        last_message_id=0, solved_by_bot=False, started_at=ticket.created_at,
    )  # fmt: skip


def _turn_of(ticket: Ticket, message: Message, now: datetime) -> bot.Turn:
    analysis = message.analysis or {}
    risks = {*(ticket.risks or ()), *analysis.get("risks", ())}
    return bot.Turn(
        text=message.body_text,
        in_working_hours=in_business_hours(_calendar(ticket), now),
        emotion=analysis.get("emotion"),
        risks=tuple(sorted(risks)),
        priority=ticket.priority,
    )


def _calendar(ticket: Ticket) -> BusinessCalendar:
    return clocks.calendar_of(ticket.group)


def _search(session: Session, source: KnowledgeSource, question: str) -> bot.Found:
    answers, answered = source.search(session, question)
    return bot.Found(tuple(a.article() for a in answers), answered)


def _say(session: Session, ticket: Ticket, reply: bot.Reply, now: datetime) -> int:
    """The bot's message on the case, queued for the customer like an agent's reply."""
    text = bot.reply_text(reply)
    payload: dict[str, Any] = {"kind": reply.kind.value}
    if reply.article is not None:
        payload["article"] = {
            "key": reply.article.key, "title": reply.article.title, "url": reply.article.url,
        }  # fmt: skip
    if reply.quick_replies:
        payload["quick_replies"] = list(reply.quick_replies)
    if reply.asks_contact:
        payload["form"] = "contact"
    message = Message(
        ticket_id=ticket.id, channel=ticket.channel, direction=Direction.OUTBOUND.value,
        author_type=AuthorType.BOT.value, body_text=text, body_html=text_to_html(text),
        bot_payload=payload, created_at=now,
    )  # fmt: skip
    session.add(message)
    ticket.last_message_at = ticket.updated_at = now
    session.flush()
    if reply.article is not None:
        session.add(
            BotArticleOffer(
                ticket_id=ticket.id, message_id=message.id, article_key=reply.article.key,
                offered_at=now,
            )
        )  # fmt: skip
    outbox.enqueue_message(session, ticket, message)
    events.record(
        session,
        ev.MessageAdded(ticket.id, message_id=message.id, direction=Direction.OUTBOUND.value),
    )
    return message.id


def _record_feedback(session: Session, ticket_id: int, article_key: str, outcome: str) -> None:
    offer = session.scalar(
        select(BotArticleOffer)
        .where(BotArticleOffer.ticket_id == ticket_id, BotArticleOffer.article_key == article_key)
        .order_by(BotArticleOffer.id.desc())
        .limit(1)
    )
    if offer is not None and offer.outcome is None:
        offer.outcome = outcome


def _hand_off(
    session: Session,
    ticket: Ticket,
    conversation: BotConversation,
    reason: bot.HandoffReason,
    state: bot.BotState,
    now: datetime,
) -> None:
    """The case leaves the bot and enters routing and the queues like a new case: the time the
    bot held it is a pause of every SLA clock, and the sweep routes and times it now."""
    conversation.handoff_reason, conversation.ended_at = reason.value, now
    conversation.state = replace(state, stage=bot.Stage.HANDED_OFF).to_json()
    held: Pause = (conversation.started_at, now)
    ticket.sla_pauses = clocks.encode_pauses((*clocks.decode_pauses(ticket.sla_pauses), held))
    ticket.bot_holds = False
    ticket.sla_check_at = now
    ticket.updated_at = now
    audit.record(
        session, BOT, "ticket.bot_handoff", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=ticket.customer_id, after={"reason": reason.value},
    )  # fmt: skip
    events.record(session, ev.TicketChanged(ticket.id, fields=("bot_holds",)))
    if state.contact is not None:  # out of hours: a call-back, kept like the leave-a-message form's
        email = state.contact if "@" in state.contact else None
        form = offline.OfflineForm("", None if email else state.contact, email, state.question)
        done = InboundResult(ticket.id, 0, ticket.customer_id, duplicate=False)
        offline.keep_contact(session, done, form, anonymous=False)


def _resolve(
    session: Session, ticket: Ticket, conversation: BotConversation, now: datetime, *, solved: bool
) -> None:
    """The bot's conversation ends with the case resolved, no agent involved: 解决了 (``solved``:
    self-service), or the customer left without a word (not counted as solved)."""
    conversation.solved_by_bot, conversation.ended_at = solved, now
    ticket.bot_holds = False
    before = ticket.status
    try:
        cases.do_status_change(ticket, TicketStatus.RESOLVED, now, cw.Policy())
    except cases.StepNotAllowed:  # a path that wants its steps first: the plain status move
        cases.move_status(ticket, TicketStatus.RESOLVED, now=now)
    ticket.sla_check_at = None  # nothing to time: nobody waits on anyone
    audit.record(
        session, BOT, "ticket.bot_solved" if solved else "ticket.bot_left", object_type="ticket",
        object_id=ticket.id, ticket_id=ticket.id, customer_id=ticket.customer_id,
        before={"status": before}, after={"status": ticket.status},
    )  # fmt: skip
    events.record(session, ev.TicketChanged(ticket.id, fields=("status", "bot_holds")))


IDLE_ROUND = 200


def release_channel(session: Session, webchat_channel_id: int, now: datetime) -> int:
    """The bot was switched off on a web chat channel: the conversations it holds there go to
    the agents now (``bot_off``); returns how many."""
    held = session.scalars(
        select(Ticket)
        .where(Ticket.bot_holds.is_(True), Ticket.webchat_channel_id == webchat_channel_id)
        .with_for_update()
    ).all()
    for ticket in held:
        conversation = session.get(BotConversation, ticket.id)
        if conversation is None:
            conversation = _conversation_of(ticket)
            session.add(conversation)
        state = bot.BotState.from_json(conversation.state)
        _hand_off(session, ticket, conversation, bot.HandoffReason.BOT_OFF, state, now)
    return len(held)


def sweep_idle(session: Session, now: datetime, *, limit: int = IDLE_ROUND) -> dict[str, int]:
    """End the conversations the customers left (``domain/bot.IDLE_AFTER`` without a message):
    to the agents if the customer wanted a person, else resolved. In the caller's transaction;
    rows another worker holds are skipped. A held case the bot never answered (its turn failed)
    goes to the agents as one the bot could not answer."""
    query = (
        select(Ticket)
        .where(Ticket.bot_holds.is_(True), Ticket.last_message_at < now - bot.IDLE_AFTER)
        .order_by(Ticket.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Ticket)
    counts = {"handed_off": 0, "closed": 0}
    for ticket in session.scalars(query):
        conversation = session.get(BotConversation, ticket.id)
        if conversation is None:
            conversation = _conversation_of(ticket)
            session.add(conversation)
            reason: bot.HandoffReason | None = bot.HandoffReason.LOW_CONFIDENCE
        else:
            reason = bot.on_idle(bot.BotState.from_json(conversation.state))
        state = bot.BotState.from_json(conversation.state)
        if reason is not None:
            _hand_off(session, ticket, conversation, reason, state, now)
            counts["handed_off"] += 1
        else:
            conversation.state = replace(state, stage=bot.Stage.SOLVED).to_json()
            _resolve(session, ticket, conversation, now, solved=False)
            counts["closed"] += 1
    session.flush()
    return counts
