"""customer joins: one customer across channels

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 10:20:00

How a verified identity was proven and when the join sweep compared it (identities), the pairs
of profiles found to share a contact and what became of them (customer_joins), and the codes
sent out to prove an e-mail address or a phone number (contact_verifications).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONData = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("identities", sa.Column("proof", sa.String(length=20), nullable=True))
    op.add_column(
        "identities", sa.Column("join_checked_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Identities stored before this revision are not compared: only what arrives from now on.
    op.execute(sa.text("UPDATE identities SET join_checked_at = created_at"))
    op.create_index(
        "ix_identities_join_unchecked", "identities", ["id"], unique=False,
        sqlite_where=sa.text("join_checked_at IS NULL"),
        postgresql_where=sa.text("join_checked_at IS NULL"),
    )  # fmt: skip
    op.create_table(
        "customer_joins",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_a_id", BigId, nullable=False),
        sa.Column("customer_b_id", BigId, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("evidence", JSONData, nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("merge_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", BigId, nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_a_id"], ["customers.id"], name=op.f("fk_customer_joins_customer_a_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_b_id"], ["customers.id"], name=op.f("fk_customer_joins_customer_b_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merge_id"], ["customer_merges.id"], name=op.f("fk_customer_joins_merge_id_customer_merges"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_customer_joins_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_joins")),
        sa.UniqueConstraint(
            "customer_a_id", "customer_b_id", name=op.f("uq_customer_joins_customer_a_id_customer_b_id")
        ),
    )  # fmt: skip
    op.create_index(
        op.f("ix_customer_joins_customer_a_id"), "customer_joins", ["customer_a_id"], unique=False
    )
    op.create_index(
        op.f("ix_customer_joins_customer_b_id"), "customer_joins", ["customer_b_id"], unique=False
    )
    op.create_index(
        op.f("ix_customer_joins_merge_id"), "customer_joins", ["merge_id"], unique=False
    )
    op.create_table(
        "contact_verifications",
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_message_id", BigId, nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contact_verifications_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_contact_verifications_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_verifications")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_contact_verifications_customer_id"), "contact_verifications", ["customer_id"],
        unique=False,
    )  # fmt: skip
    op.create_index(
        op.f("ix_contact_verifications_expires_at"), "contact_verifications", ["expires_at"],
        unique=False,
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("contact_verifications")
    op.drop_table("customer_joins")
    op.drop_index("ix_identities_join_unchecked", table_name="identities")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("join_checked_at")
        batch.drop_column("proof")
