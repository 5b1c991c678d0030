"""Live-chat offers: a waiting web chat goes to one agent of its group at a time.

A chat waits while no agent has taken it (``chat_accepted_at`` None, nobody assigned). It is
offered to the agent ``domain/chat_offers.next_agent`` picks among the group's handlers (online,
with room under ``chat_cap``, not having let it pass); the agent accepts (the chat is theirs:
assigned, ``chat_accepted_at``) or declines, or lets the offer run out, and then it goes to the
next. When every agent with room has let it pass, the round starts over with them rather than
leave the visitor waiting for nobody.

The offers live in the ticket's columns ("the database is the clock"): the ``chat_offers`` job
(jobs/registry.py) moves expired offers on and offers chats nobody had room for, in rounds safe
to run in several workers at once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL). A new chat is
offered at once by its first message (``offer_now``), so nobody waits for the next round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from kefu.db.models import Group, Ticket, User, group_members
from kefu.domain import chat_offers
from kefu.domain import events as ev
from kefu.domain.chat_offers import AgentSeat, AgentStatus
from kefu.domain.roles import manages_presence
from kefu.domain.tickets import OPEN_STATUSES, Channel
from kefu.errors import Conflict, NotFound
from kefu.services import audit
from kefu.services.actors import SYSTEM, Actor
from kefu.services.cases import routing
from kefu.services.cases import tickets as cases
from kefu.services.events import unit_of_work as events
from kefu.settings import Settings

DEFAULT_AVERAGE_CHAT = timedelta(minutes=5)
RECENT_CHATS = 50
ROUND_SIZE = 200
OPEN = [s.value for s in OPEN_STATUSES]


@dataclass(frozen=True)
class OfferRules:
    cap: int = chat_offers.DEFAULT_CHAT_CAP
    timeout: timedelta = chat_offers.OFFER_TIMEOUT


def rules_of(settings: Settings) -> OfferRules:
    return OfferRules(settings.chat_cap, timedelta(seconds=settings.chat_offer_seconds))


@dataclass
class OfferReport:
    offered: int = 0
    expired: int = 0

    def add(self, other: OfferReport) -> None:
        self.offered += other.offered
        self.expired += other.expired


def waiting() -> ColumnElement[bool]:
    return and_(Ticket.status.in_(OPEN), unanswered_chat())


def unanswered_chat() -> ColumnElement[bool]:
    """A web chat nobody has taken: waiting, if the ticket is open (and the bot does not hold
    it: services/bot/ hands it to the queue when a person is needed)."""
    return and_(
        Ticket.channel == Channel.WEBCHAT.value,
        Ticket.bot_holds.is_(False),
        Ticket.assignee_id.is_(None),
        Ticket.chat_accepted_at.is_(None),
        Ticket.merged_into_id.is_(None),
    )


def same_group(group_id: int | None) -> ColumnElement[bool]:
    return Ticket.group_id.is_(None) if group_id is None else Ticket.group_id == group_id


# --- who has room ----------------------------------------------------------------------------------


def seats(session: Session, group_id: int | None, cap: int) -> list[AgentSeat]:
    """The group's handlers as the offer rule sees them (no group: every handler): their status
    and their chats, counting the ones offered to them and not answered yet."""
    query = select(User).where(User.is_active.is_(True), User.role.in_(routing.HANDLER_ROLES))
    if group_id is not None:
        query = query.join(group_members, group_members.c.user_id == User.id).where(
            group_members.c.group_id == group_id
        )
    members = list(session.scalars(query.order_by(User.id)))
    if not members:
        return []
    ids = [m.id for m in members]
    chats: dict[int, int] = {}
    for column in (Ticket.assignee_id, Ticket.chat_offer_user_id):
        rows = session.execute(
            select(column, func.count())
            .where(
                column.in_(ids),
                Ticket.channel == Channel.WEBCHAT.value,
                Ticket.status.in_(OPEN),
                Ticket.assignee_id.is_(None) if column is Ticket.chat_offer_user_id else true(),
            )
            .group_by(column)
        )
        for user_id, count in rows:
            if user_id is not None:
                chats[user_id] = chats.get(user_id, 0) + int(count)
    return [
        AgentSeat(m.id, _status(m.status), chats.get(m.id, 0), cap, m.last_assigned_at)
        for m in members
    ]


def _status(raw: str | None) -> AgentStatus:
    try:
        return AgentStatus(raw or AgentStatus.OFFLINE)
    except ValueError:
        return AgentStatus.OFFLINE


# --- offering --------------------------------------------------------------------------------------


def offer_now(session: Session, ticket_id: int, now: datetime, rules: OfferRules) -> int | None:
    """Offer a chat that waits and has no live offer (a new chat's first message); returns the
    agent it went to, or None (nobody has room; the job tries again)."""
    query = select(Ticket).where(Ticket.id == ticket_id, waiting())
    ticket = session.scalar(_locked(session, query))
    if ticket is None or _offer_live(ticket, now):
        return None
    return _offer(session, ticket, now, rules, {})


def offer_round(session: Session, now: datetime, rules: OfferRules) -> OfferReport:
    """One round: expired offers pass to the next agent; chats without an offer get one."""
    report = OfferReport()
    query = (
        select(Ticket)
        .where(
            waiting(),
            or_(Ticket.chat_offer_user_id.is_(None), Ticket.chat_offer_expires_at <= now),
        )
        .order_by(Ticket.id)
        .limit(ROUND_SIZE)
    )
    by_group: dict[int | None, list[AgentSeat]] = {}
    for ticket in session.scalars(_locked(session, query)):
        if ticket.chat_offer_user_id is not None:
            _let_pass(session, ticket, ticket.chat_offer_user_id, "expired")
            by_group.pop(ticket.group_id, None)  # the agent has one chat less to count
            report.expired += 1
        if _offer(session, ticket, now, rules, by_group) is not None:
            report.offered += 1
    return report


def offer_until_done(
    sessions: Callable[[], Session], now: Callable[[], datetime], rules: OfferRules
) -> OfferReport:
    """Rounds until one finds nothing left to do (the job's entry point)."""
    total = OfferReport()
    while True:
        with sessions() as session:
            report = offer_round(session, now(), rules)
            session.commit()
        total.add(report)
        if report.offered + report.expired < ROUND_SIZE:
            return total


def _locked(session: Session, query: Select[Ticket]) -> Select[Ticket]:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def _offer_live(ticket: Ticket, now: datetime) -> bool:
    return ticket.chat_offer_user_id is not None and (
        ticket.chat_offer_expires_at is None or ticket.chat_offer_expires_at > now
    )


def _offer(
    session: Session,
    ticket: Ticket,
    now: datetime,
    rules: OfferRules,
    by_group: dict[int | None, list[AgentSeat]],
) -> int | None:
    group_seats = by_group.get(ticket.group_id)
    if group_seats is None:
        group_seats = by_group[ticket.group_id] = seats(session, ticket.group_id, rules.cap)
    passed = list(ticket.chat_passed_by or [])
    choice = chat_offers.next_agent(group_seats, passed)
    if choice is None and passed:  # everyone with room let it pass: round again
        choice = chat_offers.next_agent(group_seats)
        if choice is not None:
            ticket.chat_passed_by = []
    if choice is None:
        return None
    ticket.chat_offer_user_id = choice.user_id
    ticket.chat_offer_expires_at = now + rules.timeout
    by_group[ticket.group_id] = [
        replace(s, active_chats=s.active_chats + 1) if s.user_id == choice.user_id else s
        for s in group_seats
    ]
    events.record(session, ev.TicketChanged(ticket.id, fields=("chat_offer_user_id",)))
    return choice.user_id


def _let_pass(session: Session, ticket: Ticket, user_id: int, how: str) -> None:
    ticket.chat_passed_by = [*(ticket.chat_passed_by or []), user_id]
    ticket.chat_offer_user_id = None
    ticket.chat_offer_expires_at = None
    audit.record(
        session, SYSTEM, "chat.offer_passed", object_type="ticket", object_id=ticket.id,
        ticket_id=ticket.id, customer_id=ticket.customer_id, after={"user_id": user_id, "how": how},
    )  # fmt: skip


# --- the agent's answer ----------------------------------------------------------------------------


def do_accept(session: Session, actor: Actor, ticket_id: int, now: datetime) -> Ticket:
    """Take a waiting chat offered to you (or, for a supervisor, any waiting chat; for anyone
    of the group, one not offered to anybody right now)."""
    ticket = _chat(session, actor, ticket_id)
    if ticket.chat_accepted_at is not None or ticket.assignee_id is not None:
        if ticket.assignee_id == actor.user_id:
            return ticket
        raise Conflict("already_claimed", details={"assignee_id": ticket.assignee_id})
    offered_to = ticket.chat_offer_user_id if _offer_live(ticket, now) else None
    if offered_to != actor.user_id and not (
        offered_to is None or actor.is_system or manages_presence(actor.role)
    ):
        raise Conflict("not_offered")
    ticket.chat_accepted_at = now
    ticket.chat_offer_user_id = None
    ticket.chat_offer_expires_at = None
    cases.do_update_ticket(session, actor, ticket, {"assignee_id": actor.user_id})
    agent = session.get(User, actor.user_id) if actor.user_id else None
    if agent is not None:
        agent.last_assigned_at = now
    return ticket


def do_decline(
    session: Session, actor: Actor, ticket_id: int, now: datetime, rules: OfferRules
) -> Ticket:
    """Let a chat offered to you pass; it is offered to the next agent at once."""
    ticket = _chat(session, actor, ticket_id)
    if actor.user_id is None or ticket.chat_offer_user_id != actor.user_id:
        raise Conflict("not_offered")
    if not _offer_live(ticket, now):
        raise Conflict("not_offered")
    _let_pass(session, ticket, actor.user_id, "declined")
    events.record(session, ev.TicketChanged(ticket.id, fields=("chat_offer_user_id",)))
    _offer(session, ticket, now, rules, {})
    return ticket


def _chat(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    ticket = cases.access_ticket(session, actor, ticket_id, for_update=True)
    if ticket.channel != Channel.WEBCHAT.value:
        raise NotFound("ticket")
    return ticket


# --- what the visitor is told (services/webchat/availability.py) -----------------------------------


def average_chat(session: Session, group_id: int | None) -> timedelta:
    """How long the group's recent chats lasted, accepted to resolved (5 minutes before any)."""
    rows = session.execute(
        select(Ticket.chat_accepted_at, Ticket.resolved_at)
        .where(
            Ticket.channel == Channel.WEBCHAT.value,
            same_group(group_id),
            Ticket.chat_accepted_at.is_not(None),
            Ticket.resolved_at.is_not(None),
        )
        .order_by(Ticket.id.desc())
        .limit(RECENT_CHATS)
    ).all()
    lengths = [
        r.resolved_at - r.chat_accepted_at for r in rows if r.resolved_at > r.chat_accepted_at
    ]
    if not lengths:
        return DEFAULT_AVERAGE_CHAT
    return sum(lengths, timedelta(0)) / len(lengths)


def group_of(session: Session, group_id: int | None) -> Group | None:
    return session.get(Group, group_id) if group_id is not None else None
