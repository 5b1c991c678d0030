"""Customers, their identities on each channel, and reversible merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow

customer_tags = Table(
    "customer_tags",
    Base.metadata,
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="customer", order_by="Identity.id"
    )
    tags: Mapped[list[Any]] = relationship("Tag", secondary=customer_tags, order_by="Tag.name")


class Identity(Base):
    """One way of reaching a customer: a WeChat openid, an email address, a visitor id…

    ``proof``: how a verified e-mail or phone identity was proven (domain/customer_joins.py
    Proof); ``join_checked_at``: when the join sweep (services/customers/joins.py) compared it
    with the other customers' contacts (None: not yet)."""

    __tablename__ = "identities"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index(
            "ix_identities_join_unchecked",
            "id",
            sqlite_where=text("join_checked_at IS NULL"),
            postgresql_where=text("join_checked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(200))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    proof: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    join_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class CustomerMerge(Base):
    """What one merge moved, so that it can be undone exactly."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    identity_ids: Mapped[list[int]] = mapped_column(JSONData, default=list)
    ticket_ids: Mapped[list[int]] = mapped_column(JSONData, default=list)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CustomerJoin(Base):
    """Two profiles found to share an e-mail address or a phone number, and what became of it:
    suggested to an agent, joined (the merge), dismissed, or undone (domain/customer_joins.py).
    One row per pair of customers (``customer_a_id`` < ``customer_b_id``)."""

    __tablename__ = "customer_joins"
    __table_args__ = (UniqueConstraint("customer_a_id", "customer_b_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_a_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    customer_b_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONData, default=dict)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    merge_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_merges.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContactVerification(Base):
    """A code kefu sent to an e-mail address (or asked the customer to text from a phone), waiting
    for the customer to send it back on their conversation: the proof that they hold it."""

    __tablename__ = "contact_verifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    checked_message_id: Mapped[int] = mapped_column(BigId, default=0)  # read up to this message
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)  # wrong codes sent back
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
