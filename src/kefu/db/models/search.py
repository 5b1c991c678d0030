"""The full-text index of tickets, messages and customers (services/search/)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId

# On SQLite the terms are text, indexed by one FTS5 table per kind, search_fts_<kind> (external
# content: they keep only the index), which triggers keep in step with this table (migration 0008).
FTS_TABLE = "search_fts"  # the tables' prefix
KINDS = ("ticket", "message", "customer")
# PostgreSQL: one GIN index per kind, so that a query reads only its kind's matches.
POSTGRESQL_ONLY_INDEXES = frozenset(f"ix_search_documents_{kind}_terms" for kind in KINDS)
SQLITE_ONLY_INDEXES = frozenset({"ix_search_documents_id"})


class SearchDocument(Base):
    """One indexed ticket (subject, tags), message (body) or customer (name, identities): its
    terms (services/search/tokens.py), and the ticket whose visibility a message follows."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "object_id"),
        Index("ix_search_documents_ticket_id", "ticket_id"),
        *(
            Index(
                f"ix_search_documents_{kind}_terms",
                "terms",
                postgresql_using="gin",
                postgresql_where=text(f"kind = '{kind}'"),
            ).ddl_if(dialect="postgresql")
            for kind in KINDS
        ),
        # SQLite: a match's ids read without its row, whose terms fill pages (services/search/).
        Index("ix_search_documents_id", "id", "object_id", "ticket_id").ddl_if(dialect="sqlite"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # ticket | message | customer
    object_id: Mapped[int] = mapped_column(BigInteger)
    ticket_id: Mapped[int | None] = mapped_column(
        BigInteger
    )  # a ticket's own id, a message's ticket
    terms: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
