"""The supervisor board (主管看板): queues by group, the agents' load and status, crises and SLA
risks, read for supervisors and admins only.

Every figure comes from a few aggregate queries (``GROUP BY``) over the open tickets, never one
query per row, so the board stays fast with a large history: the queues in one query, the
agents' load in one, each list in one (its group and assignee names joined in). What the board
changes goes through the usual services: ``cases.tickets.do_assign`` to reassign,
``staff.agent_status.do_set_status`` to set an agent's status.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from kefu.db.models import Group, Ticket, User, group_members
from kefu.domain.chat_offers import AgentStatus
from kefu.domain.roles import Role, at_least
from kefu.domain.tickets import OPEN_STATUSES, Channel, Priority
from kefu.errors import NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.cases.routing import HANDLER_ROLES
from kefu.services.cases.tickets import visible_tickets
from kefu.services.sla import risk
from kefu.services.webchat.offers import waiting

OPEN = [s.value for s in OPEN_STATUSES]
LIST_SIZE = 20  # each SLA list shows the most urgent ones
CRISIS_LIST_SIZE = 50
STATUS_ORDER = {s.value: i for i, s in enumerate(AgentStatus)}  # online, busy, break, offline


def require_supervisor(actor: Actor) -> None:
    if not (
        actor.is_system or (not actor.is_integration and at_least(actor.role, Role.SUPERVISOR))
    ):
        raise PermissionDenied()


@dataclass(frozen=True)
class Queue:
    """One group's open work (``group_id`` None: the shared queue of tickets not routed yet)."""

    group_id: int | None
    name: str
    open: int = 0
    unassigned: int = 0
    waiting_chats: int = 0
    at_risk: int = 0
    breached: int = 0
    crises: int = 0  # P1 open
    online: int = 0  # its handlers whose status is 在线
    handlers: int = 0


@dataclass(frozen=True)
class Agent:
    """A handler (agent or specialist) as the board shows them."""

    id: int
    name: str
    role: str
    status: str
    status_since: datetime | None
    capacity: int
    group_ids: tuple[int, ...]
    open_tickets: int = 0
    chats: int = 0  # open web chats assigned to them

    @property
    def load_share(self) -> float:
        return self.open_tickets / self.capacity if self.capacity > 0 else 0.0


@dataclass(frozen=True)
class BoardTicket:
    id: int
    subject: str
    priority: str
    status: str
    channel: str
    group_id: int | None
    group_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    due_at: datetime | None  # the nearest running deadline
    created_at: datetime


@dataclass(frozen=True)
class Team:
    """The groups and their active handlers: who a ticket of a group may be given to."""

    groups: dict[int, str]
    handlers: list[Agent]

    def of_group(self, group_id: int | None) -> list[Agent]:
        """A group's handlers; a ticket without a group may go to any handler."""
        if group_id is None:
            return self.handlers
        return [a for a in self.handlers if group_id in a.group_ids]


# --- the team -------------------------------------------------------------------------------


