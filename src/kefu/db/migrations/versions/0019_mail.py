"""mail: mailboxes (IMAP/SMTP settings, sealed passwords, the UID cursor and the fetcher's lease),
every raw mail fetched (mail_raw) and the Message-IDs that thread mail to tickets

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 09:56:55
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("imap_host", sa.String(length=255), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_security", sa.String(length=10), nullable=False),
        sa.Column("imap_username", sa.String(length=320), nullable=False),
        sa.Column("imap_password_sealed", sa.Text(), nullable=False),
        sa.Column("imap_folder", sa.String(length=255), nullable=False),
        sa.Column("smtp_host", sa.String(length=255), nullable=False),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_security", sa.String(length=10), nullable=False),
        sa.Column("smtp_username", sa.String(length=320), nullable=False),
        sa.Column("smtp_password_sealed", sa.Text(), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("send_acknowledgement", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("supports_idle", sa.Boolean(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_mailboxes_group_id_groups"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
    )
    op.create_table(
        "mail_raw",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "mailbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("header_message_id", sa.String(length=998), nullable=True),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=998), nullable=True),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mail_raw_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_mail_raw_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_mail_raw_ticket_id_tickets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_raw")),
        sa.UniqueConstraint(
            "mailbox_id", "uidvalidity", "uid", name=op.f("uq_mail_raw_mailbox_id_uidvalidity_uid")
        ),
    )
    with op.batch_alter_table("mail_raw", schema=None) as batch_op:
        batch_op.create_index("ix_mail_raw_header_message_id", ["header_message_id"], unique=False)
        batch_op.create_index("ix_mail_raw_sha256", ["sha256"], unique=False)
        batch_op.create_index("ix_mail_raw_state", ["state"], unique=False)

    op.create_table(
        "mail_thread_ids",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("header_message_id", sa.String(length=998), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "mailbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("references", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mail_thread_ids_mailbox_id_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_mail_thread_ids_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_mail_thread_ids_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_thread_ids")),
        sa.UniqueConstraint("header_message_id", name=op.f("uq_mail_thread_ids_header_message_id")),
    )
    with op.batch_alter_table("mail_thread_ids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_thread_ids_ticket_id"), ["ticket_id"], unique=False
        )
    op.create_table(
        "mail_acknowledgements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"],
            name=op.f("fk_mail_acknowledgements_ticket_id_tickets"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_acknowledgements")),
    )  # fmt: skip
    op.create_index(
        "ix_mail_acknowledgements_address_sent",
        "mail_acknowledgements",
        ["address", "sent_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_mail_acknowledgements_address_sent", table_name="mail_acknowledgements")
    op.drop_table("mail_acknowledgements")
    with op.batch_alter_table("mail_thread_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_thread_ids_ticket_id"))

    op.drop_table("mail_thread_ids")
    with op.batch_alter_table("mail_raw", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_raw_state")
        batch_op.drop_index("ix_mail_raw_sha256")
        batch_op.drop_index("ix_mail_raw_header_message_id")

    op.drop_table("mail_raw")
    op.drop_table("mailboxes")
