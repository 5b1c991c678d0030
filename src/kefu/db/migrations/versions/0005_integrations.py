"""integrations: their own tokens for intake; payloads and audit events name the integration

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:40:00

Customer messages were posted with staff tokens; integrations now have tokens of their own.
An audit event's actor is a user or an integration (actor_type says which), so actor_id
loses its foreign key to users, and actor_type / via grow to hold "integration".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "integrations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "channels", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_integrations_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("name", name=op.f("uq_integrations_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_integrations_token_hash")),
    )
    with op.batch_alter_table("inbound_payloads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("integration_id", _ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_payloads_integration_id_integrations"),
            "integrations",
            ["integration_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_audit_events_actor_id_users"), type_="foreignkey")
        batch_op.alter_column(
            "actor_type",
            existing_type=sa.String(length=10),
            type_=sa.String(length=20),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "via",
            existing_type=sa.String(length=10),
            type_=sa.String(length=20),
            existing_nullable=False,
        )


def downgrade() -> None:
    # Events written by integrations name no user: they are kept, as the system's.
    op.execute(
        "UPDATE audit_events SET actor_type = 'system', actor_id = NULL, via = 'system'"
        " WHERE actor_type = 'integration'"
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "via",
            existing_type=sa.String(length=20),
            type_=sa.String(length=10),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "actor_type",
            existing_type=sa.String(length=20),
            type_=sa.String(length=10),
            existing_nullable=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_events_actor_id_users"), "users", ["actor_id"], ["id"]
        )
    with op.batch_alter_table("inbound_payloads", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_inbound_payloads_integration_id_integrations"), type_="foreignkey"
        )
        batch_op.drop_column("integration_id")
    op.drop_table("integrations")