def team(session: Session, actor: Actor) -> Team:
    """The groups and the active handlers with their load (open tickets, web chats)."""
    require_supervisor(actor)
    groups = {row.id: row.name for row in session.execute(select(Group.id, Group.name))}
    memberships: dict[int, list[int]] = defaultdict(list)
    for group_id, user_id in session.execute(
        select(group_members.c.group_id, group_members.c.user_id).order_by(group_members.c.group_id)
    ):
        memberships[user_id].append(group_id)
    users = session.execute(
        select(User.id, User.name, User.role, User.status, User.status_since, User.capacity).where(
            User.is_active.is_(True), User.role.in_(HANDLER_ROLES)
        )
    ).all()
    if not users:
        return Team(groups, [])
    chat = Ticket.channel == Channel.WEBCHAT.value
    loads = {
        row.assignee_id: (int(row.open), int(row.chats or 0))
        for row in session.execute(
            select(
                Ticket.assignee_id,
                func.count().label("open"),
                func.sum(case((chat, 1), else_=0)).label("chats"),
            )
            .where(Ticket.status.in_(OPEN), Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        )
    }
    agents = [
        Agent(
            u.id,
            u.name,
            u.role,
            u.status if u.status in STATUS_ORDER else AgentStatus.OFFLINE.value,
            u.status_since,
            u.capacity,
            tuple(memberships.get(u.id, ())),
            *loads.get(u.id, (0, 0)),
        )
        for u in users
    ]
    agents.sort(key=lambda a: (STATUS_ORDER[a.status], a.name, a.id))
    return Team(groups, agents)


def check_group(team: Team, group_id: int | None) -> None:
    """A board narrowed to a group that does not exist is a 404."""
    if group_id is not None and group_id not in team.groups:
        raise NotFound("group")


# --- the queues -----------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def queues(session: Session, actor: Actor, the_team: Team, now: datetime) -> list[Queue]:
    """Every group's open work, in one aggregate over the open tickets; the shared queue first
    when it holds any, then the groups in the order they were made."""
    require_supervisor(actor)
    rows = session.execute(
        select(
            Ticket.group_id,
            func.count().label("open"),
            _count(Ticket.assignee_id.is_(None)).label("unassigned"),
            _count(waiting()).label("waiting_chats"),
            _count(risk.at_risk(now)).label("at_risk"),
            _count(risk.breached(now)).label("breached"),
            _count(Ticket.priority == Priority.P1.value).label("crises"),
        )
        .where(Ticket.status.in_(OPEN), visible_tickets(actor))
        .group_by(Ticket.group_id)
    ).all()
    figures = {row.group_id: row for row in rows}
    out = []
    shared = figures.get(None)
    if shared is not None:
        out.append(_queue(None, "", shared, []))
    for group_id, name in sorted(the_team.groups.items()):  # as the admin made them
        out.append(_queue(group_id, name, figures.get(group_id), the_team.of_group(group_id)))
    return out


def _queue(group_id: int | None, name: str, row: object, handlers: list[Agent]) -> Queue:
    counts = {
        field: int(getattr(row, field) or 0) if row is not None else 0
        for field in ("open", "unassigned", "waiting_chats", "at_risk", "breached", "crises")
    }
    online = sum(1 for a in handlers if a.status == AgentStatus.ONLINE.value)
    return Queue(group_id, name, **counts, online=online, handlers=len(handlers))


# --- the lists ------------------------------------------------------------------------------


def _tickets(
    session: Session,
    actor: Actor,
    condition: ColumnElement[bool],
    *,
    group_id: int | None,
    by_priority: bool,
    limit: int,
) -> list[BoardTicket]:
    require_supervisor(actor)
    assignee = aliased(User)
    due = risk.nearest_due(session.get_bind().dialect.name).label("due_at")
    query = (
        select(
            Ticket.id,
            Ticket.subject,
            Ticket.priority,
            Ticket.status,
            Ticket.channel,
            Ticket.group_id,
            Group.name.label("group_name"),
            Ticket.assignee_id,
            assignee.name.label("assignee_name"),
            due,
            Ticket.created_at,
        )  # fmt: skip
        .outerjoin(Group, Group.id == Ticket.group_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(Ticket.status.in_(OPEN), visible_tickets(actor), condition)
    )
    if group_id is not None:
        query = query.where(Ticket.group_id == group_id)
    order = [due.asc().nulls_last(), Ticket.id]
    query = query.order_by(*([Ticket.priority, *order] if by_priority else order)).limit(limit)
    return [BoardTicket(**row._mapping) for row in session.execute(query)]


def crises(
    session: Session, actor: Actor, *, group_id: int | None = None, limit: int = CRISIS_LIST_SIZE
) -> list[BoardTicket]:
    """Open P1 cases (危机工单), the nearest deadline first."""
    condition = Ticket.priority == Priority.P1.value
    return _tickets(session, actor, condition, group_id=group_id, by_priority=False, limit=limit)


def sla_risks(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    breached: bool,
    group_id: int | None = None,
    limit: int = LIST_SIZE,
) -> list[BoardTicket]:
    """Open cases at risk (warned of, not breached: the least time left first) or, with
    ``breached``, past a deadline (the most urgent priority first, then the longest overdue);
    see services/sla/risk.py."""
    condition = risk.breached(now) if breached else risk.at_risk(now)
    return _tickets(session, actor, condition, group_id=group_id, by_priority=breached, limit=limit)
