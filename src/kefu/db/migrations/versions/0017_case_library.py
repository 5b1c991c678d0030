"""case library: one anonymised entry per archived complaint

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 07:05:00

The case library (解决方案库): the problem, root cause, solution, compensation, outcome and lesson
of each archived complaint, without personal data. Entries are written by the service when a
complaint is archived (services/cases/library.py); complaints archived before this migration
are added by ``kefu cases library-rebuild``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "case_entries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=True),
        sa.Column("industry", sa.String(length=20), nullable=False),
        sa.Column("tags", JSONData, nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("solution", sa.Text(), nullable=False),
        sa.Column("compensation_kind", sa.String(length=20), nullable=True),
        sa.Column("compensation_amount", sa.Integer(), nullable=True),
        sa.Column("lesson", sa.Text(), nullable=False),
        sa.Column("first_time", sa.Boolean(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_case_entries_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_entries")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_case_entries_ticket_id")),
    )
    with op.batch_alter_table("case_entries", schema=None) as batch_op:
        batch_op.create_index("ix_case_entries_category", ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_case_entries_updated_at"), ["updated_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("case_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_entries_updated_at"))
        batch_op.drop_index("ix_case_entries_category")
    op.drop_table("case_entries")
