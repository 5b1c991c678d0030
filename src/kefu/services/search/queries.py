"""The index's SQL: documents matching a query, ranked, among those an actor may see.

PostgreSQL matches ``terms @@ tsquery`` through the GIN index and ranks with ``ts_rank``; SQLite
matches the FTS5 table and ranks with ``bm25()`` (negated: higher is better on both). Only the
newest ``WINDOW`` matches of a query are ranked (see ``ranked``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from kefu.db.models import Customer, SearchDocument, Ticket
from kefu.db.models.search import FTS_TABLE
from kefu.services.actors import Actor
from kefu.services.search.index import CUSTOMER, MESSAGE, TICKET
from kefu.services.search.tokens import QueryPlan

D = SearchDocument


# A query ranks the newest WINDOW matching documents of a kind, not every match: a word found
# in a tenth of a million messages is not ranked row by row. The window is looked for among the
# newest documents first (the GIN or FTS5 match, cut to an id range of SPANS), wider if it is
# not filled, so a rare word costs little more than a common one.
WINDOW = 1_000
# Per kind, as ids of all documents: messages are most of them, customers the fewest.
SPANS: dict[str, tuple[int | None, ...]] = {
    MESSAGE: (100_000, 1_000_000, None),
    TICKET: (1_000_000, None),
    CUSTOMER: (None,),
}


def _fts(kind: str) -> Any:
    return table(f"{FTS_TABLE}_{kind}", column("rowid"))


def _matching(dialect: str, plan: QueryPlan, kind: str) -> tuple[Select[Any], ColumnElement[Any]]:
    """SELECT … FROM the documents of ``kind`` matching ``plan``, and the column that orders
    them by age (the document's id; FTS5's rowid is the same)."""
    if dialect == "postgresql":  # the kind written out: the planner picks its GIN index
        query = cast(bindparam("q", plan.tsquery()), TSQUERY)
        age: ColumnElement[Any] = D.id.expression
        of_kind = D.kind == literal_column(f"'{kind}'")  # one of KINDS, never input
        return select(D.object_id).where(D.terms.op("@@")(query), of_kind), age
    fts = _fts(kind)
    matching = (
        select(D.object_id)
        .select_from(fts)
        .join(D, D.id == fts.c.rowid)
        .where(literal_column(fts.name).op("MATCH")(bindparam("q", plan.fts5())))
    )
    return matching, fts.c.rowid


def _ranked_window(
    dialect: str, actor: Actor, plan: QueryPlan, kind: str, floor: int | None
) -> Select[Any]:
    """The newest ``WINDOW`` matches above document id ``floor``, best first."""
    matching, age = _matching(dialect, plan, kind)
    if dialect == "postgresql":
        inner = _visible(matching.add_columns(D.ticket_id, D.terms, age.label("age")), actor, kind)
        if floor is not None:
            inner = inner.where(age > floor)
        # Every match in the id range, through the kind's GIN index: a materialized CTE, which
        # the planner may not turn into a backward scan of the primary key that hopes to meet
        # WINDOW matches soon (and reads the whole table for a rare word).
        matches = inner.cte("matches").prefix_with("MATERIALIZED")
        window = (
            select(matches.c.object_id, matches.c.ticket_id, matches.c.terms)
            .order_by(matches.c.age.desc())
            .limit(WINDOW)
            .subquery()
        )
        tsquery = cast(bindparam("q", plan.tsquery()), TSQUERY)
        score: ColumnElement[float] = func.ts_rank(window.c.terms, tsquery)  # the window only
    else:  # FTS5 yields its matches newest first; bm25() is computed for the window only
        bm25 = func.bm25(literal_column(f"{FTS_TABLE}_{kind}"))
        inner = _visible(matching.add_columns(D.ticket_id, (-bm25).label("score")), actor, kind)
        if floor is not None:
            inner = inner.where(age > floor)
        window = inner.order_by(age.desc()).limit(WINDOW).subquery()
        score = window.c.score
    return select(window.c.object_id, window.c.ticket_id, score.label("rank")).order_by(
        literal_column("rank").desc(), window.c.object_id.desc()
    )


def ranked(
    session: Session, actor: Actor, plan: QueryPlan, kind: str, *, limit: int
) -> list[tuple[int, int | None, float]]:
    """The ``limit`` best of the newest ``WINDOW`` documents of ``kind`` matching the query
    that the actor may see: (object id, ticket id, score), best first."""
    dialect = session.get_bind().dialect.name
    newest = session.scalar(select(func.max(D.id))) or 0
    rows: list[Any] = []
    for span in SPANS[kind]:
        floor = newest - span if span is not None and newest > span else None
        rows = list(session.execute(_ranked_window(dialect, actor, plan, kind, floor)))
        if len(rows) >= WINDOW or floor is None:
            break
    return [(r[0], r[1], float(r[2])) for r in rows[:limit]]


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


def ticket_ids_matching(dialect: str, plan: QueryPlan) -> CompoundSelect[Any]:
    """SELECT the ids of the tickets whose subject, tags or messages match (for ``IN``)."""
    return union(
        *(
            _matching(dialect, plan, kind)[0].with_only_columns(D.ticket_id)
            for kind in (TICKET, MESSAGE)
        )
    )


def matching_ids(session: Session, actor: Actor, plan: QueryPlan, kind: str) -> list[int]:
    """The ids of every document of ``kind`` matching the query that the actor may see,
    unranked and uncapped (benchmarks/search_recall.py compares them with a LIKE scan)."""
    matching, _ = _matching(session.get_bind().dialect.name, plan, kind)
    return list(session.scalars(_visible(matching, actor, kind)))
