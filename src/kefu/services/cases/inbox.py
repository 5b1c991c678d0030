"""The inbox (收件箱): the cases a staff member works through, by view, filtered and sorted.

Views (each also counted, one query per view over indexed columns):

- **mine** — open cases (new, open, pending) assigned to me;
- **groups** — open cases of my groups;
- **unassigned** — open cases nobody has taken (including the shared queue, not yet routed);
- **at_risk** — *SLA at risk*: a case being worked (new or open; a pending case's clocks are
  paused) whose earliest running clock has reached its warning point or is already past due.
  The warning point is where ``sla.warn`` fires: 80 % of the clock's budget used
  (``domain/sla.WARN_SHARE``) under the case's SLA policy (``services/sla/clocks.Policies``) and
  its group's working hours. The sweep writes that moment with the deadlines as ``sla_warn_at``
  (services/sla/clocks.py), so the view is one range of an index; a case past due has passed its
  warning point too;
- **p1** — open P1 cases (crises);
- **waiting** — cases waiting on the customer or a third party (pending);
- **resolved** — cases resolved or closed in the last 7 days;
- **all** — every open case (supervisors and admins, who see every case).

Every view is limited by ``visible_tickets(actor)``: an agent never sees nor counts a case of
another group. The list is sorted by SLA time left (the nearest of the first response, next
response and resolution deadlines; cases without a running clock last), by the newest activity,
(in "recently resolved": the latest resolved), or by priority then SLA time left, and paged by keyset (an opaque cursor of the last row's sort
key), so a page costs the same at any depth.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload, selectinload

from kefu.db.models import Tag, Ticket, User, group_members, ticket_tags
from kefu.db.models.tickets import SlaOrder, SlaOrderUnindexed, open_work
from kefu.domain.tickets import Priority, TicketStatus
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.cases.routing import HANDLER_ROLES
from kefu.services.cases.tickets import visible_tickets

RECENTLY = timedelta(days=7)  # "recently resolved"
# Cases without a running SLA clock sort after every deadline (a fixed far date, not NULL: both
# engines then order and compare the key the same way).
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_WORKED = [TicketStatus.NEW.value, TicketStatus.OPEN.value]  # the clocks run
_DONE = [TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]
SortColumn = ColumnElement[Any] | InstrumentedAttribute[Any]
_DUE_COLUMNS = (Ticket.first_response_due_at, Ticket.next_response_due_at, Ticket.resolution_due_at)


class View(StrEnum):
    MINE = "mine"
    GROUPS = "groups"
    UNASSIGNED = "unassigned"
    AT_RISK = "at_risk"
    P1 = "p1"
    WAITING = "waiting"
    RESOLVED = "resolved"
    ALL = "all"


class Sort(StrEnum):
    SLA = "sla"  # SLA time left, the soonest first
    NEWEST = "newest"  # the latest activity first
    PRIORITY = "priority"  # P1 first, then SLA time left


@dataclass(frozen=True)
class Filters:
    """The filter bar; None: any. Values are checked against their vocabularies by the caller."""

    channel: str | None = None
    priority: str | None = None
    category: str | None = None
    emotion: str | None = None
    intent: str | None = None
    stage: str | None = None
    tag: str | None = None
    repeat_complaint: bool | None = None

    @property
    def active(self) -> bool:
        return any(value is not None for value in vars(self).values())


@dataclass(frozen=True)
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def views_for(actor: Actor) -> tuple[View, ...]:
    """The views in the order the inbox shows them; "all" only for those who see every case."""
    views = tuple(v for v in View if v is not View.ALL)
    return (*views, View.ALL) if actor.sees_all_tickets else views


def default_view(actor: Actor) -> View:
    """Where the inbox opens: one's own cases; every open case for a supervisor or an admin."""
    return View.ALL if actor.sees_all_tickets else View.MINE


def sorts_for(view: View) -> tuple[Sort, ...]:
    """The orders a view offers, its default first: resolved cases have no running clock, they
    come the latest resolved first."""
    return (Sort.NEWEST,) if view is View.RESOLVED else (Sort.SLA, Sort.NEWEST, Sort.PRIORITY)


def default_sort(view: View) -> Sort:
    return sorts_for(view)[0]


