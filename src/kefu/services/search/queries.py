"""The index's SQL: documents matching a query, ranked, among those an actor may see.

PostgreSQL matches ``terms @@ tsquery`` through the GIN index and ranks with ``ts_rank``; SQLite
matches the FTS5 table and ranks with ``bm25()`` (negated: higher is better on both).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from kefu.db.models import Customer, SearchDocument, Ticket
from kefu.db.models.search import FTS_TABLE
from kefu.services.actors import Actor
from kefu.services.search.index import CUSTOMER, MESSAGE, TICKET
from kefu.services.search.tokens import QueryPlan

_FTS = table(FTS_TABLE, column("rowid"))
D = SearchDocument


def _matching(dialect: str, plan: QueryPlan) -> tuple[Select[Any], ColumnElement[float]]:
    """SELECT … FROM the documents matching ``plan``, and the score of each (higher is better)."""
    if dialect == "postgresql":
        query = cast(bindparam("q", plan.tsquery()), TSQUERY)
        score: ColumnElement[float] = func.ts_rank(D.terms, query)
        return select(D.object_id).where(D.terms.op("@@")(query)), score
    fts: ColumnElement[Any] = literal_column(FTS_TABLE)
    score = -func.bm25(fts)
    matching = (
        select(D.object_id)
        .select_from(_FTS)
        .join(D, D.id == _FTS.c.rowid)
        .where(fts.op("MATCH")(bindparam("q", plan.fts5())))
    )
    return matching, score


def ranked(
    session: Session, actor: Actor, plan: QueryPlan, kind: str, *, limit: int
) -> list[tuple[int, int | None, float]]:
    """The ``limit`` best documents of ``kind`` matching the query that the actor may see:
    (object id, ticket id, score), best first."""
    dialect = session.get_bind().dialect.name
    matching, score = _matching(dialect, plan)
    query = matching.add_columns(D.ticket_id, score.label("score")).where(D.kind == kind)
    query = _visible(query, actor, kind)
    query = query.order_by(literal_column("score").desc(), D.object_id.desc()).limit(limit)
    return [(r[0], r[1], float(r[2])) for r in session.execute(query)]


def _visible(query: Select[Any], actor: Actor, kind: str) -> Select[Any]:
    # Imported here: the tickets and customers services index what they write (this package).
    from kefu.services.cases.tickets import visible_tickets
    from kefu.services.customers.profiles import visible_customers

    if kind == CUSTOMER:  # a customer merged into another is found as that one
        return query.join(Customer, Customer.id == D.object_id).where(
            Customer.merged_into_id.is_(None), visible_customers(actor)
        )
    if actor.sees_all_tickets:
        return query
    return query.join(Ticket, Ticket.id == D.ticket_id).where(visible_tickets(actor))


def ticket_ids_matching(dialect: str, plan: QueryPlan) -> Select[Any]:
    """SELECT the ids of the tickets whose subject, tags or messages match (for ``IN``)."""
    matching, _ = _matching(dialect, plan)
    return matching.with_only_columns(D.ticket_id).where(D.kind.in_((TICKET, MESSAGE)))
