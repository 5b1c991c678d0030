"""search: one GIN index per kind of document on PostgreSQL

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 23:30:00

A query reads one kind (tickets, messages or customers); with one partial GIN index per kind
it reads only that kind's matches (services/search/queries.py). SQLite already has one FTS5
table per kind: nothing changes there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

KINDS = ("ticket", "message", "customer")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for kind in KINDS:
        op.create_index(
            f"ix_search_documents_{kind}_terms",
            "search_documents",
            ["terms"],
            postgresql_using="gin",
            postgresql_where=sa.text(f"kind = '{kind}'"),
        )
    op.drop_index("ix_search_documents_terms", table_name="search_documents")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_search_documents_terms", "search_documents", ["terms"], postgresql_using="gin"
    )
    for kind in KINDS:
        op.drop_index(f"ix_search_documents_{kind}_terms", table_name="search_documents")