# --- conditions ---------------------------------------------------------------------------------


def at_risk(now: datetime) -> ColumnElement[bool]:
    """SQL condition: SLA at risk (see the module's docstring). The sweep writes the warning
    moment with the deadlines, and a warning comes before its deadline: a case past due has
    passed its warning too."""
    return and_(Ticket.sla_warn_at <= now, Ticket.status.in_(_WORKED))


def view_condition(actor: Actor, view: View, now: datetime) -> ColumnElement[bool]:
    """SQL condition of a view, within what the actor may see."""
    # As the partial indexes name it (ix_tickets_sla_order is walked); a case the answering bot
    # holds is in nobody's queue until it hands off (services/bot/).
    is_open = and_(open_work(), Ticket.bot_holds.is_(False))
    match view:
        case View.MINE:
            condition = and_(Ticket.assignee_id == actor.user_id, is_open)
        case View.GROUPS if not actor.group_ids:
            condition = false()  # said outright: an empty IN made SQLite walk a whole index
        case View.GROUPS:
            condition = and_(Ticket.group_id.in_(sorted(actor.group_ids)), is_open)
        case View.UNASSIGNED:
            condition = and_(Ticket.assignee_id.is_(None), is_open)
        case View.AT_RISK:
            condition = at_risk(now)
        case View.P1:
            condition = and_(Ticket.priority == Priority.P1.value, is_open)
        case View.WAITING:  # a case waiting on someone is pending (domain/case_loop.Case.status)
            condition = Ticket.status == TicketStatus.PENDING.value
        case View.RESOLVED:
            condition = and_(Ticket.status.in_(_DONE), Ticket.resolved_at >= now - RECENTLY)
        case View.ALL:
            condition = is_open
    return and_(visible_tickets(actor), condition)


def filter_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        column == value
        for column, value in (
            (Ticket.channel, filters.channel),
            (Ticket.priority, filters.priority),
            (Ticket.category, filters.category),
            (Ticket.emotion, filters.emotion),
            (Ticket.intent, filters.intent),
            (Ticket.stage, filters.stage),
        )
        if value is not None
    ]
    if filters.repeat_complaint is not None:
        conditions.append(Ticket.repeat_complaint.is_(filters.repeat_complaint))
    if filters.tag is not None:
        tagged = (
            select(ticket_tags.c.ticket_id)
            .join(Tag, Tag.id == ticket_tags.c.tag_id)
            .where(Tag.name == filters.tag)
        )
        conditions.append(Ticket.id.in_(tagged))
    return conditions


# --- counting -----------------------------------------------------------------------------------


def count_views(session: Session, actor: Actor, now: datetime) -> dict[View, int]:
    """How many cases each of the actor's views holds (the filter bar does not apply)."""
    return {
        view: session.scalar(
            select(func.count()).select_from(Ticket).where(view_condition(actor, view, now))
        )
        or 0
        for view in views_for(actor)
    }


# --- the list -----------------------------------------------------------------------------------


# The views that hold many cases read the SLA order's index in order; the others find their few
# cases by their own index and sort them (SQLite would otherwise walk every case in order).
_BROAD_VIEWS = frozenset({View.ALL, View.GROUPS, View.UNASSIGNED})


def sla_key(*, walk_index: bool = True) -> ColumnElement[datetime]:
    """SQL: the nearest running deadline, or ``NO_DEADLINE`` (db/models/tickets.py ``SlaOrder``,
    which has an index)."""
    return SlaOrder() if walk_index else SlaOrderUnindexed()


def nearest_due(ticket: Ticket) -> datetime | None:
    """The nearest of the case's running deadlines (first response, next response, resolution)."""
    return min((d for d in (getattr(ticket, c.key) for c in _DUE_COLUMNS) if d), default=None)


def _activity(ticket: Ticket) -> datetime:
    return ticket.last_message_at or ticket.created_at


def _sort_columns(sort: Sort, view: View, walk_index: bool) -> list[SortColumn]:
    match sort:
        case Sort.SLA:
            return [sla_key(walk_index=walk_index), Ticket.id]
        case Sort.NEWEST if view is View.RESOLVED:  # the latest resolved first
            return [Ticket.resolved_at, Ticket.id]
        case Sort.NEWEST:
            return [func.coalesce(Ticket.last_message_at, Ticket.created_at), Ticket.id]
        case Sort.PRIORITY:
            return [Ticket.priority, sla_key(walk_index=walk_index), Ticket.id]


