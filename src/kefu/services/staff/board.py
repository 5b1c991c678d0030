"""The supervisor board (主管看板): queues by group, the agents' load and status, crises and SLA
risks, read for supervisors and admins only.

The figures come from aggregate queries over the open tickets, never one query per row: the
queues and every agent's load from one ``GROUP BY group, assignee``, each list from one query
with its group and assignee names joined in. They read the partial index of the open tickets
(``ix_tickets_open_work``), not the rows, so a long history costs them nothing. What the board
changes goes through the usual services: ``cases.tickets.do_assign`` to reassign,
``staff.agent_status.do_set_status`` to set an agent's status.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from kefu.db.models import Group, Ticket, User, group_members
from kefu.db.models.tickets import open_work
from kefu.domain.chat_offers import AgentStatus
from kefu.domain.roles import Role, at_least
from kefu.domain.tickets import Channel, Priority
from kefu.errors import NotFound, PermissionDenied
from kefu.services.actors import Actor
from kefu.services.cases.routing import HANDLER_ROLES
from kefu.services.cases.tickets import visible_tickets
from kefu.services.sla import risk
from kefu.services.webchat.offers import unanswered_chat

LIST_SIZE = 20  # each SLA list shows the most urgent ones
CRISIS_LIST_SIZE = 50
STATUS_ORDER = {s.value: i for i, s in enumerate(AgentStatus)}  # online, busy, break, offline
FIGURES = ("open", "unassigned", "waiting_chats", "at_risk", "breached", "crises")


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
    """The groups with their open work, and the active handlers with their load."""

    groups: dict[int, str]
    handlers: list[Agent]
    queues: list[Queue] = field(default_factory=list)

    def of_group(self, group_id: int | None) -> list[Agent]:
        """A group's handlers; a ticket without a group may go to any handler."""
        if group_id is None:
            return self.handlers
        return [a for a in self.handlers if group_id in a.group_ids]

    def totals(self) -> dict[str, int]:
        """Every queue's figures added up, and the handlers online of all."""
        sums = {f: sum(getattr(q, f) for q in self.queues) for f in FIGURES}
        online = sum(1 for a in self.handlers if a.status == AgentStatus.ONLINE.value)
        return {**sums, "online": online, "handlers": len(self.handlers)}


def groups(session: Session, actor: Actor, *, only: int | None = None) -> dict[int, str]:
    """The groups' names by id, in the order they were made; ``only``: that group, which must
    exist (a board narrowed to a group that does not is a 404)."""
    require_supervisor(actor)
    names = {
        row.id: row.name for row in session.execute(select(Group.id, Group.name).order_by(Group.id))
    }
    if only is not None and only not in names:
        raise NotFound("group")
    return names


def team(session: Session, actor: Actor, now: datetime) -> Team:
    """The groups and their queues, the active handlers and their load, as of ``now``."""
    names = groups(session, actor)
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
    work = _open_work(session, actor, now)
    loads: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in work:
        if row.assignee_id is not None:
            loads[row.assignee_id][0] += row.open
            loads[row.assignee_id][1] += row.chats
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
        )  # fmt: skip
        for u in users
    ]
    agents.sort(key=lambda a: (STATUS_ORDER[a.status], a.name, a.id))
    the_team = Team(names, agents)
    return Team(names, agents, _queues(work, the_team))


# --- the queues -----------------------------------------------------------------------------


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _open_work(session: Session, actor: Actor, now: datetime) -> list[Any]:
    """The open tickets counted per group and assignee: one pass over the partial index."""
    return list(
        session.execute(
            select(
                Ticket.group_id,
                Ticket.assignee_id,
                func.count().label("open"),
                _count(Ticket.channel == Channel.WEBCHAT.value).label("chats"),
                _count(unanswered_chat()).label("waiting_chats"),  # open: waiting
                _count(risk.at_risk(now)).label("at_risk"),
                _count(risk.breached(now)).label("breached"),
                _count(Ticket.priority == Priority.P1.value).label("crises"),
            )
            .where(open_work(), visible_tickets(actor))
            .group_by(Ticket.group_id, Ticket.assignee_id)
        )
    )


def _queues(work: list[Any], the_team: Team) -> list[Queue]:
    """Every group's figures; the shared queue first when it holds any, then the groups in the
    order they were made."""
    figures: dict[int | None, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for row in work:
        counts = figures[row.group_id]
        for name in ("open", "waiting_chats", "at_risk", "breached", "crises"):
            counts[name] += int(getattr(row, name) or 0)
        if row.assignee_id is None:
            counts["unassigned"] += row.open
    out = []
    if None in figures:
        out.append(Queue(None, "", **figures[None]))
    for group_id, name in the_team.groups.items():
        handlers = the_team.of_group(group_id)
        online = sum(1 for a in handlers if a.status == AgentStatus.ONLINE.value)
        counts = figures.get(group_id, dict.fromkeys(FIGURES, 0))
        out.append(Queue(group_id, name, **counts, online=online, handlers=len(handlers)))
    return out


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
    """The first ``limit`` open tickets meeting ``condition``: chosen from the open tickets'
    index alone (the inner query reads no row), then read with their names."""
    require_supervisor(actor)
    nearest = risk.nearest_due(session.get_bind().dialect.name)
    chosen = select(Ticket.id, Ticket.priority, nearest.label("due_at")).where(
        open_work(), visible_tickets(actor), condition
    )
    if group_id is not None:
        chosen = chosen.where(Ticket.group_id == group_id)
    top = chosen.order_by(*_order(Ticket.priority, nearest, Ticket.id, by_priority)).limit(limit)
    first = top.subquery()
    assignee = aliased(User)
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
            first.c.due_at,
            Ticket.created_at,
        )  # fmt: skip
        .join(first, first.c.id == Ticket.id)
        .outerjoin(Group, Group.id == Ticket.group_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .order_by(*_order(first.c.priority, first.c.due_at, first.c.id, by_priority))
    )
    return [BoardTicket(**row._mapping) for row in session.execute(query)]


def _order(priority: Any, due: Any, ticket_id: Any, by_priority: bool) -> list[Any]:
    """The least time left first (the longest overdue first, once past), after the most urgent
    priority ``by_priority``."""
    order = [due.asc().nulls_last(), ticket_id]
    return [priority, *order] if by_priority else order


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
