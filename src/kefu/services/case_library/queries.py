"""Reading the case library: the list (by category, searched), one entry, and the past cases most
like an open one.

Entries are anonymised, so every staff member reads every entry; the link to an entry's original
ticket is given only to those who may open that ticket (the rule of ``access_ticket``).
Integrations read nothing here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db.models import CaseEntry, Message, Ticket
from kefu.domain import case_library as lib
from kefu.domain.case_file import case_of
from kefu.domain.tickets import Direction
from kefu.errors import NotFound
from kefu.services.actors import Actor
from kefu.services.case_library.index import library_index
from kefu.services.cases.tickets import access_ticket, visible_tickets

SEARCH_DEPTH = 50  # candidates read from the index before filters and ranking
QUERY_MESSAGES = 3  # of the customer's first messages, with the subject and the case's facts


@dataclass(frozen=True)
class Found:
    entry: CaseEntry
    ticket_id: int | None  # the original ticket, when the reader may open it
    match: lib.Match | None = None  # for a similar case: its score and outcome


def outcome_of(entry: CaseEntry) -> lib.Outcome:
    return lib.Outcome(entry.first_time, entry.reopen_count, entry.rating)


def _require_staff(actor: Actor) -> None:
    if actor.is_integration:
        raise NotFound("case_entry")


def access_entry(session: Session, actor: Actor, entry_id: int) -> CaseEntry:
    """The only way to load an entry for a reader (staff); otherwise 404."""
    _require_staff(actor)
    entry = session.get(CaseEntry, entry_id)
    if entry is None:
        raise NotFound("case_entry")
    return entry


def linkable(session: Session, actor: Actor, entries: Sequence[CaseEntry]) -> set[int]:
    """The original tickets of ``entries`` the actor may open (``visible_tickets``, the rule of
    ``access_ticket``), in one query."""
    ids = [e.ticket_id for e in entries if e.ticket_id is not None]
    if not ids:
        return set()
    return set(session.scalars(select(Ticket.id).where(Ticket.id.in_(ids), visible_tickets(actor))))


def _found(session: Session, actor: Actor, entries: Sequence[CaseEntry]) -> list[Found]:
    links = linkable(session, actor, entries)
    return [Found(e, e.ticket_id if e.ticket_id in links else None) for e in entries]


def entry_view(session: Session, actor: Actor, entry: CaseEntry) -> Found:
    return _found(session, actor, [entry])[0]


@dataclass(frozen=True)
class Page:
    items: list[Found]
    total: int


def browse(
    session: Session,
    actor: Actor,
    *,
    category: str | None = None,
    query: str = "",
    limit: int = 20,
    offset: int = 0,
) -> Page:
    """The library, newest archive first; with ``query``, the entries that match it best first
    (words of the problem, cause and tags); ``category`` narrows either."""
    _require_staff(actor)
    if query.strip():
        index = library_index(session)
        hits = index.index.search(query, k=SEARCH_DEPTH).hits
        ids = [
            int(h.id)
            for h in hits
            if category is None or index.entries[int(h.id)].category == category
        ]
        chosen = ids[offset : offset + limit]
        by_id = {
            e.id: e for e in session.scalars(select(CaseEntry).where(CaseEntry.id.in_(chosen)))
        }
        return Page(_found(session, actor, [by_id[i] for i in chosen if i in by_id]), len(ids))
    where = [] if category is None else [CaseEntry.category == category]
    total = session.scalar(select(func.count(CaseEntry.id)).where(*where)) or 0
    rows = session.scalars(
        select(CaseEntry)
        .where(*where)
        .order_by(CaseEntry.archived_at.desc(), CaseEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return Page(_found(session, actor, list(rows)), total)


def categories(session: Session) -> list[tuple[str, int]]:
    """The categories the library holds, with their entry counts, most first."""
    rows = session.execute(
        select(CaseEntry.category, func.count(CaseEntry.id))
        .where(CaseEntry.category.is_not(None))
        .group_by(CaseEntry.category)
        .order_by(func.count(CaseEntry.id).desc(), CaseEntry.category)
    )
    return [(str(c), int(n)) for c, n in rows]


def case_text(session: Session, ticket: Ticket) -> str:
    """An open case as the library is searched for it: subject, facts, cause, and the
    customer's first messages."""
    case = case_of(ticket)
    said = session.scalars(
        select(Message.body_text)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(Message.id)
        .limit(QUERY_MESSAGES)
    )
    return lib.query_text([ticket.subject, case.facts, case.cause, *said])


def similar(session: Session, actor: Actor, ticket_id: int, *, limit: int = 3) -> list[Found]:
    """The past cases most like the ticket's (which the actor must be allowed to see: else 404),
    the best outcomes first among the good matches; never the ticket's own entry."""
    ticket = access_ticket(session, actor, ticket_id)
    index = library_index(session)
    own = session.scalar(select(CaseEntry.id).where(CaseEntry.ticket_id == ticket.id))
    candidates = [
        lib.Candidate(entry_id, score, index.entries[entry_id].category,
                      index.entries[entry_id].outcome)
        for entry_id, score in index.similar(case_text(session, ticket), k=SEARCH_DEPTH)
        if entry_id != own
    ]  # fmt: skip
    matches = lib.rank(candidates, ticket.category, limit * 3)
    rows = {
        e.id: e
        for e in session.scalars(select(CaseEntry).where(CaseEntry.id.in_([m.id for m in matches])))
    }
    chosen: list[tuple[CaseEntry, lib.Match]] = []
    seen: set[tuple[str, str]] = set()
    for m in matches:  # the same story solved the same way is offered once
        entry = rows.get(m.id)
        if entry is None or (entry.problem, entry.solution) in seen or len(chosen) == limit:
            continue
        seen.add((entry.problem, entry.solution))
        chosen.append((entry, m))
    links = linkable(session, actor, [e for e, _ in chosen])
    return [Found(e, e.ticket_id if e.ticket_id in links else None, m) for e, m in chosen]