def _key_of(ticket: Ticket, sort: Sort, view: View) -> list[Any]:
    due = nearest_due(ticket) or NO_DEADLINE
    match sort:
        case Sort.SLA:
            return [due, ticket.id]
        case Sort.NEWEST if view is View.RESOLVED:
            return [ticket.resolved_at, ticket.id]
        case Sort.NEWEST:
            return [_activity(ticket), ticket.id]
        case Sort.PRIORITY:
            return [ticket.priority, due, ticket.id]


def list_page(
    session: Session,
    actor: Actor,
    view: View,
    filters: Filters,
    sort: Sort,
    *,
    now: datetime,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of a view: its cases with their customer, assignee, group and tags loaded (three
    queries in all), and the cursor of the next page (None: this is the last)."""
    columns = _sort_columns(sort, view, view in _BROAD_VIEWS and not filters.active)
    descending = sort is Sort.NEWEST
    # First the page's ids, sorted on narrow rows; then those cases with what the list shows.
    query = select(Ticket.id).where(view_condition(actor, view, now), *filter_conditions(filters))
    after = decode_cursor(cursor, sort)
    if after is not None:
        bound = tuple_(*(literal(v, c.type) for v, c in zip(after, columns, strict=True)))
        row = tuple_(*columns)
        query = query.where(row < bound if descending else row > bound)
    query = query.order_by(*(c.desc() if descending else c.asc() for c in columns))
    ids = list(session.scalars(query.limit(limit + 1)))
    more = len(ids) > limit
    ids = ids[:limit]
    loaded = session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(ids))
        .options(
            joinedload(Ticket.customer),
            joinedload(Ticket.assignee),
            joinedload(Ticket.group),
            selectinload(Ticket.tags),
        )
    ).unique()
    by_id = {t.id: t for t in loaded}
    rows = [by_id[i] for i in ids if i in by_id]
    return Page(rows, encode_cursor(_key_of(rows[-1], sort, view), sort) if more and rows else None)


# --- cursors ------------------------------------------------------------------------------------

_KEY_KINDS: dict[Sort, tuple[str, ...]] = {
    Sort.SLA: ("time", "id"),
    Sort.NEWEST: ("time", "id"),
    Sort.PRIORITY: ("priority", "time", "id"),
}


def encode_cursor(key: Sequence[Any], sort: Sort) -> str:
    values = [v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in key]
    raw = json.dumps({"s": sort.value, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: Sort) -> list[Any] | None:
    """The sort key a cursor carries; ``invalid_cursor`` (400) for anything else, including a
    cursor of another sort order."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = data["k"]
        if data["s"] != sort.value or len(values) != len(_KEY_KINDS[sort]):
            raise ValueError("another sort order")
        return [_decoded(kind, v) for kind, v in zip(_KEY_KINDS[sort], values, strict=True)]
    except (ValueError, KeyError, TypeError) as e:
        raise KefuError("invalid_cursor") from e


def _decoded(kind: str, value: Any) -> Any:
    if kind == "id":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**62:
            raise ValueError("id")
        return value
    if kind == "priority":
        return Priority(value).value
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return moment


# --- what the inbox offers --------------------------------------------------------------------


def assignable_members(session: Session, actor: Actor) -> list[User]:
    """Whom the bulk bar offers to assign to: the active agents and specialists of the actor's
    groups (of every group for a supervisor or an admin)."""
    query = select(User).where(User.is_active.is_(True), User.role.in_(HANDLER_ROLES))
    if not actor.sees_all_tickets:
        members = select(group_members.c.user_id).where(
            group_members.c.group_id.in_(sorted(actor.group_ids))
        )
        query = query.where(User.id.in_(members))
    return list(session.scalars(query.order_by(User.name, User.id)))


def known_tags(session: Session, limit: int = 300) -> list[str]:
    """Tag names for the filter's suggestions."""
    return list(session.scalars(select(Tag.name).order_by(Tag.name).limit(limit)))
