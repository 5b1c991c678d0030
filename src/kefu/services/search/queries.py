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
# in a tenth of a million messages is not ranked row by row. The window is first looked for
# among the newest PROBE documents of the kind (a range of ids, each row tested); if it is not
# filled there, the matches found tell how far back it would fill, and either that range is
# read (a common word: a few thousand rows) or, beyond FARTHEST, the whole index is asked (a
# rare word: the GIN or FTS5 index holds few of it). "Newest": on PostgreSQL by the object's
# own id within its kind (ids grow with time; the range is read from the (kind, object_id)
# index), on SQLite by the FTS5 rowid, the document's id.
WINDOW = 500  # as many as a search shows at most (service.CANDIDATES)
PROBE = 10_000
FARTHEST = 120_000
MARGIN = 1.3  # the range is widened so that the window fills at the first try


def _fts(kind: str) -> Any:
    return table(f"{FTS_TABLE}_{kind}", column("rowid"))


def _matching(
    dialect: str, plan: QueryPlan, kind: str, *, row_by_row: bool = False
) -> tuple[Select[Any], ColumnElement[Any]]:
    """SELECT … FROM the documents of ``kind`` matching ``plan``, and the column that orders
    them by age (PostgreSQL: the object's id within its kind; SQLite: FTS5's rowid, the
    document's id). ``row_by_row`` (PostgreSQL): each row of a range is tested, the GIN index
    left alone — a planner misjudges how rare two common words together are, and intersects
    their long lists in the index to find what a few thousand rows would show."""
    if dialect == "postgresql":  # the kind written out: the planner picks its GIN index
        query = cast(bindparam("q", plan.tsquery()), TSQUERY)
        age: ColumnElement[Any] = D.object_id.expression
        of_kind = D.kind == literal_column(f"'{kind}'")  # one of KINDS, never input
        # ts_match_vq is what @@ calls, written as a function: no index serves it
        matches = func.ts_match_vq(D.terms, query) if row_by_row else D.terms.op("@@")(query)
        return select(D.object_id).where(matches, of_kind), age
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
    """The newest ``WINDOW`` matches above ``floor`` (of their age column), best first."""
    matching, age = _matching(dialect, plan, kind, row_by_row=floor is not None)
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
    if dialect == "postgresql":
        newest = session.scalar(select(func.max(D.object_id)).where(D.kind == kind)) or 0
    else:
        newest = session.scalar(select(func.max(D.id))) or 0

    def window(span: float | None) -> list[Any]:
        floor = newest - int(span) if span is not None and newest > span else None
        return list(session.execute(_ranked_window(dialect, actor, plan, kind, floor)))

    rows = window(PROBE)
    if len(rows) < WINDOW and newest > PROBE:
        span = PROBE * WINDOW / len(rows) * MARGIN if rows else None
        rows = window(span if span is not None and span <= FARTHEST else None)
        if len(rows) < WINDOW and span is not None and span <= FARTHEST and newest > span:
            rows = window(None)
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
