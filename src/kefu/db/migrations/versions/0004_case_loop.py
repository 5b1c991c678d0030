"""the closed loop on cases: stage and case file, links, merges, re-routing, repeat complaints

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 06:16:47

Existing tickets take the path of their intent and the stage of their status.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "linked_ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column(
            "created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_ticket_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["linked_ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_linked_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_links_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_links")),
        sa.UniqueConstraint(
            "ticket_id",
            "linked_ticket_id",
            "kind",
            name=op.f("uq_ticket_links_ticket_id_linked_ticket_id_kind"),
        ),
    )
    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ticket_links_linked_ticket_id"), ["linked_ticket_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ticket_links_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("route_again", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("case_path", sa.String(length=10), nullable=False, server_default="short")
        )
        batch_op.add_column(
            sa.Column("stage", sa.String(length=20), nullable=False, server_default="open")
        )
        batch_op.add_column(sa.Column("waiting_on", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column(
                "case_file",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                server_default="{}",
            )
        )
        batch_op.add_column(
            sa.Column("repeat_complaint", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "merged_into_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tickets_merged_into_id_tickets"), "tickets", ["merged_into_id"], ["id"]
        )

    op.execute(
        "UPDATE tickets SET case_path = 'complaint', stage = CASE status"
        " WHEN 'resolved' THEN 'following_up' WHEN 'closed' THEN 'archived' ELSE 'registered' END"
        " WHERE intent = 'complaint'"
    )
    op.execute(
        "UPDATE tickets SET stage = CASE status WHEN 'resolved' THEN 'resolved' WHEN 'closed' THEN 'closed'"
        " ELSE 'open' END WHERE case_path = 'short'"
    )
    op.execute("UPDATE tickets SET waiting_on = 'customer' WHERE status = 'pending'")


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_tickets_merged_into_id_tickets"), type_="foreignkey"
        )
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("repeat_complaint")
        batch_op.drop_column("case_file")
        batch_op.drop_column("waiting_on")
        batch_op.drop_column("stage")
        batch_op.drop_column("case_path")
        batch_op.drop_column("route_again")

    with op.batch_alter_table("ticket_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_links_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_links_linked_ticket_id"))

    op.drop_table("ticket_links")
