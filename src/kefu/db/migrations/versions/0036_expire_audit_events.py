"""expire audit events through a function of the schema's owner (PostgreSQL)

The runtime role has no DELETE on audit_events (db/grants.py); the retention sweep removes the
events past their period with kefu_expire_audit_events(ids), which runs as the owner (SECURITY
DEFINER) and deletes none younger than a day: whoever holds the runtime role's password cannot
erase the trail of what was just done. SQLite has one user: nothing to do.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION kefu_expire_audit_events(ids bigint[]) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH gone AS (
        DELETE FROM audit_events
        WHERE id = ANY(ids) AND created_at < now() - interval '1 day'
        RETURNING 1
    )
    SELECT count(*)::integer FROM gone
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute("REVOKE ALL ON FUNCTION kefu_expire_audit_events(bigint[]) FROM PUBLIC")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS kefu_expire_audit_events(bigint[])")
