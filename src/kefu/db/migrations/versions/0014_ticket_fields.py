"""ticket fields: custom fields per group, their values on the ticket, the order lookup

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:30:00

Admins define typed fields (text, number, date, choice) for some groups or all; a ticket keeps
their values by key in ``fields`` (existing tickets: none), and the order its order number
names as the shop's system answered (``order_lookup``), with ``order_lookup_due_at`` while a
lookup waits for the sweep. An integration may name the URL kefu asks for orders.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_fields",
        sa.Column("id", _ID, nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=50), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("options", _JSON, nullable=False),
        sa.Column("group_ids", _JSON, nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_fields")),
        sa.UniqueConstraint("key", name=op.f("uq_ticket_fields_key")),
        sa.UniqueConstraint("label", name=op.f("uq_ticket_fields_label")),
    )
    # Plain ALTER TABLE, no batch copy: SQLite adds these columns in place, and a copy of the
    # tickets table would lose its expression index (ix_tickets_sla_order), which SQLite's
    # reflection cannot read.
    op.add_column("tickets", sa.Column("fields", _JSON, nullable=False, server_default="{}"))
    op.add_column("tickets", sa.Column("order_lookup", _JSON, nullable=True))
    op.add_column(
        "tickets", sa.Column("order_lookup_due_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index(op.f("ix_tickets_order_lookup_due_at"), "tickets", ["order_lookup_due_at"])
    op.add_column("integrations", sa.Column("order_lookup_url", sa.String(length=500)))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN: SQLite 3.35 and later, in place (see upgrade).
    op.drop_column("integrations", "order_lookup_url")
    op.drop_index(op.f("ix_tickets_order_lookup_due_at"), table_name="tickets")
    for name in ("order_lookup_due_at", "order_lookup", "fields"):
        op.drop_column("tickets", name)
    op.drop_table("ticket_fields")
