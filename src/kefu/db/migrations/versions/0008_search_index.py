"""the full-text search index: search_documents (tsvector + GIN on PostgreSQL, FTS5 on SQLite)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00

One row per ticket (subject, tags), message (body) and customer (name, e-mail, phone,
identities) with its search terms (services/search/tokens.py). On PostgreSQL the terms are a
``tsvector`` under a GIN index; on SQLite they are text, indexed by one FTS5 table per kind with
external content, which triggers keep in step. The existing rows are indexed here, in batches; a big
database may instead be indexed later with ``kefu search reindex``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "terms", sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "object_id", name=op.f("uq_search_documents_kind_object_id")),
    )
    op.create_index("ix_search_documents_ticket_id", "search_documents", ["ticket_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_search_documents_terms", "search_documents", ["terms"], postgresql_using="gin"
        )
    else:  # a match's ids without reading its terms (a row of the table holds them)
        op.create_index(
            "ix_search_documents_id", "search_documents", ["id", "object_id", "ticket_id"]
        )
        for statement in SQLITE_FTS:
            op.execute(statement)
    # The index must be built by the tokenizer the queries use, so this data migration calls
    # kefu's own (a copy here would drift from it); it reads only the columns it indexes.
    from kefu.services.search.index import rebuild

    rebuild(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for kind in KINDS:
            op.execute(f"DROP TABLE IF EXISTS search_fts_{kind}")
    op.drop_table("search_documents")


# One FTS5 table per kind (rowid = search_documents.id): a query reads only its kind's matches,
# and each kind has its own term statistics for bm25(). Terms are space-separated; the ascii
# tokenizer keeps every non-ASCII character in its token (unicode61 would split at characters
# newer than Unicode 6.1), and the characters identifiers hold (SO2024-001, a.b@c.cn) are made
# token characters too. Positions are kept (detail=full): bm25() then reads them from the index
# instead of tokenizing each document again.
KINDS = ("ticket", "message", "customer")
SQLITE_FTS = (
    *(
        f"CREATE VIRTUAL TABLE search_fts_{kind} USING fts5(terms, content='search_documents',"
        " content_rowid='id', tokenize=\"ascii tokenchars '-_./@%+'\")"
        for kind in KINDS
    ),
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    + " ".join(
        f"INSERT INTO search_fts_{kind}(rowid, terms) SELECT new.id, new.terms"
        f" WHERE new.kind = '{kind}';"
        for kind in KINDS
    )
    + " END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    + " ".join(
        f"INSERT INTO search_fts_{kind}(search_fts_{kind}, rowid, terms)"
        f" SELECT 'delete', old.id, old.terms WHERE old.kind = '{kind}';"
        for kind in KINDS
    )
    + " END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE OF kind, terms ON search_documents BEGIN "
    + " ".join(
        f"INSERT INTO search_fts_{kind}(search_fts_{kind}, rowid, terms)"
        f" SELECT 'delete', old.id, old.terms WHERE old.kind = '{kind}';"
        f" INSERT INTO search_fts_{kind}(rowid, terms) SELECT new.id, new.terms"
        f" WHERE new.kind = '{kind}';"
        for kind in KINDS
    )
    + " END",
)
