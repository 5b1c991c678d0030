"""scripts: the reply-script library, its versions, use records and macros

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:16:55

Scenarios (type → scenario → scripts), scripts with their versions, a record of each reply
sent with a script, macros (a script plus ticket actions), and the library's change stamp.
The starter library is loaded by ``kefu db upgrade`` / ``kefu serve`` / ``kefu demo``
(services/scripts/starter.py), not here: a team's later edits must survive a re-run.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "script_library_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_library_stamp")),
    )
    op.create_table(
        "script_scenarios",
        sa.Column("id", BigId, nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("industry", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_scenarios")),
        sa.UniqueConstraint(
            "type", "industry", "name", name=op.f("uq_script_scenarios_type_industry_name")
        ),
    )
    op.create_table(
        "scripts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("scenario_id", BigId, nullable=False),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("conditions", JSONData, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("proposed_from_message_id", BigId, nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_scripts_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_from_message_id"],
            ["messages.id"],
            name=op.f("fk_scripts_proposed_from_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scenario_id"],
            ["script_scenarios.id"],
            name=op.f("fk_scripts_scenario_id_script_scenarios"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scripts")),
        sa.UniqueConstraint("key", name=op.f("uq_scripts_key")),
    )
    with op.batch_alter_table("scripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scripts_scenario_id"), ["scenario_id"], unique=False)
        batch_op.create_index("ix_scripts_status_role", ["status", "role"], unique=False)

    op.create_table(
        "macros",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("script_id", BigId, nullable=True),
        sa.Column("actions", JSONData, nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_macros_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_macros_script_id_scripts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_macros")),
        sa.UniqueConstraint("name", name=op.f("uq_macros_name")),
    )
    op.create_table(
        "script_uses",
        sa.Column("id", BigId, nullable=False),
        sa.Column("script_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ticket_id", BigId, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("agent_id", BigId, nullable=True),
        sa.Column("as_is", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["users.id"],
            name=op.f("fk_script_uses_agent_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_script_uses_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_script_uses_script_id_scripts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_script_uses_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_uses")),
    )
    with op.batch_alter_table("script_uses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_script_uses_script_id"), ["script_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_script_uses_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "script_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("script_id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", BigId, nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_script_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["script_id"],
            ["scripts.id"],
            name=op.f("fk_script_versions_script_id_scripts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
        sa.UniqueConstraint(
            "script_id", "number", name=op.f("uq_script_versions_script_id_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("script_versions")
    with op.batch_alter_table("script_uses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_script_uses_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_script_uses_script_id"))

    op.drop_table("script_uses")
    op.drop_table("macros")
    with op.batch_alter_table("scripts", schema=None) as batch_op:
        batch_op.drop_index("ix_scripts_status_role")
        batch_op.drop_index(batch_op.f("ix_scripts_scenario_id"))

    op.drop_table("scripts")
    op.drop_table("script_scenarios")
    op.drop_table("script_library_stamp")
