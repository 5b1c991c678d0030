"""Writing the search index, in the transaction of the rows it indexes.

Each ticket, message and customer has one row in ``search_documents`` with its terms
(``tokens.index_text``): a ticket its subject and tags, a message its body (notes too: who may
see a message is who may see its ticket, the row's ``ticket_id``), a customer its name, e-mail,
phone, identities and tags. The services call ``refresh`` after they change those fields;
intake's batch builds its documents from the rows it inserts and writes them with ``write``
in one statement; ``rebuild`` indexes a whole database (the migration, ``kefu search reindex``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from kefu.db.models import Customer, Identity, Message, SearchDocument, Tag, Ticket
from kefu.db.models import customer_tags as customer_tags_table
from kefu.db.models import ticket_tags as ticket_tags_table
from kefu.services.search.tokens import index_text

TICKET, MESSAGE, CUSTOMER = "ticket", "message", "customer"
KINDS = (TICKET, MESSAGE, CUSTOMER)
_CHUNK = 500  # ids per lookup


@dataclass(frozen=True)
class Doc:
    kind: str
    object_id: int
    ticket_id: int | None
    terms: str  # space-joined


def ticket_doc(ticket_id: int, subject: str, tags: Iterable[str] = ()) -> Doc:
    return Doc(TICKET, ticket_id, ticket_id, index_text(subject, *tags))


def message_doc(message_id: int, ticket_id: int, body: str) -> Doc:
    return Doc(MESSAGE, message_id, ticket_id, index_text(body))


def customer_doc(
    customer_id: int,
    *,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    identities: Iterable[str] = (),
    tags: Iterable[str] = (),
) -> Doc:
    return Doc(CUSTOMER, customer_id, None, index_text(name, email, phone, *identities, *tags))


def indexed_ticket(session: Session, ticket: Ticket) -> None:
    """Index a ticket as it is in the session (its subject, tags and custom field values: an
    order or tracking number in a field is found like one in a message)."""
    values = [str(v) for v in (ticket.fields or {}).values() if v not in (None, "")]
    write(
        session.connection(),
        [ticket_doc(ticket.id, ticket.subject, [*(t.name for t in ticket.tags), *values])],
    )


def indexed_customer(session: Session, customer: Customer) -> None:
    """Index a customer as it is in the session (identities and tags loaded)."""
    doc = customer_doc(
        customer.id,
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        identities=[i.external_id for i in customer.identities],
        tags=[t.name for t in customer.tags],
    )
    write(session.connection(), [doc])


# Arrays keep the SQL the same for any number of rows (parsed and planned once), as intake's.
_PG_UPSERT = text(
    "INSERT INTO search_documents (kind, object_id, ticket_id, terms)"
    " SELECT k, o, t, array_to_tsvector(string_to_array(s, ' '))"
    " FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS bigint[]), CAST(:tickets AS bigint[]),"
    " CAST(:terms AS text[])) AS v(k, o, t, s)"
    " ON CONFLICT (kind, object_id) DO UPDATE SET ticket_id = EXCLUDED.ticket_id,"
    " terms = EXCLUDED.terms"
)
_SQLITE_UPSERT = text(
    "INSERT INTO search_documents (kind, object_id, ticket_id, terms)"
    " VALUES (:kind, :object_id, :ticket_id, :terms)"
    " ON CONFLICT (kind, object_id) DO UPDATE SET ticket_id = excluded.ticket_id,"
    " terms = excluded.terms"
)


def write(conn: Connection, docs: Sequence[Doc]) -> None:
    """Insert or replace these documents (the last one of a kind and id wins)."""
    latest = list({(d.kind, d.object_id): d for d in docs}.values())
    if not latest:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(
            _PG_UPSERT,
            {
                "kinds": [d.kind for d in latest],
                "ids": [d.object_id for d in latest],
                "tickets": [d.ticket_id for d in latest],
                "terms": [d.terms for d in latest],
            },
        )
    else:
        conn.execute(
            _SQLITE_UPSERT,
            [
                {
                    "kind": d.kind,
                    "object_id": d.object_id,
                    "ticket_id": d.ticket_id,
                    "terms": d.terms,
                }
                for d in latest
            ],
        )


def refresh(
    session: Session,
    *,
    tickets: Iterable[int] = (),
    messages: Iterable[int] = (),
    customers: Iterable[int] = (),
) -> None:
    """Index these rows again as they now are in the session's transaction (flushed first)."""
    session.flush()
    conn = session.connection()
    docs: list[Doc] = []
    for chunk in _chunks(sorted(set(tickets))):
        docs += _ticket_docs(conn, Ticket.id.in_(chunk))
    for chunk in _chunks(sorted(set(messages))):
        docs += _message_docs(conn, Message.id.in_(chunk))
    for chunk in _chunks(sorted(set(customers))):
        docs += _customer_docs(conn, Customer.id.in_(chunk))
    write(conn, docs)


