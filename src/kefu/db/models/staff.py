"""Staff: users (agents and their managers), groups, login sessions and API tokens; and the
integrations that deliver customer messages with tokens of their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.db.base import Base, BigId, JSONData, UTCDateTime, utcnow

group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # A password someone else set (generated, or an admin's): the first sign-in may only change
    # it, and after temporary_password_expires_at it signs in no more (services/staff/auth.py).
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    temporary_password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    online: Mapped[bool] = mapped_column(Boolean, default=False)  # takes new cases now (presence)
    # Live-chat status (domain/chat_offers.AgentStatus: online, busy, break, offline) and since when.
    status: Mapped[str] = mapped_column(String(10), default="offline")
    status_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skills: Mapped[list[str]] = mapped_column(JSONData, default=list)  # "lang:en", "product:家电"
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    groups: Mapped[list[Group]] = relationship(
        secondary=group_members, back_populates="members", order_by="Group.id"
    )


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    # Working hours (domain/business_calendar.py as JSON); None: the default calendar.
    calendar: Mapped[dict[str, Any] | None] = mapped_column(JSONData)
    assign_mode: Mapped[str] = mapped_column(String(20), default="least_loaded")  # or round_robin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", order_by="User.id"
    )


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored (the token itself has 256 bits)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginSession(Base):
    """A browser session behind the session cookie; the cookie value is stored hashed."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    # When the session was last used, to the minute (services/staff/sessions.py): it ends after
    # KEFU_SESSION_IDLE_MINUTES without use. None: not since it was opened.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class StaffTwoFactor(Base):
    """A staff member's TOTP secret (sealed with the secret key, services/infra/secret_box.py);
    ``enabled_at`` None while the enrolment waits for its first code. ``last_step`` is the time
    step of the last code accepted: a code is never accepted twice."""

    __tablename__ = "staff_two_factor"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret_sealed: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class StaffRecoveryCode(Base):
    """One single-use recovery code of a staff member's two-factor sign-in, stored as SHA-256."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordResetToken(Base):
    """The one live password-reset link of a user (a new request replaces it); only the token's
    SHA-256 is stored, and the row is deleted when the link is used."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Integration(Base):
    """A system that delivers customer messages (a mail gateway, a WeChat bridge, a web form):
    it may only post to /api/v1/inbound, for its channels. Only its token's SHA-256 is stored."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSONData, default=list)  # "api", "email", …
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Where agents' replies to its tickets are posted (signed with the callback secret, stored
    # sealed: services/infra/secret_box.py); None: nowhere.
    callback_url: Mapped[str | None] = mapped_column(String(500))
    callback_secret_sealed: Mapped[str | None] = mapped_column(Text)
    # Where kefu asks for an order by its number (signed like callbacks; docs/order-lookup.md).
    order_lookup_url: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
