"""quality review: scorecards, reviews, corrections, disputes, and the review owed by a case

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 17:05:00

``tickets.qa_due_at`` is set with the status when a case is resolved (a complaint when it is
archived) and cleared by the review job; ``qa_scorecards`` the scorecards admins saved (the
default, version 0, is not stored); ``qa_reviews`` each resolution's automatic review;
``qa_corrections`` reviewers' verdicts per criterion; ``qa_disputes`` agents' disputes. Cases
resolved before this version are not reviewed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)


def _user(name: str) -> sa.Column[int]:
    return sa.Column(name, BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


def upgrade() -> None:
    # Plain ADD COLUMN on both engines (a batch copy of tickets would lose its partial indexes).
    op.add_column("tickets", sa.Column("qa_due_at", When, nullable=True))
    op.create_index("ix_tickets_qa_due_at", "tickets", ["qa_due_at"])
    op.create_table(
        "qa_scorecards",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("config", JSONData, nullable=False),
        _user("saved_by_id"),
        sa.Column("saved_at", When, nullable=False),
    )
    op.create_table(
        "qa_reviews",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"),
                  nullable=False),
        _user("agent_id"),
        sa.Column("group_id", BigId, sa.ForeignKey("groups.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("scorecard_version", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("failed_critical", JSONData, nullable=False),
        sa.Column("results", JSONData, nullable=False),
        sa.Column("risk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resolved_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
    )  # fmt: skip
    op.create_index("ix_qa_reviews_ticket", "qa_reviews", ["ticket_id", "id"])
    op.create_index("ix_qa_reviews_agent_created", "qa_reviews", ["agent_id", "created_at"])
    op.create_index("ix_qa_reviews_status_risk", "qa_reviews", ["status", "risk", "id"])
    op.create_index("ix_qa_reviews_resolved_at", "qa_reviews", ["resolved_at"])
    op.create_table(
        "qa_corrections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("review_id", BigId, sa.ForeignKey("qa_reviews.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("criterion", sa.String(length=30), nullable=False),
        sa.Column("automatic", sa.String(length=10), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        _user("reviewer_id"),
        sa.Column("created_at", When, nullable=False),
    )  # fmt: skip
    op.create_index("ix_qa_corrections_review_id", "qa_corrections", ["review_id"])
    op.create_index("ix_qa_corrections_criterion", "qa_corrections", ["criterion", "created_at"])
    op.create_table(
        "qa_disputes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("review_id", BigId, sa.ForeignKey("qa_reviews.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("criterion", sa.String(length=30), nullable=True),
        _user("agent_id"),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        _user("answered_by_id"),
        sa.Column("created_at", When, nullable=False),
        sa.Column("answered_at", When, nullable=True),
    )  # fmt: skip
    op.create_index("ix_qa_disputes_review_id", "qa_disputes", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_qa_disputes_review_id", table_name="qa_disputes")
    op.drop_table("qa_disputes")
    op.drop_index("ix_qa_corrections_criterion", table_name="qa_corrections")
    op.drop_index("ix_qa_corrections_review_id", table_name="qa_corrections")
    op.drop_table("qa_corrections")
    for name in (
        "ix_qa_reviews_resolved_at",
        "ix_qa_reviews_status_risk",
        "ix_qa_reviews_agent_created",
        "ix_qa_reviews_ticket",
    ):
        op.drop_index(name, table_name="qa_reviews")
    op.drop_table("qa_reviews")
    op.drop_table("qa_scorecards")
    op.drop_index("ix_tickets_qa_due_at", table_name="tickets")
    op.drop_column("tickets", "qa_due_at")
