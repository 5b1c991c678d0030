"""inbox: the SLA order indexes the open tickets only; recently resolved led by the status

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:30:00

Two indexes of the inbox (services/cases/inbox.py), reshaped so that both engines pick them
with or without planner statistics, at 100,000 tickets and more:

- ``ix_tickets_sla_order`` holds the open tickets only (as ``ix_tickets_open_work`` does): the
  broad views walk it in order, and a view that finds few of its cases on the way now walks the
  open work, not the whole history;
- ``ix_tickets_resolved`` starts with the status: SQLite without statistics prefers an equality
  to a range, and took ``status IN ('resolved', 'closed')`` through ``ix_tickets_status_id`` —
  every case ever closed — to count last week's.
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = "status IN ('new', 'open', 'pending')"
# The same SQL as db/models/tickets.py SlaOrder writes (0009 made the index).
SLA_ORDER = {
    "postgresql": "COALESCE(LEAST(first_response_due_at, next_response_due_at, resolution_due_at), "
    "'9999-12-31 00:00:00+00'::timestamptz)",
    "sqlite": "coalesce(min(coalesce(first_response_due_at, next_response_due_at, resolution_due_at), "
    "coalesce(next_response_due_at, resolution_due_at, first_response_due_at), "
    "coalesce(resolution_due_at, first_response_due_at, next_response_due_at)), "
    "'9999-12-31 00:00:00.000000')",
}


def _sla_order(where: str) -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_tickets_sla_order", table_name="tickets")
    op.execute(f"CREATE INDEX ix_tickets_sla_order ON tickets ({SLA_ORDER[dialect]}, id){where}")


def _resolved(columns: list[str]) -> None:
    op.drop_index("ix_tickets_resolved", table_name="tickets")
    op.create_index("ix_tickets_resolved", "tickets", columns)


def upgrade() -> None:
    _sla_order(f" WHERE {OPEN}")
    _resolved(["status", "resolved_at", "group_id", "assignee_id"])


def downgrade() -> None:
    _sla_order("")
    _resolved(["resolved_at", "status", "group_id", "assignee_id"])
