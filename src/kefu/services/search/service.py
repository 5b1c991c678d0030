"""Search (搜索): the tickets, messages and customers an actor may see, ranked, with snippets.

A query is cut into pieces (tokens.py) that must all match. Each kind is ranked by the engine
(``ts_rank`` on PostgreSQL, ``bm25()`` on SQLite) among the documents the actor may see; the
``CANDIDATES`` best of each kind make the result, paged by an offset cursor.

- ``ticket``: a ticket matched by its subject or tags, or by its messages: one hit per ticket,
  scored by its subject (counted twice) plus its best few messages, which come with the hit. A
  ticket that matches in its subject and in several messages ranks above one that mentions the
  words once.
- ``message``: each matching message, with its ticket.
- ``customer``: customers by name, phone, e-mail, identities (WeChat, web chat…) and tags;
  one merged into another is found as that one. When the query names an order, phone or
  account (an exact term), the customers it names come first.

Each hit carries its title and a snippet as plain text with the matched spans ([start, end)
offsets), for the pages to escape and mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db.models import Customer, Identity, Message, Ticket
from kefu.errors import KefuError
from kefu.services.actors import Actor
from kefu.services.infra.pagination import decode_cursor, encode_cursor
from kefu.services.search import queries
from kefu.services.search.index import CUSTOMER, KINDS, MESSAGE, TICKET
from kefu.services.search.tokens import (
    MAX_QUERY_CHARS,
    QueryPlan,
    Snippet,
    parse_query,
    snippet,
)

DEFAULT_KINDS = (TICKET, CUSTOMER)
CANDIDATES = 500  # documents of each kind ranked for one query; pages end there
MESSAGES_PER_TICKET = 3  # a ticket's best messages: counted in its score, shown with it
SUBJECT_WEIGHT = 2.0
TITLE_CHARS = 300


@dataclass(frozen=True)
class MessageHit:
    id: int
    snippet: Snippet


@dataclass(frozen=True)
class Hit:
    kind: str  # ticket | message | customer
    id: int
    score: float
    title: Snippet  # a ticket's subject, a customer's name
    snippet: Snippet | None  # the best matching text: a message, the subject, contact details
    ticket_id: int | None = None
    messages: tuple[MessageHit, ...] = ()  # a ticket's best matching messages
    matched_messages: int = 0  # how many of its messages match (among the candidates)


@dataclass(frozen=True)
class SearchResults:
    hits: list[Hit]
    next_cursor: str | None


def check_query(query: str | None) -> QueryPlan:
    """The plan of a query; an empty or too long one is refused (422). A query of punctuation
    only has an empty plan: it finds nothing."""
    text = (query or "").strip()
    if not text:
        raise KefuError("query_empty", status_code=422)
    if len(text) > MAX_QUERY_CHARS:
        raise KefuError("query_too_long", status_code=422, limit=MAX_QUERY_CHARS)
    return parse_query(text)


@dataclass
class _Found:
    kind: str
    id: int
    score: float
    first: bool = False  # an exact match that goes before the others
    ticket_id: int | None = None
    messages: list[tuple[int, float]] = field(default_factory=list)
    subject: bool = False


def search(
    session: Session,
    actor: Actor,
    query: str | None,
    *,
    kinds: Iterable[str] = DEFAULT_KINDS,
    limit: int = 20,
    cursor: str | None = None,
) -> SearchResults:
    """What the actor may see matching ``query``, best first (see the module docstring)."""
    plan = check_query(query)
    wanted = set(kinds) or set(DEFAULT_KINDS)
    unknown = wanted - set(KINDS)
    if unknown:
        raise KefuError("validation_error", status_code=422, details={"kind": sorted(unknown)})
    offset = decode_cursor(cursor) or 0
    if plan.empty or offset >= CANDIDATES * len(wanted):
        return SearchResults([], None)
    found: list[_Found] = []
    if TICKET in wanted:
        found += _tickets(session, actor, plan)
    if MESSAGE in wanted:
        found += [
            _Found(MESSAGE, mid, score, ticket_id=tid)
            for mid, tid, score in queries.ranked(session, actor, plan, MESSAGE, limit=CANDIDATES)
        ]
    if CUSTOMER in wanted:
        exact = bool(plan.exact_terms)
        found += [
            _Found(CUSTOMER, cid, score, first=exact)
            for cid, _, score in queries.ranked(session, actor, plan, CUSTOMER, limit=CANDIDATES)
        ]
    found.sort(key=lambda f: (not f.first, -f.score, -f.id))
    page = found[offset : offset + limit]
    more = len(found) > offset + limit
    return SearchResults(
        _dressed(session, plan, page), encode_cursor(offset + limit) if more else None
    )


def _tickets(session: Session, actor: Actor, plan: QueryPlan) -> list[_Found]:
    """Tickets by subject and by messages, one each, scored together."""
    tickets: dict[int, _Found] = {}
    for ticket_id, _, score in queries.ranked(session, actor, plan, TICKET, limit=CANDIDATES):
        tickets[ticket_id] = _Found(
            TICKET, ticket_id, SUBJECT_WEIGHT * score, ticket_id=ticket_id, subject=True
        )
    for mid, tid, score in queries.ranked(session, actor, plan, MESSAGE, limit=CANDIDATES):
        assert tid is not None  # a message's document names its ticket
        hit = tickets.setdefault(tid, _Found(TICKET, tid, 0.0, ticket_id=tid))
        if len(hit.messages) < MESSAGES_PER_TICKET:  # ranked: the best come first
            hit.score += score
        hit.messages.append((mid, score))
    return list(tickets.values())


def _dressed(session: Session, plan: QueryPlan, page: list[_Found]) -> list[Hit]:
    """The page's hits with their titles and snippets, read for the page only."""
    ticket_ids = {f.ticket_id for f in page if f.ticket_id is not None}
    subjects: dict[int, str] = {
        r.id: r.subject
        for r in session.execute(select(Ticket.id, Ticket.subject).where(Ticket.id.in_(ticket_ids)))
    }
    message_ids = {mid for f in page for mid, _ in f.messages[:MESSAGES_PER_TICKET]}
    message_ids |= {f.id for f in page if f.kind == MESSAGE}
    bodies: dict[int, str] = {
        r.id: r.body_text
        for r in session.execute(
            select(Message.id, Message.body_text).where(Message.id.in_(message_ids))
        )
    }
    customers = _customer_texts(session, [f.id for f in page if f.kind == CUSTOMER])
    hits = []
    for f in page:
        if f.kind == CUSTOMER:
            name, contact = customers.get(f.id, ("", ""))
            hits.append(Hit(CUSTOMER, f.id, f.score, _title(name, plan), snippet(contact, plan)))
            continue
        title = _title(subjects.get(f.ticket_id, "") if f.ticket_id else "", plan)
        if f.kind == MESSAGE:
            body = snippet(bodies.get(f.id, ""), plan)
            hits.append(Hit(MESSAGE, f.id, f.score, title, body, ticket_id=f.ticket_id))
            continue
        shown = tuple(
            MessageHit(mid, snippet(bodies.get(mid, ""), plan))
            for mid, _ in f.messages[:MESSAGES_PER_TICKET]
        )
        best = shown[0].snippet if shown else title
        hits.append(
            Hit(TICKET, f.id, f.score, title, best, ticket_id=f.id, messages=shown,
                matched_messages=len(f.messages))
        )  # fmt: skip
    return hits


def _title(text: str, plan: QueryPlan) -> Snippet:
    return snippet(text, plan, width=TITLE_CHARS)


def _customer_texts(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Each customer's name, and its contact details in one line (phone · e-mail · identities)."""
    if not ids:
        return {}
    identities: dict[int, list[str]] = {}
    for customer_id, external_id in session.execute(
        select(Identity.customer_id, Identity.external_id)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.id)
    ):
        identities.setdefault(customer_id, []).append(external_id)
    texts = {}
    for row in session.execute(
        select(Customer.id, Customer.name, Customer.phone, Customer.email).where(
            Customer.id.in_(ids)
        )
    ):
        contact = [row.phone, row.email, *identities.get(row.id, [])]
        texts[row.id] = (row.name, " · ".join(dict.fromkeys(c for c in contact if c)))
    return texts
