"""the inbox: who has seen which case, the earliest SLA warning, indexes for the views

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:00:00

``ticket_reads`` keeps when each staff member last opened each case (the inbox's unread
markers). ``tickets.sla_warn_at`` is the earliest warning moment of a running SLA clock, written
by the sweep with the deadlines; the open tickets are handed to the sweep once so that it fills
the column. Indexes serve the inbox's views (P1 crises, recently resolved, SLA at risk).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)
OPEN_STATUSES = ("new", "open", "pending")
# The inbox's default order: the nearest running deadline, 9999-12-31 when no clock runs; the
# same SQL as db/models/tickets.py SlaOrder writes in the queries (else no engine uses it).
SLA_ORDER = {
    "postgresql": "COALESCE(LEAST(first_response_due_at, next_response_due_at, resolution_due_at), "
    "'9999-12-31 00:00:00+00'::timestamptz)",
    "sqlite": "coalesce(min(coalesce(first_response_due_at, next_response_due_at, resolution_due_at), "
    "coalesce(next_response_due_at, resolution_due_at, first_response_due_at), "
    "coalesce(resolution_due_at, first_response_due_at, next_response_due_at)), "
    "'9999-12-31 00:00:00.000000')",
}


def upgrade() -> None:
    op.create_table(
        "ticket_reads",
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("seen_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ticket_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_reads_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "ticket_id", name=op.f("pk_ticket_reads")),
    )
    op.create_index(op.f("ix_ticket_reads_ticket_id"), "ticket_reads", ["ticket_id"])
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_warn_at", When, nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_sla_warn_at"), ["sla_warn_at"])
        batch_op.create_index(
            "ix_tickets_resolved", ["resolved_at", "status", "group_id", "assignee_id"]
        )
        batch_op.create_index("ix_tickets_priority_status", ["priority", "status"])
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE INDEX ix_tickets_sla_order ON tickets ({SLA_ORDER[dialect]}, id)")
    # The sweep fills sla_warn_at when it next looks at a ticket: have it look at the open ones
    # now (one already due keeps its place in the queue).
    tickets = sa.table(
        "tickets",
        sa.column("status", sa.String),
        sa.column("sla_check_at", When),
    )
    now = datetime.now(UTC)
    op.execute(
        tickets.update()
        .where(
            tickets.c.status.in_(OPEN_STATUSES),
            sa.or_(tickets.c.sla_check_at.is_(None), tickets.c.sla_check_at > now),
        )
        .values(sla_check_at=now)
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_sla_order", table_name="tickets")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_priority_status")
        batch_op.drop_index("ix_tickets_resolved")
        batch_op.drop_index(batch_op.f("ix_tickets_sla_warn_at"))
        batch_op.drop_column("sla_warn_at")
    op.drop_index(op.f("ix_ticket_reads_ticket_id"), table_name="ticket_reads")
    op.drop_table("ticket_reads")
