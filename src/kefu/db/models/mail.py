"""E-mail as a channel: the mailboxes kefu reads (IMAP) and sends from (SMTP), every raw mail
fetched (stored before it is parsed), and the Message-IDs that thread mail to tickets.

Passwords are sealed (services/infra/secret_box.py) and never shown back. A mailbox's cursor is
the folder's UIDVALIDITY and the last UID imported; it moves in the transaction that stores the
mail, so a fetcher killed at any point imports nothing twice. One fetcher reads a mailbox at a
time: it holds the lease (``lease_owner`` until ``lease_until``), taken by a conditional UPDATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kefu.db.base import Base, BigId, UTCDateTime, utcnow


class Mailbox(Base):
    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(320))
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(Integer, default=993)
    imap_security: Mapped[str] = mapped_column(String(10), default="ssl")  # ssl | starttls | none
    imap_username: Mapped[str] = mapped_column(String(320), default="")
    imap_password_sealed: Mapped[str] = mapped_column(Text, default="")
    imap_folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    smtp_host: Mapped[str] = mapped_column(String(255), default="")
    smtp_port: Mapped[int] = mapped_column(Integer, default=465)
    smtp_security: Mapped[str] = mapped_column(String(10), default="ssl")
    smtp_username: Mapped[str] = mapped_column(String(320), default="")
    smtp_password_sealed: Mapped[str] = mapped_column(Text, default="")
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    send_acknowledgement: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)  # sends kefu's notices
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    supports_idle: Mapped[bool | None] = mapped_column(Boolean)  # learnt at the first login
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MailRaw(Base):
    """One mail as fetched, kept whatever became of it (``state``): imported (``ticket_id`` and
    ``message_id`` set), auto_reply (recorded, nothing opened), failed (``error``; ``kefu mail
    reprocess``), refused_too_large, held (for review)."""

    __tablename__ = "mail_raw"
    __table_args__ = (
        UniqueConstraint("mailbox_id", "uidvalidity", "uid"),
        Index("ix_mail_raw_state", "state"),
        Index("ix_mail_raw_header_message_id", "header_message_id"),
        Index("ix_mail_raw_sha256", "sha256"),
        Index("ix_mail_raw_received_at", "received_at"),  # the retention sweep
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailbox_id: Mapped[int] = mapped_column(ForeignKey("mailboxes.id", ondelete="CASCADE"))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes | None] = mapped_column(
        LargeBinary
    )  # None when refused (too large) before reading
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    header_message_id: Mapped[str | None] = mapped_column(String(998))
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(998))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))


class MailThreadId(Base):
    """A Message-ID kefu has seen on a ticket: of a mail received, or of a reply kefu sent.
    Threading looks a new mail's In-Reply-To and References up here."""

    __tablename__ = "mail_thread_ids"
    __table_args__ = (UniqueConstraint("header_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    header_message_id: Mapped[str] = mapped_column(String(998))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailboxes.id", ondelete="SET NULL"))
    direction: Mapped[str] = mapped_column(String(10))  # inbound | outbound
    references: Mapped[str] = mapped_column(Text, default="")  # its own References chain
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MailAcknowledgement(Base):
    """An automatic acknowledgement sent to an address: they are counted per address and hour
    (settings.mail_acknowledgements_per_hour), so two mailers answering each other stop."""

    __tablename__ = "mail_acknowledgements"
    __table_args__ = (Index("ix_mail_acknowledgements_address_sent", "address", "sent_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    address: Mapped[str] = mapped_column(String(320))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
