"""Suggested replies for an open case (话术推荐): the best few composed and filled replies for
its latest customer message, by intent, category, emotion, case stage and customer profile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Message, Script, Tag, Ticket, User, customer_tags
from kefu.domain.scripts import compose
from kefu.domain.scripts.placeholders import Placeholder, fill
from kefu.domain.scripts.ranking import Conditions, Situation, best
from kefu.domain.tickets import Direction
from kefu.norms import chat_length_limit
from kefu.services.norms.review import chat_or_not
from kefu.services.scripts.index import Entry, LibraryIndex, library_index
from kefu.services.scripts.values import values_for

VIP_TAGS = frozenset({"vip", "VIP", "会员", "VIP会员", "贵宾"})


@dataclass(frozen=True)
class Suggestion:
    script_id: int  # the body's script: what a reply sent with it records as used
    version: int
    title: str
    scenario: str
    opener_id: int | None
    closing_id: int | None
    text: str
    unfilled: tuple[Placeholder, ...]
    score: float


@dataclass(frozen=True)
class CustomerFacts:
    name: str
    vip: bool
    first_contact: bool


def customer_facts(session: Session, ticket: Ticket) -> CustomerFacts:
    """The customer's name and profile in one query (suggestions are read on every case view)."""
    vip = (
        select(customer_tags.c.tag_id)
        .join(Tag, Tag.id == customer_tags.c.tag_id)
        .where(customer_tags.c.customer_id == ticket.customer_id, Tag.name.in_(VIP_TAGS))
        .exists()
    )
    earlier = (
        select(Ticket.id)
        .where(Ticket.customer_id == ticket.customer_id, Ticket.id < ticket.id)
        .exists()
    )
    row = session.execute(
        select(Customer.name, vip, earlier).where(Customer.id == ticket.customer_id)
    ).one_or_none()
    if row is None:
        return CustomerFacts("", False, True)
    return CustomerFacts(row[0] or "", bool(row[1]), not row[2])


def situation_of(session: Session, ticket: Ticket, facts: CustomerFacts | None = None) -> Situation:
    """The case as suggestions see it: its triage (intake keeps the emotion the customer's latest
    mood, domain/ticket_triage.py; a person's corrections stay), else its latest customer
    message's analysis; its stage; the customer's profile."""
    analysis: dict[str, str] = {}
    if not (ticket.intent and ticket.category and ticket.emotion):  # else the query is moot
        latest = session.scalar(
            select(Message.analysis)
            .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
            .order_by(Message.id.desc())
            .limit(1)
        )
        analysis = latest or {}
    facts = facts or customer_facts(session, ticket)
    profiles = {
        name
        for name, present in (
            ("vip", facts.vip),
            ("first_contact", facts.first_contact),
            ("repeat_complaint", ticket.repeat_complaint),
        )
        if present
    }
    return Situation(
        intent=ticket.intent or analysis.get("intent"),
        category=ticket.category or analysis.get("category"),
        emotion=ticket.emotion or analysis.get("emotion"),
        stage=ticket.stage,
        profiles=frozenset(profiles),
        first_reply=ticket.first_response_at is None,
    )


def opener_for(index: LibraryIndex, situation: Situation) -> Entry | None:
    kind = compose.opener_wanted(situation.emotion, first_reply=situation.first_reply)
    if kind is None:
        return None
    if kind == "greeting":
        fits = [e for e in index.openers if e.conditions.first_reply and not e.conditions.emotions]
    else:
        fits = [e for e in index.openers if situation.emotion in e.conditions.emotions]
    ranked = best(((e, e.conditions, e.id) for e in fits), situation, 1)
    return ranked[0][0] if ranked else None


def closing_for(index: LibraryIndex, situation: Situation) -> Entry | None:
    closings = index.closings_for(situation.stage)
    ranked = best(((e, e.conditions, e.id) for e in closings), situation, 1)
    return ranked[0][0] if ranked else None


def rank(index: LibraryIndex, situation: Situation, limit: int) -> list[tuple[Entry, float]]:
    candidates = index.bodies_for(situation.category, situation.intent)
    return best(((e, e.conditions, e.id) for e in candidates), situation, limit)


@dataclass(frozen=True)
class Setting:
    """Where a composed reply goes: the first reply of the case (it greets), and the most
    characters one message may have on its channel (chat: parts on lines of their own)."""

    first_reply: bool = False
    max_chars: int | None = None

    @classmethod
    def of(cls, ticket: Ticket, situation: Situation) -> Setting:
        return cls(situation.first_reply, chat_length_limit(chat_or_not(ticket.channel)))


def compose_entries(
    opener: Entry | None,
    body: Entry,
    closing: Entry | None,
    values: Mapping[str, str],
    setting: Setting | None = None,
) -> tuple[str, tuple[Placeholder, ...]]:
    """The reply made of the three parts, filled, keeping the norms it teaches: a first reply
    greets; in chat the parts go on lines of their own, and a reply longer than one message
    may be loses its closing, then its opener (the body is what answers)."""
    setting = setting or Setting()
    variants = [(opener, body, closing), (opener, body, None), (None, body, None)]
    for parts in variants if setting.max_chars else variants[:1]:
        bodies = [e.body for e in parts if e is not None]
        separator = "\n" if setting.max_chars else ""
        text = compose.join_reply(bodies, greet=setting.first_reply, separator=separator)
        filled = fill(text, values)
        if setting.max_chars is None or len(filled.text) <= setting.max_chars:
            break
    return filled.text, filled.unfilled


def suggest(
    session: Session,
    ticket: Ticket,
    limit: int = 3,
    *,
    agent: User | None = None,
    extra: Mapping[str, str] | None = None,
) -> list[Suggestion]:
    """The ``limit`` best replies for ``ticket``, each composed (opener + body + closing) and
    filled; placeholders without a value stay in the text and are listed with their spans."""
    index = library_index(session)
    facts = customer_facts(session, ticket)
    situation = situation_of(session, ticket, facts)
    ranked = rank(index, situation, limit)
    if not ranked:
        return []
    opener, closing = opener_for(index, situation), closing_for(index, situation)
    values = values_for(session, ticket, extra, agent=agent, customer_name=facts.name)
    setting = Setting.of(ticket, situation)
    out = []
    for body, score in ranked:
        text, unfilled = compose_entries(opener, body, closing, values, setting)
        out.append(
            Suggestion(body.id, body.version, body.title, body.scenario,
                       opener.id if opener else None, closing.id if closing else None,
                       text, unfilled, score)
        )  # fmt: skip
    return out


def fill_for_ticket(
    session: Session,
    script: Script,
    ticket: Ticket,
    *,
    agent: User | None = None,
    extra: Mapping[str, str] | None = None,
) -> tuple[str, tuple[Placeholder, ...]]:
    """A script as a reply on ``ticket``: a body with the opener and closing the case calls for
    (as in ``suggest``); an opener or closing alone. Filled; the unfilled listed."""
    entry = Entry(script.id, script.current_version, script.title, script.body, script.role,
                  Conditions.of(script.conditions), script.scenario_id, "", "", "")  # fmt: skip
    values = values_for(session, ticket, extra, agent=agent)
    if script.role != "body":
        filled = fill(compose.join_reply([script.body]), values)
        return filled.text, filled.unfilled
    index = library_index(session)
    situation = situation_of(session, ticket)
    return compose_entries(
        opener_for(index, situation), entry, closing_for(index, situation), values,
        Setting.of(ticket, situation),
    )  # fmt: skip
