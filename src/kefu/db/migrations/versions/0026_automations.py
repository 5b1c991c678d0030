"""lifecycle automations and admins' triggers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 11:40:00

Due times of the fixed rules on the ticket (tickets.auto_due_at, the wait it counts from, the
nudge), the admins' if/then rules (automation_triggers), the ticket events they wait for
(automation_events), what each fired on each ticket (automation_firings), and the team's
service timing (service_timing: auto-close, nudge, follow-up and survey delays).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    # Plain ALTER TABLE … ADD COLUMN on both engines (a batch copy of tickets would lose its
    # partial indexes on SQLite, see 0018).
    for name in ("auto_due_at", "auto_waiting_since", "auto_nudged_at"):
        op.add_column("tickets", sa.Column(name, When, nullable=True))
    op.create_index("ix_tickets_auto_due_at", "tickets", ["auto_due_at"])
    # Cases resolved or waiting before this version: the sweep plans their due times (it decides
    # from the ticket; a waiting case's wait counts from now).
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # how kefu stores times on SQLite (db/base.py)
    tickets = sa.table(
        "tickets", sa.column("id"), sa.column("status"), sa.column("auto_due_at", When)
    )
    op.execute(
        tickets.update()
        .where(tickets.c.status.in_(("resolved", "pending")))
        .values(auto_due_at=sa.literal(now, When))
    )
    op.create_table(
        "automation_triggers",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False, unique=True),
        sa.Column("definition", JSONData, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
    )
    op.create_table(
        "automation_events",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "ticket_id", BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_table(
        "automation_firings",
        sa.Column("id", BigId, primary_key=True),
        sa.Column(
            "ticket_id", BigId, sa.ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("trigger_name", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=30), nullable=False),
        sa.Column("done", JSONData, nullable=False),
        sa.Column("refused", JSONData, nullable=False),
        sa.Column("fired_at", When, nullable=False),
        sa.UniqueConstraint("ticket_id", "trigger_name"),
    )

    op.create_table(
        "service_timing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("config", JSONData, nullable=False),
        sa.Column(
            "updated_by_id", BigId, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("updated_at", When, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_timing")
    op.drop_table("automation_firings")
    op.drop_table("automation_events")
    op.drop_table("automation_triggers")
    op.drop_index("ix_tickets_auto_due_at", table_name="tickets")
    for name in ("auto_nudged_at", "auto_waiting_since", "auto_due_at"):
        op.drop_column("tickets", name)