def move_messages(session: Session, *, from_ticket: int, to_ticket: int) -> None:
    """The messages of one ticket now belong to another (a merge): they follow its visibility."""
    session.execute(
        update(SearchDocument)
        .where(SearchDocument.kind == MESSAGE, SearchDocument.ticket_id == from_ticket)
        .values(ticket_id=to_ticket)
        .execution_options(synchronize_session=False)
    )


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _names_by(conn: Connection, query: Select[int, str]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for owner, name in conn.execute(query):
        found.setdefault(owner, []).append(name)
    return found


def _ticket_docs(conn: Connection, condition: ColumnElement[bool]) -> list[Doc]:
    rows = conn.execute(
        select(Ticket.id, Ticket.subject).where(condition).order_by(Ticket.id)
    ).all()
    if not rows:
        return []
    tt = ticket_tags_table.c
    tags = _names_by(
        conn,
        select(tt.ticket_id, Tag.name)
        .join(Tag, Tag.id == tt.tag_id)
        .where(tt.ticket_id.in_([r.id for r in rows]))
        .order_by(tt.ticket_id, Tag.name),
    )
    return [ticket_doc(r.id, r.subject, tags.get(r.id, ())) for r in rows]


def _message_docs(conn: Connection, condition: ColumnElement[bool]) -> list[Doc]:
    rows = conn.execute(
        select(Message.id, Message.ticket_id, Message.body_text)
        .where(condition)
        .order_by(Message.id)
    )
    return [message_doc(r.id, r.ticket_id, r.body_text) for r in rows]


def _customer_docs(conn: Connection, condition: ColumnElement[bool]) -> list[Doc]:
    rows = conn.execute(
        select(Customer.id, Customer.name, Customer.email, Customer.phone)
        .where(condition)
        .order_by(Customer.id)
    ).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    identities = _names_by(
        conn,
        select(Identity.customer_id, Identity.external_id)
        .where(Identity.customer_id.in_(ids))
        .order_by(Identity.id),
    )
    ct = customer_tags_table.c
    tags = _names_by(
        conn,
        select(ct.customer_id, Tag.name)
        .join(Tag, Tag.id == ct.tag_id)
        .where(ct.customer_id.in_(ids))
        .order_by(ct.customer_id, Tag.name),
    )
    return [
        customer_doc(
            r.id,
            name=r.name,
            email=r.email,
            phone=r.phone,
            identities=identities.get(r.id, ()),
            tags=tags.get(r.id, ()),
        )
        for r in rows
    ]


_BUILDERS: dict[
    str, tuple[InstrumentedAttribute[int], Callable[[Connection, ColumnElement[bool]], list[Doc]]]
] = {
    TICKET: (Ticket.id, _ticket_docs),
    MESSAGE: (Message.id, _message_docs),
    CUSTOMER: (Customer.id, _customer_docs),
}
_SOURCE_TABLES = {TICKET: "tickets", MESSAGE: "messages", CUSTOMER: "customers"}


def rebuild(
    conn: Connection,
    *,
    batch: int = 2_000,
    commit: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Index every ticket, message and customer again, in batches of ``batch`` rows (each
    committed if ``commit``), and drop documents whose row is gone. Searches keep working
    meanwhile. Returns how many rows of each kind were indexed."""
    counts = {}
    for kind in KINDS:
        id_column, build = _BUILDERS[kind]
        after, done = 0, 0
        while True:
            ids = list(
                conn.execute(
                    select(id_column).where(id_column > after).order_by(id_column).limit(batch)
                ).scalars()
            )
            if not ids:
                break
            write(conn, build(conn, id_column.between(ids[0], ids[-1])))
            after, done = ids[-1], done + len(ids)
            if commit:
                conn.commit()
            if progress is not None:
                progress(kind, done)
        conn.execute(
            text(
                f"DELETE FROM search_documents WHERE kind = :kind AND NOT EXISTS"  # noqa: S608 - names from a constant
                f" (SELECT 1 FROM {_SOURCE_TABLES[kind]} AS s WHERE s.id = search_documents.object_id)"
            ),
            {"kind": kind},
        )
        if commit:
            conn.commit()
        counts[kind] = done
    if conn.dialect.name == "postgresql":  # fresh statistics: the planner weighs words by them
        conn.execute(text("ANALYZE search_documents"))
        if commit:
            conn.commit()
    return counts
